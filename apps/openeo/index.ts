import * as k8s from "../../platform/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../../config/catalog";
import { NODE_GROUP_LABEL, PROCESSING_GROUP } from "../../config/types";
import { tlsIngress } from "../ingress";
import { placement, podPlacement } from "../placement";
import { AppArgs, bucketFor, childOptions, needObjectStorage, needOidc, resources, s3CredentialEnv, splitImage } from "../types";
import { zookeeper } from "./zookeeper";
import { SPARK_PROMETHEUS_CONF } from "../../platform/observability/monitors";
import { catalogRelease, ReleaseValues } from "../../platform/release";
import { BACKEND_CONFIG_PATH, backendConfigPy, BATCH_TEMPLATE_PATH, batchJobTemplate, LAYER_CATALOG_PATH, layerCatalogJson, SITE_PACKAGES } from "./files";

const CHART = CHARTS.openeo;
/** Release name = SparkApplication name; the driver pod is labelled `<release>-driver`. */
const RELEASE = "openeo";
/** The chart's name prefix for its ConfigMaps (fullnameOverride): `openeo-backend-config`, `openeo-layercatalog`. */
const FULLNAME = "openeo";
export const BACKEND_CONFIGMAP = `${FULLNAME}-backend-config`;
export const LAYER_CATALOG_CONFIGMAP = `${FULLNAME}-layercatalog`;
export const BATCH_TEMPLATE_CONFIGMAP = "openeo-batch-job-template";
/** The web app's driver and executors. */
export const SERVICE_ACCOUNT = "openeo";
/** Batch jobs' drivers (they create their executors). */
export const BATCH_SERVICE_ACCOUNT = "openeo-batch-jobs";
export const JOB_TRACKER_SERVICE_ACCOUNT = "openeo-job-tracker";
/** Repository path of the post-renderer that lets the chart's pods onto processing (see the script). */
export const OPENEO_POSTRENDER = "apps/openeo/postrender.js";
const API_PORT = 50001;
const ZK_JOBS_ROOT = "/openeo/jobs";
const MAIN_APPLICATION = `local://${SITE_PACKAGES}/openeogeotrellis/deploy/kube.py`;
/** The public realm client users log in with (platform/index.ts APP_NEEDS.openeo). */
export const OPENEO_CLIENT_ID = "openeo";

/**
 * Env shared by the web app's driver and executors and the job tracker: ZooKeeper and the object store, keys by
 * reference. Names as openeo-geopyspark-driver reads them: SWIFT_URL (utils.py s3_client endpoint_url),
 * SWIFT_BUCKET (config.py s3_bucket_name), AWS_* for GDAL's /vsis3/, KUBE (configparams.py is_kube_deploy).
 */
export function openeoEnv(args: AppArgs, zookeeperNodes: string) {
    const storage = needObjectStorage("openeo", args.binding);
    const endpoint = new URL(storage.endpoint);
    return [
        { name: "KUBE", value: "true" },
        { name: "ZOOKEEPERNODES", value: zookeeperNodes },
        { name: "BATCH_JOBS_ZOOKEEPER_ROOT_PATH", value: ZK_JOBS_ROOT },
        { name: "OPENEO_CATALOG_FILES", value: LAYER_CATALOG_PATH },
        { name: "SWIFT_URL", value: storage.endpoint },
        { name: "SWIFT_BUCKET", value: bucketFor("openeo", storage, "results") },
        { name: "AWS_S3_ENDPOINT", value: endpoint.host },
        { name: "AWS_HTTPS", value: endpoint.protocol === "https:" ? "TRUE" : "FALSE" },
        { name: "AWS_VIRTUAL_HOSTING", value: "FALSE" },
        { name: "AWS_REGION", value: storage.region },
        ...s3CredentialEnv(storage),
    ];
}

/** VITO sparkapplication chart values; exported for tests. */
export function openeoValues(args: AppArgs, zookeeperNodes: string): ReleaseValues<typeof CHART> {
    const image = splitImage(args.config.apps.openeo.image);
    const oidc = needOidc("openeo", args.binding);
    // The API and its executors run on processing; apps/openeo/postrender.js adds the toleration the chart cannot template.
    const { affinity } = placement(args.config, PROCESSING_GROUP);
    return {
        image: image.name,
        imageVersion: image.tag,
        mainApplicationFile: MAIN_APPLICATION,
        sparkVersion: "3.2.0",
        fullnameOverride: FULLNAME,
        // The chart renders and mounts configMaps.* only with existingConfigMaps false (templates/configmap_*.yaml).
        existingConfigMaps: false,
        configMaps: {
            backendConfig: backendConfigPy(oidc.issuerUrl, OPENEO_CLIENT_ID),
            layerCatalog: layerCatalogJson(args.config.apps.openeo.stacCollection),
        },
        // The chart's customBatchConfig mounts under /opt/venv, not where this image keeps the package: our own mount.
        volumes: [{ name: "batch-job-template", configMap: { name: BATCH_TEMPLATE_CONFIGMAP } }],
        rbac: { create: false, serviceAccountDriver: SERVICE_ACCOUNT, serviceAccountExecutor: SERVICE_ACCOUNT },
        global: { extraEnv: openeoEnv(args, zookeeperNodes) },
        driver: {
            affinity,
            extraEnv: [{ name: "KUBE_OPENEO_API_PORT", value: String(API_PORT) }],
            volumeMounts: [{ name: "batch-job-template", mountPath: BATCH_TEMPLATE_PATH, subPath: "sparkapplication.yaml.j2" }],
        },
        executor: { affinity },
        restartPolicy: { type: "Always" },
        // The driver's PrometheusServlet on its UI port, scraped by the openeo PodMonitor. Not the chart's JMX exporter
        // (jmxExporterJar, spec.monitoring): that needs the agent jar in the pinned image, which cannot be checked here.
        sparkConf: SPARK_PROMETHEUS_CONF,
    };
}

