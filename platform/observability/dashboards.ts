import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AppName } from "../../config/types";
import { NOTEBOOK_EXECUTOR_NAMESPACE_PREFIX } from "../namespaces";
import { monitorsFor } from "./monitors";

// Dashboards as code: small ones of our own, one per monitored component, and
// a job-logs dashboard (Loki's own come with its chart: monitoring.dashboards), provisioned by
// Grafana's dashboard sidecar, which loads every ConfigMap labelled
// grafana_dashboard: "1" in any namespace (kube-prometheus-stack 88.5.3
// values.yaml grafana.sidecar.dashboards: label, labelValue, searchNamespace ALL).

export const DASHBOARD_LABEL = { grafana_dashboard: "1" };
/** The datasources' uids: kube-prometheus-stack's Prometheus (grafana.sidecar.datasources.uid) and Loki (platform/monitoring.ts). */
export const DATASOURCES = { prometheus: "prometheus", loki: "loki" } as const;

interface Panel {
    title: string;
    expr: string;
    datasource?: keyof typeof DATASOURCES;
    /** `logs` shows log lines; `timeseries` plots the query. */
    type?: "timeseries" | "logs";
}

/** Per component: what to look at first (each query reads metrics the component's monitor scrapes). */
const COMPONENT_PANELS: Record<string, Panel[]> = {
    traefik: [
        { title: "Requests per second by service", expr: "sum by (service) (rate(traefik_service_requests_total[5m]))" },
        { title: "5xx responses per second", expr: 'sum by (service) (rate(traefik_service_requests_total{code=~"5.."}[5m]))' },
    ],
    "cert-manager": [
        { title: "Days until certificates expire", expr: "(certmanager_certificate_expiration_timestamp_seconds - time()) / 86400" },
        { title: "Certificates not ready", expr: 'certmanager_certificate_ready_status{condition="False"}' },
    ],
    "cloudnative-pg-operator": [{ title: "Reconcile errors", expr: "sum(rate(controller_runtime_reconcile_errors_total[5m])) by (controller)" }],
    postgres: [
        { title: "Replication lag (s)", expr: "cnpg_pg_replication_lag" },
        { title: "Connections by database", expr: "sum by (datname) (cnpg_backends_total)" },
        { title: "Hours since last backup", expr: "(time() - cnpg_collector_last_available_backup_timestamp) / 3600" },
    ],
    longhorn: [
        { title: "Volume robustness (1 = current state)", expr: "longhorn_volume_robustness == 1" },
        { title: "Disk usage ratio", expr: "longhorn_disk_usage_bytes / longhorn_disk_capacity_bytes" },
        { title: "Backup state (3 Completed, 4 Error)", expr: "longhorn_backup_state" },
    ],
    minio: [
        { title: "Bucket usage (bytes)", expr: "minio_bucket_usage_total_bytes" },
        { title: "S3 requests per second", expr: "sum by (api) (rate(minio_s3_requests_total[5m]))" },
    ],
    keycloak: [
        { title: "Scrape up", expr: 'up{namespace="keycloak"}' },
        { title: "JVM heap used (bytes)", expr: 'sum by (pod) (jvm_memory_used_bytes{namespace="keycloak", area="heap"})' },
    ],
    jupyterhub: [
        { title: "Running servers", expr: "jupyterhub_running_servers" },
        { title: "Active users (24h)", expr: 'jupyterhub_active_users{period="24h"}' },
    ],
    "spark-operator": [{ title: "Running applications", expr: "spark_application_running_count" }],
    spark: [
        { title: "Drivers scraped", expr: "count by (namespace) (metrics_spark_driver_jvm_heap_used_Value)" },
        { title: "Driver JVM heap used (bytes)", expr: "sum by (namespace, pod) (metrics_spark_driver_jvm_heap_used_Value)" },
        // The executors' summary the driver serves at /metrics/executors/prometheus (status/api/v1/PrometheusResource.scala).
        { title: "Active tasks per executor", expr: 'sum by (namespace, pod, executor_id) (metrics_executor_activeTasks{executor_id!="driver"})' },
    ],
    openeo: [{ title: "Scrapeable openEO Spark pods", expr: 'count by (pod) (up{namespace="openeo"} == 1)' }],
    argo: [
        { title: "Workflows by phase", expr: "sum by (phase) (argo_workflows_gauge)" },
        { title: "Workflow errors", expr: "sum(rate(argo_workflows_error_count[5m]))" },
    ],
};

