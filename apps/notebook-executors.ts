import { CHARTS } from "../config/catalog";
import { GeoplatformConfig } from "../config/types";
import { NOTEBOOK_EXECUTOR_NAMESPACE_LABEL, podSecurityLabels } from "../platform/namespaces";
import { flow, PODS, toMinio } from "../platform/network/flows";
import { NetworkModel, Pods, PolicySpec, tcp } from "../platform/network/model";
import { DNS_PORTS, KUBE_DNS, world } from "../platform/network/peers";
import { BLOCK_MANAGER_PORT, DRIVER_PORT, nodeNetworkCidr } from "./notebook-spark";

// Per-user Spark executor namespaces (issue 15): at each spawn the hub's pre-spawn hook creates, idempotently, the
// user's ServiceAccount in the hub's namespace and the user's executor namespace with a RoleBinding of the executor
// ClusterRole to that ServiceAccount and the namespace's NetworkPolicies (apps/jupyterhub-executors-hook.ts). The
// objects are rendered here, with placeholders the hook replaces (whole string values only), so tests see them.

/** The user's ServiceAccount in the hub's namespace: `<prefix><slug>`, set as the spawner's service_account. */
export const USER_SERVICE_ACCOUNT_PREFIX = "nb-";
/** The ClusterRole (NOTEBOOK_SPARK_RULES) each executor namespace binds to its user's ServiceAccount. */
export const EXECUTOR_CLUSTER_ROLE = "geoplatform-notebook-executors";
/** The RoleBinding's name in every executor namespace. */
export const EXECUTOR_ROLE_BINDING = "notebook-executors";
/** Environment variable of the notebook naming its executor namespace (images/notebook/geoplatform_spark.py). */
export const EXECUTOR_NAMESPACE_ENV = "NOTEBOOK_EXECUTOR_NAMESPACE";
/** Label on what the hook creates. */
export const HOOK_LABELS = { "app.kubernetes.io/managed-by": "geoplatform-jupyterhub-hook" };

/** Placeholders: the executor namespace, the user's ServiceAccount, the user's `hub.jupyter.org/username` pod label. */
export const TOKENS = { namespace: "$(NAMESPACE)", serviceAccount: "$(SERVICE_ACCOUNT)", usernameLabel: "$(USERNAME_LABEL)" } as const;

/** A Kubernetes object as the hook sends it (JSON). */
type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels: Record<string, string> } } & Record<string, unknown>;

export interface ExecutorObjects {
    namespace: Manifest;
    serviceAccount: Manifest;
    roleBinding: Manifest;
    networkPolicies: Manifest[];
}

/**
 * The executor namespace's NetworkPolicies, from the platform's network model: default deny, DNS, the user's own
 * notebook (driver RPC 7078 and block manager 7079, both ways for the block manager), shuffle between the
 * namespace's executors, MinIO, and the world on 443 (no private range, no metadata server). The notebook is selected
 * by KubeSpawner's `hub.jupyter.org/username` pod label (kubespawner 7.0.0 spawner.py _build_common_labels).
 */
export function executorNetworkPolicies(config: GeoplatformConfig, hubNamespace: string): PolicySpec[] {
    const executors: Pods = { namespace: TOKENS.namespace };
    const notebook: Pods = {
        namespace: hubNamespace,
        pods: { matchLabels: { ...PODS.singleuser.pods!.matchLabels, "hub.jupyter.org/username": TOKENS.usernameLabel } },
    };
    const model = new NetworkModel([TOKENS.namespace], [KUBE_DNS.namespace, hubNamespace, CHARTS.minio.namespace]);
    for (const f of [
        flow("executors-dns", executors, KUBE_DNS, DNS_PORTS, "name resolution (CoreDNS)"),
        flow("executors-to-notebook", executors, notebook, tcp(DRIVER_PORT, BLOCK_MANAGER_PORT), "executors call their driver back"),
        flow("notebook-to-executors", notebook, executors, tcp(BLOCK_MANAGER_PORT), "the driver fetches blocks from its executors"),
        flow("executors-internal", executors, executors, tcp(BLOCK_MANAGER_PORT), "shuffle between executors' block managers"),
        toMinio("executors", executors, "executors read and write the user's buckets"),
        flow("executors-to-world", executors, world(nodeNetworkCidr(config)), tcp(443), "executors read public data"),
    ])
        model.allow(f);
    return model.policies();
}

/** What the hook creates for one user, placeholders in place of the user's names. */
export function executorObjects(config: GeoplatformConfig, hubNamespace: string): ExecutorObjects {
    const labels = { ...HOOK_LABELS, "hub.jupyter.org/username": TOKENS.usernameLabel };
    return {
        namespace: {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: TOKENS.namespace, labels: { ...podSecurityLabels("restricted"), ...NOTEBOOK_EXECUTOR_NAMESPACE_LABEL, ...labels } },
        },
        serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: TOKENS.serviceAccount, namespace: hubNamespace, labels } },
        roleBinding: {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name: EXECUTOR_ROLE_BINDING, namespace: TOKENS.namespace, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: EXECUTOR_CLUSTER_ROLE },
            subjects: [{ kind: "ServiceAccount", name: TOKENS.serviceAccount, namespace: hubNamespace }],
        },
        networkPolicies: executorNetworkPolicies(config, hubNamespace).map((p) => ({
            apiVersion: "networking.k8s.io/v1",
            kind: "NetworkPolicy",
            metadata: { name: p.name, namespace: TOKENS.namespace, labels },
            spec: p.spec,
        })),
    };
}