/** A ServiceAccount with a namespaced Role of `rules`, bound. */
function serviceAccountWithRole(name: string, namespace: string, rules: k8s.types.input.rbac.v1.PolicyRule[], o: pulumi.CustomResourceOptions) {
    const sa = new k8s.core.v1.ServiceAccount(name, { metadata: { name, namespace } }, o);
    const role = new k8s.rbac.v1.Role(name, { metadata: { name, namespace }, rules }, o);
    const binding = new k8s.rbac.v1.RoleBinding(
        name,
        {
            metadata: { name, namespace },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace }],
        },
        o,
    );
    return { sa, binding };
}

/** A Spark driver creates its executors (pods), their config (configmaps), services and on-demand volumes. */
const SPARK_DRIVER_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
    { apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "watch"] },
    {
        apiGroups: [""],
        resources: ["services", "configmaps", "persistentvolumeclaims"],
        verbs: ["create", "delete", "deletecollection", "get", "list", "watch"],
    },
];

/** openEO geotrellis backend: ZooKeeper, the API SparkApplication, batch jobs, the job tracker and a TLS ingress. */
export class OpenEo extends pulumi.ComponentResource {
    constructor(name: string, args: AppArgs & { sparkOperator: pulumi.Resource }, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:apps:OpenEo", name, {}, opts);
        const { config, platform, binding } = args;
        const namespace = binding.namespace;
        const storage = needObjectStorage("openeo", binding);
        const o = childOptions(this, args);
        const zk = zookeeper(this, args);

        // The API reads its own pod (the batch image), starts batch jobs as SparkApplications and deletes them (backend.py).
        const api = serviceAccountWithRole(
            SERVICE_ACCOUNT,
            namespace,
            [
                ...SPARK_DRIVER_RULES,
                { apiGroups: ["sparkoperator.k8s.io"], resources: ["sparkapplications"], verbs: ["create", "delete", "get", "list", "watch"] },
            ],
            o,
        );
        const batch = serviceAccountWithRole(BATCH_SERVICE_ACCOUNT, namespace, SPARK_DRIVER_RULES, o);
        // job_tracker_v2's K8sStatusGetter reads each job's SparkApplication (get_namespaced_custom_object).
        const tracker = serviceAccountWithRole(
            JOB_TRACKER_SERVICE_ACCOUNT,
            namespace,
            [{ apiGroups: ["sparkoperator.k8s.io"], resources: ["sparkapplications"], verbs: ["get", "list"] }],
            o,
        );

        const processing = placement(config, PROCESSING_GROUP);
        const template = new k8s.core.v1.ConfigMap(
            BATCH_TEMPLATE_CONFIGMAP,
            {
                metadata: { name: BATCH_TEMPLATE_CONFIGMAP, namespace },
                data: {
                    "sparkapplication.yaml.j2": batchJobTemplate({
                        serviceAccount: BATCH_SERVICE_ACCOUNT,
                        backendConfigMap: BACKEND_CONFIGMAP,
                        layerCatalogMap: LAYER_CATALOG_CONFIGMAP,
                        s3: { secretName: storage.secretName, endpoint: storage.endpoint, region: storage.region },
                        tolerations: processing.tolerations,
                        nodeGroupLabel: NODE_GROUP_LABEL,
                        nodeGroup: PROCESSING_GROUP,
                    }),
                },
            },
            o,
        );
        const release = catalogRelease(
            name,
            CHART,
            namespace,
            openeoValues(args, zk.connect),
            { ...o, dependsOn: [...(o.dependsOn as pulumi.Resource[]), args.sparkOperator, api.binding, batch.binding, template, ...zk.resources] },
            RELEASE,
            OPENEO_POSTRENDER,
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

        // job_tracker_v2 (openeogeotrellis/job_tracker_v2.py CliApp): polls the batch jobs' SparkApplications in
        // POD_NAMESPACE and records their state in the ZooKeeper job registry. It reads the backend config too.
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
                            activeDeadlineSeconds: 600,
                            template: {
                                spec: {
                                    ...podPlacement(config, CHART.nodeGroup),
                                    serviceAccountName: tracker.sa.metadata.name,
                                    restartPolicy: "Never",
                                    containers: [
                                        {
                                            name: "job-tracker",
                                            image: config.apps.openeo.image,
                                            command: [
                                                "/opt/openeo/bin/python3",
                                                "-m",
                                                "openeogeotrellis.job_tracker_v2",
                                                "--app-cluster",
                                                "k8s",
                                                "--basic-logging",
                                            ],
                                            env: [
                                                ...openeoEnv(args, zk.connect),
                                                { name: "POD_NAMESPACE", value: namespace },
                                                { name: "OPENEO_BACKEND_CONFIG", value: BACKEND_CONFIG_PATH },
                                            ],
                                            resources: resources("100m", "512Mi", "1", "1Gi"),
                                            volumeMounts: [
                                                { name: "backend-config", mountPath: BACKEND_CONFIG_PATH, subPath: "backendconfig.py", readOnly: true },
                                            ],
                                        },
                                    ],
                                    volumes: [{ name: "backend-config", configMap: { name: BACKEND_CONFIGMAP } }],
                                },
                            },
                        },
                    },
                },
            },
            { ...o, dependsOn: [...(o.dependsOn as pulumi.Resource[]), release, tracker.binding, ...zk.resources] },
        );
        this.registerOutputs({});
    }
}
