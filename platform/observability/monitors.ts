import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../../config/catalog";
import { AppName } from "../../config/types";
import { APP_NAMESPACES, POSTGRES_NAMESPACE, PROCESSING_NAMESPACE } from "../namespaces";

// How Prometheus finds each component's metrics: ServiceMonitor/PodMonitor
// objects kept here (in the monitoring namespace, selecting the component's
// namespace) rather than in each component's chart values. Prometheus selects
// every monitor in every namespace (platform/monitoring.ts: the *NilUsesHelmValues
// switches off). test/charts/monitors.charts.ts checks that each selector and
// port matches what the component's chart renders.

export interface Endpoint {
    /** Container port name (PodMonitor) or Service port name (ServiceMonitor). */
    port: string;
    path: string;
}

export interface Monitor {
    /** Component it measures (one monitor per component at least). */
    component: string;
    kind: "PodMonitor" | "ServiceMonitor";
    namespaces: string[];
    selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: "In" | "Exists"; values?: string[] }[] };
    endpoints: Endpoint[];
    /** Enabled only with this app. */
    app?: AppName;
}

/** The driver label that marks a Spark driver serving SPARK_PROMETHEUS_CONF's metrics. */
export const SPARK_METRICS_LABEL = "geoplatform.io/spark-metrics";

/**
 * Spark's metrics, the way every Spark pod of the platform exposes them: Spark's own PrometheusServlet
 * (apache/spark core/src/main/scala/org/apache/spark/metrics/sink/PrometheusServlet.scala, keys read by
 * MetricsConfig from `spark.metrics.conf.*` properties) serves the driver's metrics on the driver's UI, and
 * spark.ui.prometheus.enabled adds the executors' at /metrics/executors/prometheus (PrometheusResource; default
 * true from Spark 4.0, false in 3.x: set explicitly, openEO runs Spark 3.2). Executors have no UI and expose
 * nothing themselves. Chosen over the JMX exporter javaagent (spark-operator spec.monitoring.prometheus, port
 * jmx-exporter), which needs its jar in every image: the platform's Spark image has none.
 * apps/spark/defaults.ts puts this into every SparkApplication; apps/openeo into its driver and batch jobs.
 */
export const SPARK_PROMETHEUS_CONF: Record<string, string> = {
    "spark.ui.prometheus.enabled": "true",
    "spark.metrics.conf.*.sink.prometheusServlet.class": "org.apache.spark.metrics.sink.PrometheusServlet",
    "spark.metrics.conf.*.sink.prometheusServlet.path": "/metrics/prometheus",
    // The JVM's heap, GC and buffer pools (metrics/source/JvmSource.scala), not registered unless configured.
    "spark.metrics.conf.*.source.jvm.class": "org.apache.spark.metrics.source.JvmSource",
    // Metric names start with this instead of each run's application id (MetricsSystem.buildRegistryName), so they
    // are the same for every job: metrics_spark_driver_<source>_<name>_Value; the pod label tells runs apart.
    "spark.metrics.namespace": "spark",
    // Only drivers that serve these metrics are scraped: a user's own job without them would be a target that is
    // always down, and the chart's TargetDown alert would fire (Spark on Kubernetes: spark.kubernetes.driver.label.*).
    [`spark.kubernetes.driver.label.${SPARK_METRICS_LABEL}`]: "true",
};

/**
 * The driver pod's UI container port: Spark's Kubernetes backend declares it on every driver it builds
 * (resource-managers/kubernetes BasicDriverFeatureStep: Constants.UI_PORT_NAME "spark-ui", port spark.ui.port,
 * 4040) and labels the pod spark-role=driver (Constants.SPARK_ROLE_LABEL, SPARK_POD_DRIVER_ROLE).
 */
export const SPARK_UI_PORT = { name: "spark-ui", port: 4040 } as const;
const SPARK_DRIVERS = { matchLabels: { "spark-role": "driver", [SPARK_METRICS_LABEL]: "true" } };
const SPARK_ENDPOINTS: Endpoint[] = [
    { port: SPARK_UI_PORT.name, path: SPARK_PROMETHEUS_CONF["spark.metrics.conf.*.sink.prometheusServlet.path"] },
    { port: SPARK_UI_PORT.name, path: "/metrics/executors/prometheus" },
];

