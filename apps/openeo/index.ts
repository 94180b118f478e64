import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../../config/catalog";
import { tlsIngress } from "../ingress";
import { placement, podPlacement } from "../placement";
import { AppArgs, bucketFor, childOptions, needObjectStorage, resources, s3CredentialEnv, splitImage } from "../types";
import { zookeeper } from "./zookeeper";
import { catalogRelease, ReleaseValues } from "../../platform/release";

const CHART = CHARTS.openeo;
/** Release name = SparkApplication name; the driver pod is labelled `<release>-driver`. */
const RELEASE = "openeo";
const SERVICE_ACCOUNT = "openeo";
const API_PORT = 50001;
const ZK_JOBS_ROOT = "/openeo/jobs";
/** The geotrellis image's entry point (see the chart's README for this image line). */
const MAIN_APPLICATION = "local:///opt/openeo/lib64/python3.8/site-packages/openeogeotrellis/deploy/kube.py";

/** Env shared by the driver, its executors and the job tracker: ZooKeeper and the object store, secrets by reference. */
function commonEnv(args: AppArgs, zookeeperNodes: string) {
    const storage = needObjectStorage("openeo", args.binding);
    return [
        { name: "ZOOKEEPERNODES", value: zookeeperNodes },
        { name: "BATCH_JOBS_ZOOKEEPER_ROOT_PATH", value: ZK_JOBS_ROOT },
        // openEO's S3 client takes the endpoint from SWIFT_URL.
        { name: "SWIFT_URL", value: storage.endpoint },
        { name: "AWS_REGION", value: storage.region },
        { name: "OPENEO_S3_BUCKET_NAME", value: bucketFor("openeo", storage, "results") },
        ...s3CredentialEnv(storage),
    ];
}

/** VITO sparkapplication chart values; exported for tests. */
export function openeoValues(args: AppArgs, zookeeperNodes: string): ReleaseValues<typeof CHART> {
    const image = splitImage(args.config.apps.openeo.image);
    const { affinity } = placement(args.config, CHART.nodeGroup);
    return {
        image: image.name,
        imageVersion: image.tag,
        mainApplicationFile: MAIN_APPLICATION,
        sparkVersion: "3.2.0",
        rbac: { create: false, serviceAccountDriver: SERVICE_ACCOUNT, serviceAccountExecutor: SERVICE_ACCOUNT },
        global: { extraEnv: commonEnv(args, zookeeperNodes) },
        driver: {
            affinity,
            extraEnv: [
                { name: "KUBE", value: "true" },
                { name: "KUBE_OPENEO_API_PORT", value: String(API_PORT) },
            ],
        },
        executor: { affinity },
        restartPolicy: { type: "Always" },
    };
}

/** openEO geotrellis backend: ZooKeeper, the driver SparkApplication, its job tracker and a TLS ingress. */
export class OpenEo extends pulumi.ComponentResource {
    constructor(name: string, args: AppArgs & { sparkOperator: pulumi.Resource }, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:apps:OpenEo", name, {}, opts);
        const { config, platform, binding } = args;
        const namespace = binding.namespace;
        const o = childOptions(this, args);
        const zk = zookeeper(this, args);

        // The driver creates batch-job SparkApplications, their pods and services.
        const sa = new k8s.core.v1.ServiceAccount(SERVICE_ACCOUNT, { metadata: { name: SERVICE_ACCOUNT, namespace } }, o);
        const role = new k8s.rbac.v1.Role(
            SERVICE_ACCOUNT,
            {
                metadata: { name: SERVICE_ACCOUNT, namespace },
                rules: [
                    {
                        apiGroups: [""],
                        resources: ["pods", "services", "configmaps", "persistentvolumeclaims"],
                        verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "watch"],
                    },
                    { apiGroups: ["sparkoperator.k8s.io"], resources: ["sparkapplications"], verbs: ["create", "delete", "get", "list", "watch"] },
                ],
            },
            o,
        );
        const binding_ = new k8s.rbac.v1.RoleBinding(
            SERVICE_ACCOUNT,
            {
                metadata: { name: SERVICE_ACCOUNT, namespace },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace }],
            },
            o,
        );
        const release = catalogRelease(
            name,
            CHART,
            namespace,
            openeoValues(args, zk.connect),
            { ...o, dependsOn: [...(o.dependsOn as pulumi.Resource[]), args.sparkOperator, binding_, ...zk.resources] },
            RELEASE,
        );
        const service = new k8s.core.v1.Service(
            `${name}-api`,
            {
                metadata: { name: RELEASE, namespace },
                spec: { selector: { "app.kubernetes.io/name": `${RELEASE}-driver` }, ports: [{ name: "http", port: API_PORT, targetPort: API_PORT }] },
            },
            { ...o, dependsOn: [...(o.dependsOn as pulumi.Resource[]), release] },
        );
        tlsIngress(`${name}-api`, { platform, namespace, service: "openeo", backendService: service.metadata.name, backendPort: API_PORT }, o);

        // Polls running batch jobs and records their state in ZooKeeper.
        new k8s.batch.v1.CronJob(
            `${name}-job-tracker`,
            {
                metadata: { name: "openeo-job-tracker", namespace },
                spec: {
                    schedule: "*/2 * * * *",
                    concurrencyPolicy: "Forbid",
                    jobTemplate: {
                        spec: {
                            backoffLimit: 1,
                            template: {
                                spec: {
                                    ...podPlacement(config, CHART.nodeGroup),
                                    serviceAccountName: sa.metadata.name,
                                    restartPolicy: "Never",
                                    containers: [
                                        {
                                            name: "job-tracker",
                                            image: config.apps.openeo.image,
                                            command: ["python3", "-m", "openeogeotrellis.job_tracker"],
                                            env: commonEnv(args, zk.connect),
                                            resources: resources("100m", "512Mi", "1", "1Gi"),
                                        },
                                    ],
                                },
                            },
                        },
                    },
                },
            },
            { ...o, dependsOn: [...(o.dependsOn as pulumi.Resource[]), ...zk.resources] },
        );
        this.registerOutputs({});
    }
}
