import * as k8s from "../../platform/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PROCESSING_GROUP } from "../../config/types";
import { podPlacement } from "../placement";
import { AppArgs, childOptions, needDatabase, needObjectStorage, resources, RESTRICTED_CONTAINER, restrictedPod, s3CredentialEnv, secretEnv } from "../types";
import { geocubeSchema } from "./schema";

// Geocube v1.0.3 as its Kubernetes guide lays it out (apiserver, consolidater
// ReplicationController, autoscaler), with the two choices its docs offer for
// running off Google Cloud: pgqueue on its PostgreSQL database as the message
// bus, and a shared volume as storage (its storage layer takes local paths or
// gs:// only, not s3://).

const API_PORT = 8080;
/** The consolidater reports its termination cost here; the autoscaler asks before it deletes a worker. */
const COST_PORT = 9000;
const CONSOLIDATER = "geocube-consolidater";
const STORAGE_MOUNT = "/geocube-storage";
const QUEUES = ["-eventsQueue=events", "-consolidationsQueue=consolidations"];
/**
 * Every Geocube pod runs as uid/gid 1000, so what one writes on the shared volume the others can rewrite. fsGroup does
 * not reach that volume: Longhorn's CSIDriver sets no fsGroupPolicy (longhorn-manager v1.12.1 csi/deployment.go), so
 * Kubernetes applies fsGroup to ReadWriteOnce volumes only. The volume is writable because Longhorn's share-manager
 * makes the export's root mode 0777 with no squashing (longhorn-share-manager v1.12.0 pkg/server/share_manager.go,
 * pkg/server/nfs/export.go). fsGroup still owns the emptyDirs.
 */
export const GEOCUBE_UID = 1000;
const podSecurity = { ...restrictedPod(GEOCUBE_UID, GEOCUBE_UID), runAsGroup: GEOCUBE_UID };

/** Geocube (raw manifests): database and job queue on the shared PostgreSQL, datasets on a shared Longhorn volume. */
export class Geocube extends pulumi.ComponentResource {
    constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:apps:Geocube", name, {}, opts);
        const { config, platform, binding } = args;
        const settings = config.apps.geocube;
        const namespace = binding.namespace;
        const db = needDatabase("geocube", binding);
        const storage = needObjectStorage("geocube", binding);
        const schema = geocubeSchema(this, args, db);
        const o = childOptions(this, args, [schema]);
        const system = podPlacement(config, "system");

        // Ingested and consolidated datasets, and the cancelled-jobs markers: written by the apiserver and the workers.
        const volume = new k8s.core.v1.PersistentVolumeClaim(
            "geocube-storage",
            {
                metadata: { name: "geocube-storage", namespace },
                spec: {
                    accessModes: ["ReadWriteMany"],
                    storageClassName: platform.storageClass,
                    resources: { requests: { storage: `${settings.storageGb}Gi` } },
                },
            },
            childOptions(this, args),
        );
        const storageVolume = { name: "storage", persistentVolumeClaim: { claimName: volume.metadata.name } };
        const storageMount = { name: "storage", mountPath: STORAGE_MOUNT };
        const storageArgs = { ingestion: `-ingestionStorage=${STORAGE_MOUNT}/datasets`, cancelledJobs: `-cancelledJobs=${STORAGE_MOUNT}/cancelled-jobs` };

        // Geocube's flags come from Go's flag package (cmd/server/main.go at v1.0.3), which reads no environment, so no
        // password goes in a flag: the connection URLs name no password, and lib/pq (v1.10.9, vendored) takes it from
        // PGPASSWORD, read from the Secret (conn.go parseEnviron; a URL password would override it). Nothing secret is on
        // a command line or in the pod spec.
        const dbEnv = [secretEnv("PGPASSWORD", db.secretName, "password")];
        const dbUrl = `postgresql://${db.username}@${db.host}:${db.port}/${db.database}`;
        // binary_parameters=yes: what pg.ConnStringFromId adds when Geocube builds the URL itself (interface/database/pg/pg.go).
        const dbConnection = `-dbConnection=${dbUrl}?binary_parameters=yes`;
        const pgqueue = `-pgqConnection=${dbUrl}`;
        // GDAL reads source datasets from the object store (s3://<bucket>/...).
        const gdalS3 = ["-with-s3", `-aws-endpoint=${storage.endpoint}`, `-aws-region=${storage.region}`];

        // One replica on system, restricted pod security: the apiserver and the autoscaler.
        const deployment = (id: string, podSpec: k8s.types.input.core.v1.PodSpec) => {
            const labels = { "app.kubernetes.io/name": id };
            new k8s.apps.v1.Deployment(
                id,
                {
                    metadata: { name: id, namespace, labels },
                    spec: {
                        replicas: 1,
                        selector: { matchLabels: labels },
                        template: { metadata: { labels }, spec: { ...system, securityContext: podSecurity, ...podSpec } },
                    },
                },
                o,
            );
            return labels;
        };

