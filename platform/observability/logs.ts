import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../../config/catalog";
import { GeoplatformConfig, NODE_GROUP_LABEL, PlatformConfig } from "../../config/types";
import { catalogRelease } from "../release";
import { SYSTEM } from "../placement";

/** Loki's bucket in the platform's object storage, and the S3 user that may use it (platform/index.ts). */
export const LOKI_BUCKET = "loki-chunks";
export const LOKI_S3_USER = "loki";
/** The Secret (in the logging namespace) with the loki user's S3 keys, as environment variables. */
export const LOKI_S3_SECRET = "loki-s3";

/**
 * Where Grafana and Alloy reach Loki: the single binary's Service (loki 18.11.0
 * templates/monolithic/service.yaml, named by loki.fullname = the release name
 * "loki"), HTTP port 3100 (loki.server.http_listen_port). No gateway: Loki runs
 * single-tenant (auth_enabled false) and only Grafana and Alloy talk to it.
 */
export const LOKI_URL = `http://loki.${CHARTS.loki.namespace}.svc:3100`;

/** Labels every log stream carries, set by Alloy from Kubernetes discovery. */
export const LOG_LABELS = ["namespace", "pod", "container", "node", "node_group", "app"] as const;

/**
 * The pod label naming the platform user a workload belongs to, for pods that z2jh does not label: a
 * SparkApplication with it in metadata.labels passes it to its driver and executor pods (the operator adds the
 * application's labels as spark.kubernetes.driver/executor.label.* at submission), spec.driver/executor.labels
 * do the same. A convention, set by whoever submits: nothing checks it is the submitter's own name.
 */
export const POD_USER_LABEL = "geoplatform.io/user";

/**
 * Where Alloy finds a log stream's `user` label, first found wins: notebook servers carry their user as
 * z2jh/KubeSpawner labels them (jupyterhub/kubespawner 7 spawner.py _build_common_labels:
 * hub.jupyter.org/username = safe_slug(user.name), the name itself when it is a valid label value), other
 * pods POD_USER_LABEL. Argo workflow pods carry their workflow's name (workflows.argoproj.io/workflow), kept as
 * `workflow`: the creator labels Argo's server sets stay on the Workflow object, not on its pods.
 */
export const USER_LABEL_SOURCES = ["hub.jupyter.org/username", POD_USER_LABEL] as const;
export const WORKFLOW_POD_LABEL = "workflows.argoproj.io/workflow";

/** Prometheus relabels Kubernetes label names to [a-zA-Z0-9_] (prometheus/prometheus util/strutil SanitizeLabelName). */
const metaLabel = (label: string) => label.replace(/[^a-zA-Z0-9_]/g, "_");

/**
 * Alloy's pipeline on each node: discover the pods of its own node (field
 * selector spec.nodeName, NODE_NAME from the downward API) with their node's
 * labels (attach_metadata node: grafana/alloy v1.18.1
 * internal/component/discovery/kubernetes/kubernetes.go AttachMetadataConfig,
 * which adds __meta_kubernetes_node_label_* to pod targets in Prometheus'
 * discovery), keep namespace, pod, container, node and node group as labels,
 * and tail the containers through the Kubernetes API (loki.source.kubernetes,
 * RBAC pods/log in the chart's default rules): no hostPath mount of
 * /var/log/pods, which the no-host-access policy refuses to collectors.
 */