export const MONITORS: Monitor[] = [
    // traefik 41.3.0 values.yaml ports.metrics (9100, entryPoint metrics) and metrics.prometheus.
    {
        component: "traefik",
        kind: "PodMonitor",
        namespaces: [CHARTS.traefik.namespace],
        selector: { matchLabels: { "app.kubernetes.io/name": "traefik" } },
        endpoints: [{ port: "metrics", path: "/metrics" }],
    },
    // cert-manager v1.21.1 templates/deployment.yaml: the controller's container port http-metrics (9402).
    {
        component: "cert-manager",
        kind: "PodMonitor",
        namespaces: [CHARTS.certManager.namespace],
        selector: { matchLabels: { "app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller" } },
        endpoints: [{ port: "http-metrics", path: "/metrics" }],
    },
    // CloudNativePG: the operator (chart 0.29.0 container port metrics, 8080) and each instance's exporter (port metrics, 9187;
    // cloudnative-pg v1.30.0 docs/src/monitoring.md, pods labelled cnpg.io/podRole=instance).
    {
        component: "cloudnative-pg-operator",
        kind: "PodMonitor",
        namespaces: [CHARTS.cloudnativePg.namespace],
        selector: { matchLabels: { "app.kubernetes.io/name": "cloudnative-pg" } },
        endpoints: [{ port: "metrics", path: "/metrics" }],
    },
    {
        component: "postgres",
        kind: "PodMonitor",
        namespaces: [POSTGRES_NAMESPACE],
        selector: { matchLabels: { "cnpg.io/podRole": "instance" } },
        endpoints: [{ port: "metrics", path: "/metrics" }],
    },
    // longhorn 1.12.1 templates/daemonset-sa.yaml service longhorn-backend (app: longhorn-manager, port manager 9500): the manager serves /metrics.
    {
        component: "longhorn",
        kind: "ServiceMonitor",
        namespaces: [CHARTS.longhorn.namespace],
        selector: { matchLabels: { app: "longhorn-manager" } },
        endpoints: [{ port: "manager", path: "/metrics" }],
    },
    // minio 5.4.0: service minio port http (9000); the chart sets MINIO_PROMETHEUS_AUTH_TYPE=public (metrics.serviceMonitor.public, default true).
    // monitoring: "true" is on that Service only (templates/service.yaml), not on minio-console, whose port is also named http.
    {
        component: "minio",
        kind: "ServiceMonitor",
        namespaces: [CHARTS.minio.namespace],
        selector: { matchLabels: { app: "minio", release: "minio", monitoring: "true" } },
        endpoints: [
            { port: "http", path: "/minio/v2/metrics/cluster" },
            { port: "http", path: "/minio/v2/metrics/node" },
        ],
    },
    // keycloakx 7.1.11: metrics.enabled (default true) sets KC_METRICS_ENABLED; the management port http-internal (9000) serves /metrics.
    {
        component: "keycloak",
        kind: "ServiceMonitor",
        namespaces: [CHARTS.keycloak.namespace],
        selector: { matchLabels: { "app.kubernetes.io/name": "keycloakx", "app.kubernetes.io/component": "http" } },
        endpoints: [{ port: "http-internal", path: "/metrics" }],
    },
    // jupyterhub 4.4.0 templates/hub/service.yaml: service hub, port hub (8081), metrics at /hub/metrics.
    {
        component: "jupyterhub",
        kind: "ServiceMonitor",
        app: "jupyterhub",
        namespaces: [APP_NAMESPACES.jupyterhub],
        selector: { matchLabels: { app: "jupyterhub", component: "hub" } },
        endpoints: [{ port: "hub", path: "/hub/metrics" }],
    },
    // spark-operator 2.5.2 values.yaml prometheus.metrics (port 8080, portName metrics) on the controller.
    {
        component: "spark-operator",
        kind: "PodMonitor",
        app: "spark",
        namespaces: [APP_NAMESPACES.spark],
        selector: { matchLabels: { "app.kubernetes.io/name": "spark-operator", "app.kubernetes.io/component": "controller" } },
        endpoints: [{ port: "metrics", path: "/metrics" }],
    },
    // SparkApplications' drivers (the example, users' jobs, Argo's Spark steps). Notebooks' client-mode drivers are not
    // scraped: the driver is the notebook pod, whose only declared port is the notebook's (docs/operations.md).
    {
        component: "spark",
        kind: "PodMonitor",
        app: "spark",
        namespaces: [PROCESSING_NAMESPACE, APP_NAMESPACES.spark],
        selector: SPARK_DRIVERS,
        endpoints: SPARK_ENDPOINTS,
    },
    // openEO's web-app driver (the sparkapplication 1.3.1 chart's SparkApplication) and its batch jobs' drivers.
    {
        component: "openeo",
        kind: "PodMonitor",
        app: "openeo",
        namespaces: [APP_NAMESPACES.openeo],
        selector: SPARK_DRIVERS,
        endpoints: SPARK_ENDPOINTS,
    },
    // argo-workflows 1.0.18 controller.metricsConfig (containerPort metrics 9090) on the workflow controller.
    {
        component: "argo",
        kind: "PodMonitor",
        app: "argo",
        namespaces: [APP_NAMESPACES.argo],
        selector: { matchLabels: { "app.kubernetes.io/component": "workflow-controller" } },
        endpoints: [{ port: "metrics", path: "/metrics" }],
    },
];

/** The monitors of the components this stack runs. */
export const monitorsFor = (apps: AppName[]) => MONITORS.filter((m) => m.app === undefined || apps.includes(m.app));

/** ServiceMonitor and PodMonitor objects for every component (Loki and Alloy: their charts' own serviceMonitor switches). */
export class Monitors extends pulumi.ComponentResource {
    constructor(
        name: string,
        args: { namespace: pulumi.Input<string>; apps: AppName[]; monitoringReady: pulumi.Resource },
        opts: pulumi.ComponentResourceOptions,
    ) {
        super("geoplatform:platform:Monitors", name, {}, opts);
        for (const m of monitorsFor(args.apps)) {
            const endpoints = m.endpoints.map((e) => ({ port: e.port, path: e.path, interval: "30s" }));
            new k8s.apiextensions.CustomResource(
                `monitor-${m.component}`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: m.kind,
                    metadata: { name: m.component, namespace: args.namespace },
                    spec: {
                        namespaceSelector: { matchNames: m.namespaces },
                        selector: m.selector,
                        // The component's own label as Prometheus' job label.
                        jobLabel: "app.kubernetes.io/name",
                        ...(m.kind === "PodMonitor" ? { podMetricsEndpoints: endpoints } : { endpoints }),
                    },
                },
                { parent: this, dependsOn: [args.monitoringReady] },
            );
        }
        this.registerOutputs({});
    }
}
