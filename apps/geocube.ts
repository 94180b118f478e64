import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PROCESSING_GROUP } from "../config/types";
import { podPlacement } from "./placement";
import { AppArgs, bucketFor, childOptions, needDatabase, needObjectStorage, resources, s3CredentialEnv, secretEnv } from "./types";

// Geocube as its deployment guide lays it out: apiserver, consolidater
// workers scaled by the autoscaler, and a Pub/Sub emulator as message bus.

const PUBSUB_PORT = 8085;
const API_PORT = 8080;
const PROJECT = "geocube";
const CONSOLIDATER = "geocube-consolidater";

/** Geocube (raw manifests): database on the shared PostgreSQL, storage in its bucket. */
export class Geocube extends pulumi.ComponentResource {
    constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:apps:Geocube", name, {}, opts);
        const { config, binding } = args;
        const images = config.apps.geocube;
        const namespace = binding.namespace;
        const db = needDatabase("geocube", binding);
        const storage = needObjectStorage("geocube", binding);
        const bucket = bucketFor("geocube", storage, "storage");
        const o = childOptions(this, args);
        const system = podPlacement(config, "system");
        const container = { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } };
        const deployment = (id: string, spec: { replicas: number; placement: object; serviceAccountName?: pulumi.Input<string>; containers: any[] }) => {
            const labels = { "app.kubernetes.io/name": id };
            return new k8s.apps.v1.Deployment(
                id,
                {
                    metadata: { name: id, namespace, labels },
                    spec: {
                        replicas: spec.replicas,
                        selector: { matchLabels: labels },
                        template: {
                            metadata: { labels },
                            spec: {
                                ...spec.placement,
                                ...(spec.serviceAccountName ? { serviceAccountName: spec.serviceAccountName } : {}),
                                securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
                                containers: spec.containers.map((c) => ({ ...container, ...c })),
                            },
                        },
                    },
                },
                o,
            );
        };
        const service = (id: string, port: number) =>
            new k8s.core.v1.Service(id, { metadata: { name: id, namespace }, spec: { selector: { "app.kubernetes.io/name": id }, ports: [{ name: "grpc", port, targetPort: port }] } }, o);

        // Pub/Sub emulator: carries ingestion events and consolidation jobs between the services.
        deployment("pubsub-emulator", {
            replicas: 1,
            placement: system,
            containers: [
                {
                    name: "pubsub-emulator",
                    image: images.pubsubEmulatorImage,
                    command: ["gcloud", "beta", "emulators", "pubsub", "start", `--host-port=0.0.0.0:${PUBSUB_PORT}`, `--project=${PROJECT}`],
                    ports: [{ containerPort: PUBSUB_PORT }],
                    resources: resources("100m", "256Mi", "500m", "512Mi"),
                },
            ],
        });
        service("pubsub-emulator", PUBSUB_PORT);
        const pubsubEnv = [
            { name: "PUBSUB_EMULATOR_HOST", value: `pubsub-emulator.${namespace}.svc:${PUBSUB_PORT}` },
            { name: "AWS_ENDPOINT_URL", value: storage.endpoint },
            { name: "AWS_REGION", value: storage.region },
            ...s3CredentialEnv(storage),
        ];
        // Geocube reads its DB password from a flag; Kubernetes expands $(DB_PASSWORD) from the Secret-backed env var.
        const dbEnv = [secretEnv("DB_PASSWORD", db.secretName, "password")];
        const dbArgs = [`-dbName=${db.database}`, `-dbUser=${db.username}`, "-dbPassword=$(DB_PASSWORD)", `-dbHost=${db.host}:${db.port}`];
        const pubsubArgs = [`-project=${PROJECT}`, "-psEventsTopic=events", "-psConsolidationsTopic=consolidations"];

        const apiserverSa = new k8s.core.v1.ServiceAccount("geocube-apiserver", { metadata: { name: "geocube-apiserver", namespace } }, o);
        deployment("geocube-apiserver", {
            replicas: 1,
            placement: system,
            serviceAccountName: apiserverSa.metadata.name,
            containers: [
                {
                    name: "apiserver",
                    image: images.apiserverImage,
                    args: [...dbArgs, ...pubsubArgs, `-ingestionStorage=s3://${bucket}/ingestion`, `-cancelledJobs=s3://${bucket}/cancelled-jobs`, `-port=${API_PORT}`],
                    env: [...dbEnv, ...pubsubEnv],
                    ports: [{ containerPort: API_PORT }],
                    resources: resources("250m", "512Mi", "2", "2Gi"),
                },
            ],
        });
        service("geocube-apiserver", API_PORT);

        // Consolidation is the heavy lifting: workers run on processing; the autoscaler sizes them by queue depth.
        deployment(CONSOLIDATER, {
            replicas: 0,
            placement: podPlacement(config, PROCESSING_GROUP),
            containers: [
                {
                    name: "consolidater",
                    image: images.consolidaterImage,
                    args: [...pubsubArgs, "-psConsolidationsSubscription=consolidations-worker", `-workdir=/tmp`, `-cancelledJobs=s3://${bucket}/cancelled-jobs`],
                    env: pubsubEnv,
                    resources: resources("1", "2Gi", "2", "8Gi"),
                },
            ],
        });
        const autoscalerSa = new k8s.core.v1.ServiceAccount("geocube-autoscaler", { metadata: { name: "geocube-autoscaler", namespace } }, o);
        const role = new k8s.rbac.v1.Role(
            "geocube-autoscaler",
            {
                metadata: { name: "geocube-autoscaler", namespace },
                rules: [
                    { apiGroups: ["apps"], resources: ["deployments", "deployments/scale", "replicasets"], verbs: ["get", "list", "watch", "update", "patch"] },
                    { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "delete"] },
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
            replicas: 1,
            placement: system,
            serviceAccountName: autoscalerSa.metadata.name,
            containers: [
                {
                    name: "autoscaler",
                    image: images.autoscalerImage,
                    args: [
                        `-project=${PROJECT}`,
                        "-psSubscription=consolidations-worker",
                        `-namespace=${namespace}`,
                        `-deployment=${CONSOLIDATER}`,
                        "-minRatio=1",
                        "-maxRatio=2",
                        "-minReplicas=0",
                        "-maxReplicas=10",
                    ],
                    env: pubsubEnv.filter((e) => e.name === "PUBSUB_EMULATOR_HOST"),
                    resources: resources("50m", "64Mi", "200m", "128Mi"),
                },
            ],
        });
        this.registerOutputs({});
    }
}