export function alloyConfig(): string {
    const group = `__meta_kubernetes_node_label_${metaLabel(NODE_GROUP_LABEL)}`;
    // With a regex that needs a value, an absent source leaves the target as it is (Prometheus relabel "replace").
    const rule = (source: string, target: string, regex?: string) =>
        `  rule {\n    source_labels = ["${source}"]\n${regex ? `    regex         = "${regex}"\n` : ""}    target_label  = "${target}"\n  }`;
    const podLabel = (label: string) => `__meta_kubernetes_pod_label_${metaLabel(label)}`;
    return [
        `discovery.kubernetes "pods" {`,
        `  role = "pod"`,
        `  selectors {`,
        `    role  = "pod"`,
        `    field = "spec.nodeName=" + sys.env("NODE_NAME")`,
        `  }`,
        `  attach_metadata {`,
        `    node = true`,
        `  }`,
        `}`,
        ``,
        `discovery.relabel "pods" {`,
        `  targets = discovery.kubernetes.pods.targets`,
        // Pending pods have no logs yet. Ended pods (Succeeded, Failed) stay: the API serves their logs until the pod is
        // deleted, and a failed job's last lines are the ones wanted most.
        `  rule {`,
        `    source_labels = ["__meta_kubernetes_pod_phase"]`,
        `    regex         = "Pending|Unknown"`,
        `    action        = "drop"`,
        `  }`,
        rule("__meta_kubernetes_namespace", "namespace"),
        rule("__meta_kubernetes_pod_name", "pod"),
        rule("__meta_kubernetes_pod_container_name", "container"),
        rule("__meta_kubernetes_pod_node_name", "node"),
        rule(group, "node_group"),
        rule("__meta_kubernetes_pod_label_app_kubernetes_io_name", "app"),
        // Later sources first, so the earlier one wins where a pod has both.
        ...[...USER_LABEL_SOURCES].reverse().map((label) => rule(podLabel(label), "user", "(.+)")),
        rule(podLabel(WORKFLOW_POD_LABEL), "workflow"),
        `}`,
        ``,
        `loki.source.kubernetes "pods" {`,
        `  targets    = discovery.relabel.pods.output`,
        `  forward_to = [loki.write.default.receiver]`,
        `}`,
        ``,
        `loki.write "default" {`,
        `  endpoint {`,
        `    url = "${LOKI_URL}/loki/api/v1/push"`,
        `  }`,
        `}`,
        ``,
    ].join("\n");
}

/** Loki keeps `retention` (whole days or weeks, validated) as hours, its duration unit for retention_period. */
export function retentionHours(retention: string): string {
    const n = Number(retention.slice(0, -1));
    return `${retention.endsWith("w") ? n * 7 * 24 : n * 24}h`;
}

export interface LogsArgs {
    namespace: pulumi.Input<string>;
    settings: PlatformConfig["logs"];
    config: GeoplatformConfig;
    storageClass: string;
    /** The object storage: its S3 endpoint and region, and the Secret with the loki user's keys (already in this namespace). */
    objectStorage: { endpoint: string; region: string; credentials: pulumi.Resource; ready: pulumi.Resource };
    /** kube-prometheus-stack: the ServiceMonitor and PrometheusRule CRDs Loki's chart creates objects of. */
    monitoringReady: pulumi.Resource;
}

/**
 * Logs: Loki in monolithic mode (its chunks and index in object storage, a
 * small volume per replica for the write-ahead log), replicated across system
 * nodes in HA stacks, and Grafana Alloy on every node, processing nodes
 * included, shipping every container's log lines with Kubernetes labels.
 */
export class Logs extends pulumi.ComponentResource {
    readonly loki: pulumi.Resource;
    readonly alloy: pulumi.Resource;