/** A dashboard's JSON model (Grafana dashboard schema 39, as Grafana 12 writes it). */
export function dashboard(uid: string, title: string, panels: Panel[], templating: unknown[] = []): Record<string, unknown> {
    return {
        uid,
        title,
        tags: ["geoplatform"],
        schemaVersion: 39,
        time: { from: "now-6h", to: "now" },
        templating: { list: templating },
        panels: panels.map((p, i) => ({
            id: i + 1,
            title: p.title,
            type: p.type ?? "timeseries",
            gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: p.type === "logs" ? 24 : 12, h: p.type === "logs" ? 16 : 8 },
            datasource: { type: p.datasource ?? "prometheus", uid: DATASOURCES[p.datasource ?? "prometheus"] },
            targets: [{ refId: "A", expr: p.expr, datasource: { type: p.datasource ?? "prometheus", uid: DATASOURCES[p.datasource ?? "prometheus"] } }],
        })),
    };
}

/** Logs of one job: pick namespace and pod (a Spark application's driver and executors, a workflow step, a notebook server). */
export function jobLogsDashboard(): Record<string, unknown> {
    const variable = (name: string, query: string) => ({
        name,
        type: "query",
        datasource: { type: "loki", uid: DATASOURCES.loki },
        query: { label: name, stream: query, type: 1 },
        refresh: 2,
        includeAll: name !== "namespace",
        multi: name !== "namespace",
    });
    return dashboard(
        "geoplatform-job-logs",
        "Job logs",
        [{ title: "Log lines", type: "logs", datasource: "loki", expr: '{namespace="$namespace", pod=~"$pod", container=~"$container"} |~ "$search"' }],
        [
            variable("namespace", ""),
            variable("pod", '{namespace="$namespace"}'),
            variable("container", '{namespace="$namespace", pod=~"$pod"}'),
            { name: "search", type: "textbox", query: "", label: "Line contains (regex)" },
        ],
    );
}

/**
 * The signed-in user's own logs: Grafana fills ${__user.login} into the queries (a global variable since
 * Grafana 7.1, with __user.id and __user.email: Grafana docs dashboards/variables "Global variables"; the login is
 * the realm username, platform/monitoring.ts login_attribute_path). Streams whose `user` label is theirs (notebook servers, labelled
 * SparkApplications: platform/observability/logs.ts USER_LABEL_SOURCES), and the executors of their notebooks'
 * Spark sessions, in the user's executor namespace `nbx-<slug>` (apps/notebook-executors.ts; the slug is the login
 * itself when the login is a valid DNS label, KubeSpawner's safe_slug). A filter, not a permission: docs/operations.md "Who sees what".
 */
export function myJobsDashboard(): Record<string, unknown> {
    return dashboard(
        "geoplatform-my-jobs",
        "My jobs",
        [
            { title: "My notebooks and labelled jobs", type: "logs", datasource: "loki", expr: '{user="${__user.login}"} |~ "$search"' },
            {
                title: "My notebooks' Spark executors",
                type: "logs",
                datasource: "loki",
                expr: `{namespace="${NOTEBOOK_EXECUTOR_NAMESPACE_PREFIX}\${__user.login}"} |~ "$search"`,
            },
        ],
        [{ name: "search", type: "textbox", query: "", label: "Line contains (regex)" }],
    );
}

/** Every dashboard of the stack, by ConfigMap name: one per monitored component, plus job logs and my jobs. */
export function dashboardsFor(apps: AppName[]): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = { "dashboard-job-logs": jobLogsDashboard(), "dashboard-my-jobs": myJobsDashboard() };
    for (const m of monitorsFor(apps)) {
        out[`dashboard-${m.component}`] = dashboard(`geoplatform-${m.component}`, `geoplatform / ${m.component}`, COMPONENT_PANELS[m.component] ?? []);
    }
    return out;
}

export class Dashboards extends pulumi.ComponentResource {
    constructor(name: string, args: { namespace: pulumi.Input<string>; apps: AppName[] }, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:Dashboards", name, {}, opts);
        for (const [cm, json] of Object.entries(dashboardsFor(args.apps))) {
            new k8s.core.v1.ConfigMap(
                cm,
                { metadata: { name: cm, namespace: args.namespace, labels: DASHBOARD_LABEL }, data: { [`${cm}.json`]: JSON.stringify(json) } },
                { parent: this },
            );
        }
        this.registerOutputs({});
    }
}
