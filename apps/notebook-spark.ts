import * as yaml from "js-yaml";
import { CHARTS } from "../config/catalog";
import { GeoplatformConfig, PROCESSING_GROUP } from "../config/types";
import { APP_NAMESPACES, NOTEBOOK_EXECUTOR_NAMESPACE_LABEL } from "../platform/namespaces";
import { AppObjectStorage } from "../platform/types";
import { placement } from "./placement";
import { asSparkProperties, renderSparkDefaults, s3aHadoopConf, SEDONA_CONF } from "./spark/defaults";
import { RESTRICTED_CONTAINER, restrictedPod } from "./types";

// Spark from a notebook, in client mode: the notebook's kernel is the driver, its executors run as pods in the
// user's own executor namespace (apps/notebook-executors.ts) on the processing nodes. Chosen over the operator's SparkConnect resource
// (sparkoperator.k8s.io/v1alpha1 in kubeflow/spark-operator v2.5.2, api/v1alpha1/sparkconnect_types.go): a
// Connect server is one shared driver with one object-store identity, while a client-mode driver runs as the
// user, with the user's own temporary credentials, and Sedona's full Python API (RDDs, SedonaContext) works.

/** Where the notebook image looks for spark-defaults.conf (SPARK_CONF_DIR) and the executor pod template. */
export const NOTEBOOK_SPARK_CONF_DIR = "/etc/geoplatform/spark";
export const NOTEBOOK_SPARK_CONFIGMAP = "notebook-spark-conf";
/** Fixed driver ports, so NetworkPolicies can let executors call back: RPC and block manager (also the executors' own). */
export const DRIVER_PORT = 7078;
export const BLOCK_MANAGER_PORT = 7079;
const EXECUTOR_CONTAINER = "spark-executor";
const SPARK_UID = 185;

/**
 * What client mode needs from the API, in the user's executor namespace only (a ClusterRole bound there by a RoleBinding): Spark's Kubernetes backend creates,
 * watches and deletes executor pods and the executors' ConfigMap (apache/spark v4.0.3
 * resource-managers/kubernetes/core: ExecutorPodsAllocator, KubernetesClusterSchedulerBackend setUpExecutorConfigMap).
 * No Secrets, no Services (client mode creates none), no other namespace.
 */
export const NOTEBOOK_SPARK_RULES = [
    { apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "list", "watch", "delete", "deletecollection"] },
    { apiGroups: [""], resources: ["configmaps"], verbs: ["create", "get", "list", "watch", "delete", "deletecollection"] },
];

/** The executor pod template: processing nodes (tolerations exist only in a template) and Pod Security "restricted". */
export function executorPodTemplate(config: GeoplatformConfig): string {
    const { nodeSelector, tolerations } = placement(config, PROCESSING_GROUP);
    return yaml.dump({
        apiVersion: "v1",
        kind: "Pod",
        spec: {
            nodeSelector,
            tolerations,
            // Executors never call the API.
            automountServiceAccountToken: false,
            securityContext: restrictedPod(SPARK_UID, SPARK_UID),
            containers: [{ name: EXECUTOR_CONTAINER, securityContext: RESTRICTED_CONTAINER }],
        },
    });
}

/**
 * spark-defaults.conf of every notebook: Sedona and S3A for a local session as for a cluster one, and the
 * Kubernetes settings a cluster session uses (the geoplatform_spark helper sets master, driver address and
 * the user's credentials and executor namespace at session start: images/notebook/geoplatform_spark.py). No
 * credential is written here. spark.authenticate: Spark generates one secret per application for a k8s:// or local
 * master and hands it to the executors as _SPARK_AUTH_SECRET in their pod spec (apache/spark core SecurityManager
 * initializeAuth/getSecretKey, resource-managers/kubernetes BasicExecutorFeatureStep; docs/security.md "Kubernetes"),
 * readable only in the user's own namespace; without it a peer reaching the driver's port may ask for the
 * application's config, S3 keys included (CoarseGrainedSchedulerBackend RetrieveSparkAppConfig). Crypto: AES over
 * that secret, no external shuffle service to be compatible with.
 */
export function notebookSparkDefaults(config: GeoplatformConfig, storage: Pick<AppObjectStorage, "endpoint" | "region">): Record<string, string> {
    return {
        ...SEDONA_CONF,
        ...asSparkProperties(s3aHadoopConf(storage)),
        "spark.authenticate": "true",
        "spark.network.crypto.enabled": "true",
        "spark.kubernetes.container.image": config.apps.spark.image,
        "spark.kubernetes.executor.podTemplateFile": `${NOTEBOOK_SPARK_CONF_DIR}/executor-template.yaml`,
        "spark.kubernetes.executor.podTemplateContainerName": EXECUTOR_CONTAINER,
        "spark.driver.port": String(DRIVER_PORT),
        "spark.driver.blockManager.port": String(BLOCK_MANAGER_PORT),
        "spark.blockManager.port": String(BLOCK_MANAGER_PORT),
        "spark.driver.bindAddress": "0.0.0.0",
    };
}

export function notebookSparkConfigMapData(config: GeoplatformConfig, storage: Pick<AppObjectStorage, "endpoint" | "region">): Record<string, string> {
    return { "spark-defaults.conf": renderSparkDefaults(notebookSparkDefaults(config, storage)), "executor-template.yaml": executorPodTemplate(config) };
}

/** The Kubernetes API as executors' pods see it: nodes' addresses on 6443 after the kubernetes Service's DNAT. */
export function nodeNetworkCidr(config: GeoplatformConfig): string {
    const cidr = config.openstack?.networkCidr ?? config.aws?.vpcCidr;
    if (!cidr)
        throw new Error(
            `apps: jupyterhub needs the node network's CIDR (openstack.networkCidr or aws.vpcCidr) for the notebooks' egress to the Kubernetes API`,
        );
    return cidr;
}

const namespaceSelector = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
/** Every user's executor namespace, by label: the hub creates them at spawn. */
const executorNamespaces = { namespaceSelector: { matchLabels: NOTEBOOK_EXECUTOR_NAMESPACE_LABEL } };

/**
 * Egress of notebook pods beyond z2jh's defaults (hub, proxy, DNS, public internet except the metadata
 * server; jupyterhub/zero-to-jupyterhub-k8s 4.4.0 templates/singleuser/netpol.yaml, _helpers-netpol.tpl).
 */
export function notebookEgress(config: GeoplatformConfig, geocube: boolean) {
    return [
        { to: [namespaceSelector(CHARTS.minio.namespace)], ports: [{ port: 9000, protocol: "TCP" }] },
        { to: [executorNamespaces], ports: [{ port: BLOCK_MANAGER_PORT, protocol: "TCP" }] },
        { to: [{ ipBlock: { cidr: nodeNetworkCidr(config) } }], ports: [{ port: 6443, protocol: "TCP" }] },
        ...(geocube ? [{ to: [namespaceSelector(APP_NAMESPACES.geocube)], ports: [{ port: 8080, protocol: "TCP" }] }] : []),
    ];
}

/**
 * Ingress to notebook pods: their executors call the driver back. From every executor namespace: each one's own
 * egress (written by the hub, not its user) reaches its user's notebook only, and the driver refuses any peer
 * without its application's secret (spark.authenticate above).
 */
export function notebookIngress() {
    return [
        {
            from: [executorNamespaces],
            ports: [
                { port: DRIVER_PORT, protocol: "TCP" },
                { port: BLOCK_MANAGER_PORT, protocol: "TCP" },
            ],
        },
    ];
}