    constructor(name: string, args: LogsArgs, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:Logs", name, {}, opts);
        const { settings } = args;
        // Each stream is written to replication_factor ingesters; with one replica there is one copy (plus the WAL).
        const replication = Math.min(settings.replicas, 3);
        const host = args.objectStorage.endpoint.replace(/^https?:\/\//, "");
        // Loki 18.11.0's values.schema.json opens loki.storage and loki.limits_config (additionalProperties: true), which the
        // generated values types (scripts/chart-types.ts) do not model: bucketNames and retention_period are passed as
        // non-literal objects; test:charts' dead-key check shows the chart reads them.
        const storage = {
            type: "s3",
            bucketNames: { chunks: LOKI_BUCKET, ruler: LOKI_BUCKET },
            s3: {
                endpoint: host,
                region: args.objectStorage.region,
                // Expanded by Loki from the environment (the chart always passes -config.expand-env=true): the keys stay in the Secret.
                accessKeyId: "${AWS_ACCESS_KEY_ID}",
                secretAccessKey: "${AWS_SECRET_ACCESS_KEY}",
                s3ForcePathStyle: true,
                insecure: args.objectStorage.endpoint.startsWith("http://"),
            },
        };
        // reject_old_samples restates the chart's default (a type with no other key in common is refused by tsc).
        const limits = { reject_old_samples: true, retention_period: retentionHours(settings.retention) };
        this.loki = catalogRelease(
            "loki",
            CHARTS.loki,
            args.namespace,
            {
                deploymentMode: "Monolithic",
                loki: {
                    auth_enabled: false,
                    commonConfig: { replication_factor: replication },
                    // tsdb + schema v13, the only schema the compactor's retention supports (Loki docs, operations/storage/retention).
                    schemaConfig: {
                        configs: [{ from: "2026-01-01", store: "tsdb", object_store: "s3", schema: "v13", index: { prefix: "index_", period: "24h" } }],
                    },
                    storage,
                    // The compactor deletes chunks older than retention_period (Loki pkg/compactor/retention).
                    compactor: { retention_enabled: true, delete_request_store: "s3" },
                    limits_config: limits,
                },
                singleBinary: {
                    replicas: settings.replicas,
                    nodeSelector: SYSTEM,
                    // The sidecar loads Loki ruler rules from ConfigMaps; there are none (alerts are Prometheus rules).
                    sidecar: false,
                    extraEnvFrom: [{ secretRef: { name: LOKI_S3_SECRET } }],
                    resources:
                        settings.replicas > 1
                            ? { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "4Gi" } }
                            : { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "2Gi" } },
                    persistence: { storageClass: args.storageClass, size: `${settings.storageGb}Gi` },
                },
                // Monolithic: no simple-scalable targets.
                read: { replicas: 0 },
                write: { replicas: 0 },
                backend: { replicas: 0 },
                // Only Grafana and Alloy talk to Loki, in the cluster: no nginx gateway, no canary or Helm test pods.
                gateway: { enabled: false },
                lokiCanary: { enabled: false },
                test: { enabled: false },
                // Memcached caches are sized for large installs (8 GiB chunks cache by default); queries read object storage.
                chunksCache: { enabled: false },
                resultsCache: { enabled: false },
                // The chart's own ServiceMonitor, Loki alerts and dashboards (ConfigMaps labelled grafana_dashboard: "1", which Grafana's sidecar loads).
                monitoring: {
                    serviceMonitor: { enabled: true },
                    alerts: { enabled: true },
                    dashboards: { enabled: true },
                },
            },
            { parent: this, dependsOn: [args.objectStorage.credentials, args.objectStorage.ready, args.monitoringReady] },
        );

        // Every configured taint, so the collector runs on every node group (processing included).
        const taints = Object.values(args.config.nodeGroups).flatMap((g) => g.taints);
        const tolerations = [...new Map(taints.map((t) => [`${t.key}=${t.value}:${t.effect}`, t])).values()].map((t) => ({
            key: t.key,
            operator: "Equal",
            value: t.value,
            effect: t.effect,
        }));
        this.alloy = catalogRelease(
            "alloy",
            CHARTS.alloy,
            args.namespace,
            {
                // The PodLogs CRD is for Alloy's podlogs component, which is not used.
                crds: { create: false },
                alloy: {
                    configMap: { content: alloyConfig() },
                    extraEnv: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
                    enableReporting: false,
                    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                },
                configReloader: { resources: { requests: { cpu: "10m", memory: "50Mi" }, limits: { memory: "64Mi" } } },
                controller: {
                    type: "daemonset",
                    tolerations,
                    // Every named node group, so the collector stays on the platform's nodes (and the placement policy sees its groups).
                    affinity: {
                        nodeAffinity: {
                            requiredDuringSchedulingIgnoredDuringExecution: {
                                nodeSelectorTerms: [
                                    { matchExpressions: [{ key: NODE_GROUP_LABEL, operator: "In", values: Object.keys(args.config.nodeGroups) }] },
                                ],
                            },
                        },
                    },
                },
                serviceMonitor: { enabled: true },
            },
            { parent: this, dependsOn: [this.loki, args.monitoringReady] },
        );
        this.registerOutputs({});
    }
}