        const apiLabels = deployment("geocube-apiserver", {
            containers: [
                {
                    name: "apiserver",
                    image: settings.apiserverImage,
                    // The image's ENTRYPOINT, stated (docker/Dockerfile.server).
                    command: ["/server"],
                    args: [
                        dbConnection,
                        pgqueue,
                        ...QUEUES,
                        storageArgs.ingestion,
                        storageArgs.cancelledJobs,
                        "-maxConnectionAge=3600",
                        "-workers=1",
                        `-port=${API_PORT}`,
                        ...gdalS3,
                    ],
                    env: [...dbEnv, ...s3CredentialEnv(storage)],
                    ports: [{ name: "grpc", containerPort: API_PORT }],
                    resources: resources("250m", "512Mi", "2", "2Gi"),
                    securityContext: RESTRICTED_CONTAINER,
                    volumeMounts: [storageMount, { name: "tmp", mountPath: "/tmp" }],
                },
            ],
            volumes: [storageVolume, { name: "tmp", emptyDir: {} }],
        });
        new k8s.core.v1.Service(
            "geocube-apiserver",
            {
                metadata: { name: "geocube-apiserver", namespace },
                spec: { selector: apiLabels, ports: [{ name: "grpc", port: API_PORT, targetPort: "grpc" }] },
            },
            o,
        );

        // Workers on processing, at 0: the autoscaler creates their pods from this template by queue depth.
        const workerLabels = { "app.kubernetes.io/name": CONSOLIDATER };
        new k8s.core.v1.ReplicationController(
            CONSOLIDATER,
            {
                metadata: { name: CONSOLIDATER, namespace, labels: workerLabels },
                spec: {
                    replicas: 0,
                    selector: workerLabels,
                    template: {
                        metadata: { labels: workerLabels },
                        spec: {
                            ...podPlacement(config, PROCESSING_GROUP),
                            securityContext: podSecurity,
                            terminationGracePeriodSeconds: 5,
                            containers: [
                                {
                                    name: "consolidater",
                                    image: settings.consolidaterImage,
                                    // Upstream's image has no ENTRYPOINT (docker/Dockerfile.consolidater); its own manifest
                                    // starts /consolidater (deploy/k8s/consolidater/replication-controller.yaml). The
                                    // scratch emptyDir is per pod already, so no per-run workdir script is needed.
                                    command: ["/consolidater"],
                                    args: [pgqueue, ...QUEUES, "-workdir=/scratch", storageArgs.cancelledJobs, ...gdalS3],
                                    env: [...dbEnv, ...s3CredentialEnv(storage)],
                                    ports: [{ name: "cost", containerPort: COST_PORT }],
                                    resources: resources("1", "2Gi", "2", "8Gi"),
                                    securityContext: RESTRICTED_CONTAINER,
                                    volumeMounts: [storageMount, { name: "scratch", mountPath: "/scratch" }],
                                },
                            ],
                            volumes: [storageVolume, { name: "scratch", emptyDir: {} }],
                        },
                    },
                },
            },
            o,
        );

        // The autoscaler reads the ReplicationController's template and creates and deletes worker pods itself.
        const autoscalerSa = new k8s.core.v1.ServiceAccount("geocube-autoscaler", { metadata: { name: "geocube-autoscaler", namespace } }, o);
        const role = new k8s.rbac.v1.Role(
            "geocube-autoscaler",
            {
                metadata: { name: "geocube-autoscaler", namespace },
                rules: [
                    { apiGroups: [""], resources: ["replicationcontrollers"], verbs: ["get"] },
                    { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "create", "delete"] },
                ],
            },
            o,
        );
        new k8s.rbac.v1.RoleBinding(
            "geocube-autoscaler",
            {
                metadata: { name: "geocube-autoscaler", namespace },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: autoscalerSa.metadata.name, namespace }],
            },
            o,
        );
        deployment("geocube-autoscaler", {
            serviceAccountName: autoscalerSa.metadata.name,
            containers: [
                {
                    name: "autoscaler",
                    image: settings.autoscalerImage,
                    command: ["/autoscaler"],
                    args: [
                        "-update=30s",
                        `-pgq-connection=${dbUrl}`,
                        "-queue=consolidations",
                        `-rc=${CONSOLIDATER}`,
                        `-ns=${namespace}`,
                        "-ratio=1",
                        "-minratio=1",
                        "-step=4",
                        "-max=10",
                        "-min=0",
                        "-pod.cost.path=/termination_cost",
                        `-pod.cost.port=${COST_PORT}`,
                    ],
                    env: dbEnv,
                    resources: resources("50m", "64Mi", "200m", "128Mi"),
                    securityContext: RESTRICTED_CONTAINER,
                },
            ],
        });
        this.registerOutputs({});
    }
}
