import * as assert from "assert";
import { CHARTS } from "../config/catalog";
import { longhornVolumes } from "../config/storage";
import { NODE_GROUP_LABEL } from "../config/types";
import { validateConfig } from "../config/validate";
import { alertmanagerConfig, alertmanagerRoute } from "../platform/observability/alerting";
import { alloyConfig, retentionHours } from "../platform/observability/logs";
import * as yaml from "js-yaml";
import { batchJobTemplate } from "../apps/openeo/files";
import { myJobsDashboard } from "../platform/observability/dashboards";
import { MONITORS, SPARK_METRICS_LABEL, SPARK_PROMETHEUS_CONF, SPARK_UI_PORT } from "../platform/observability/monitors";
import { platformFlows } from "../platform/network/flows";
import { alertRules } from "../platform/observability/rules";
import { SECRET_SENTINEL } from "./harness/mock-outputs";
import { chartOf } from "./harness/releases";
import { RecordedResource, runStack, sharedStackRuns, StackRun } from "./harness/run-stack";
import { plainSecretLeaks } from "./harness/secrets";
import { rawGeoplatformConfig, readStackFile, STACKS } from "./harness/stack-config";

// Issue 18 under mocks: logs (Loki, Alloy), alerts that reach someone
// (Alertmanager receivers and routes, baseline rules), every component measured.

const RELEASE = "kubernetes:helm.sh/v3:Release";
const release = (run: StackRun, chart: string) => run.resources.find((r) => r.type === RELEASE && chartOf(r) === chart) as RecordedResource;
const named = (run: StackRun, type: string, name: string) => run.resources.find((r) => r.type === type && r.name === name) as RecordedResource;
const byKind = (run: StackRun, kind: string) => run.resources.filter((r) => r.type === `kubernetes:monitoring.coreos.com/v1:${kind}`);

/**
 * Alertmanager's routing (prometheus/alertmanager v0.34.0 dispatch/route.go Route.Match): children in order, a match
 * without `continue` stops; a node none of whose children match is the match itself. Equality matchers only, as ours are.
 */
function receiversFor(route: any, labels: Record<string, string>): string[] {
    const matches = (r: any) =>
        (r.matchers ?? []).every((m: string) => {
            const [, name, value] = /^(\w+) = "(.*)"$/.exec(m) as RegExpExecArray;
            return labels[name] === value;
        });
    const match = (r: any): any[] => {
        if (!matches(r)) return [];
        const all: any[] = [];
        for (const child of r.routes ?? []) {
            const found = match(child);
            all.push(...found);
            if (found.length > 0 && !child.continue) break;
        }
        return all.length > 0 ? all : [r];
    };
    return match(route).map((r) => r.receiver);
}

/** Stack config with alerting receivers carrying credentials, as `pulumi config set --secret --path` leaves them for the program. */
function withCredentials(stack: string): Record<string, unknown> {
    const platform = structuredClone(readStackFile(stack)["geoplatform:platform"]) as any;
    platform.alerting = {
        defaultReceiver: "team",
        criticalReceiver: "pager",
        receivers: [
            {
                name: "team",
                email: {
                    to: "t@example.org",
                    from: "am@example.org",
                    smarthost: "smtp.example.org:587",
                    authUsername: "am",
                    authPassword: `${SECRET_SENTINEL}-smtp`,
                },
            },
            { name: "pager", webhook: { url: `https://hooks.example.org/${SECRET_SENTINEL}-hook` } },
            { name: "chat", slack: { apiUrl: `https://hooks.slack.com/services/${SECRET_SENTINEL}-slack`, channel: "#alerts" } },
        ],
    };
    return { "geoplatform:platform": platform };
}

describe("observability (issue 18)", () => {
    const runOf = sharedStackRuns();

    for (const stack of STACKS) {
        describe(stack, () => {
            const run = () => runOf(stack);
            const config = () => validateConfig(rawGeoplatformConfig(stack), stack);

            it("runs Loki on system nodes, sized per stack, its chunks in a MinIO bucket of its own user, keys from a Secret", () => {
                const loki = release(run(), "loki");
                const v = loki.inputs.values;
                const logs = config().platform.logs;
                assert.strictEqual(loki.inputs.namespace, CHARTS.loki.namespace);
                assert.strictEqual(v.deploymentMode, "Monolithic");
                assert.strictEqual(v.singleBinary.replicas, logs.replicas);
                assert.strictEqual(v.loki.commonConfig.replication_factor, Math.min(logs.replicas, 3));
                assert.deepStrictEqual(v.singleBinary.nodeSelector, { [NODE_GROUP_LABEL]: "system" });
                assert.strictEqual(v.singleBinary.persistence.size, `${logs.storageGb}Gi`);
                assert.strictEqual(v.loki.limits_config.retention_period, retentionHours(logs.retention));
                assert.strictEqual(v.loki.compactor.retention_enabled, true);
                assert.deepStrictEqual(v.loki.storage.bucketNames, { chunks: "loki-chunks", ruler: "loki-chunks" });
                assert.strictEqual(v.loki.storage.s3.accessKeyId, "${AWS_ACCESS_KEY_ID}");
                assert.deepStrictEqual(v.singleBinary.extraEnvFrom, [{ secretRef: { name: "loki-s3" } }]);
                const secret = named(run(), "kubernetes:core/v1:Secret", "loki-s3");
                assert.strictEqual(secret.inputs.metadata.namespace, CHARTS.loki.namespace);
                assert.ok(secret.secretPaths.includes("stringData"));
                assert.strictEqual(secret.inputs.stringData.AWS_ACCESS_KEY_ID, "loki");
                assert.ok(loki.dependencies.includes(secret.urn), "Loki waits for its keys");
                const minio = release(run(), "minio").inputs.values;
                assert.deepStrictEqual(minio.policies.find((p: any) => p.name === "loki-rw").statements[1].resources, ["arn:aws:s3:::loki-chunks/*"]);
                assert.ok(minio.buckets.some((b: any) => b.name === "loki-chunks"));
            });

            it("keeps dev small and prod replicated: one Loki, Alertmanager and Prometheus in dev; three, three and two on distinct nodes in prod", () => {
                const expected = stack === "dev" ? 1 : 3;
                assert.strictEqual(release(run(), "loki").inputs.values.singleBinary.replicas, expected);
                const values = release(run(), "kube-prometheus-stack").inputs.values;
                assert.strictEqual(values.alertmanager.alertmanagerSpec.replicas, expected);
                assert.strictEqual(values.prometheus.prometheusSpec.replicas, stack === "dev" ? 1 : 2);
                assert.strictEqual(values.prometheus.prometheusSpec.podAntiAffinity, "hard");
                const prometheusVolumes = longhornVolumes(config()).find((v) => v.name === "prometheus")!;
                assert.strictEqual(prometheusVolumes.count, values.prometheus.prometheusSpec.replicas, "the Longhorn fit counts every Prometheus volume");
                assert.strictEqual(config().platform.logs.retention, stack === "dev" ? "7d" : "30d");
            });

            it("runs Alloy as a DaemonSet on every node group, tolerating every configured taint", () => {
                const v = release(run(), "alloy").inputs.values;
                assert.strictEqual(v.controller.type, "daemonset");
                const groups = config().nodeGroups;
                const terms = v.controller.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
                assert.deepStrictEqual(terms, [{ matchExpressions: [{ key: NODE_GROUP_LABEL, operator: "In", values: Object.keys(groups) }] }]);
                const taints = Object.values(groups).flatMap((g) => g.taints);
                assert.ok(taints.length > 0, "the stack has tainted groups (processing)");
                for (const t of taints) {
                    assert.ok(
                        v.controller.tolerations.some((x: any) => x.key === t.key && x.value === t.value && x.effect === t.effect && x.operator === "Equal"),
                        `${t.key}=${t.value}:${t.effect}`,
                    );
                }
                assert.strictEqual(v.alloy.configMap.content, alloyConfig());
            });

            it("gives Grafana Loki as a datasource, and Prometheus every monitor and rule in every namespace", () => {
                const v = release(run(), "kube-prometheus-stack").inputs.values;
                assert.deepStrictEqual(
                    v.grafana.additionalDataSources.map((d: any) => [d.type, d.uid, d.url]),
                    [["loki", "loki", "http://loki.logging.svc:3100"]],
                );
                const spec = v.prometheus.prometheusSpec;
                for (const key of ["serviceMonitorSelectorNilUsesHelmValues", "podMonitorSelectorNilUsesHelmValues", "ruleSelectorNilUsesHelmValues"]) {
                    assert.strictEqual(spec[key], false, key);
                }
            });

            it("routes every alert to the stack's receivers, only Watchdog and InfoInhibitor to null, and holds no credential in values", () => {
                const v = release(run(), "kube-prometheus-stack").inputs.values.alertmanager;
                const alerting = config().platform.alerting;
                const route = v.config.route;
                assert.deepStrictEqual(receiversFor(route, { alertname: "Watchdog", severity: "none" }), ["null"]);
                assert.deepStrictEqual(receiversFor(route, { alertname: "InfoInhibitor", severity: "none" }), ["null"]);
                assert.deepStrictEqual(receiversFor(route, { alertname: "KubeNodeNotReady", severity: "warning" }), [alerting.defaultReceiver]);
                const critical = receiversFor(route, { alertname: "KeycloakDown", severity: "critical" });
                assert.deepStrictEqual(
                    critical,
                    alerting.criticalReceiver ? [alerting.criticalReceiver, alerting.defaultReceiver] : [alerting.defaultReceiver],
                );
                assert.notStrictEqual(route.receiver, "null");
                // The null receiver is reached only by the Watchdog and InfoInhibitor routes.
                const nullRoutes = (route.routes as any[]).filter((r) => r.receiver === "null").map((r) => r.matchers);
                assert.deepStrictEqual(nullRoutes, [['alertname = "Watchdog"'], ['alertname = "InfoInhibitor"']]);
                assert.deepStrictEqual(
                    v.config.receivers.map((r: any) => r.name),
                    ["null", ...alerting.receivers.map((r) => r.name)],
                );
                assert.deepStrictEqual(v.alertmanagerSpec.secrets, ["alertmanager-receivers"]);
                const secret = named(run(), "kubernetes:core/v1:Secret", "alertmanager-receivers");
                assert.strictEqual(secret.inputs.metadata.namespace, "monitoring");
                assert.ok(release(run(), "kube-prometheus-stack").dependencies.includes(secret.urn), "Alertmanager waits for its receivers' Secret");
            });

            it("has one monitor per component of the stack, in monitoring, selecting the component's namespace", () => {
                const monitors = [...byKind(run(), "ServiceMonitor"), ...byKind(run(), "PodMonitor")];
                const components = monitors.map((m) => m.inputs.metadata.name).sort();
                assert.deepStrictEqual(components, [
                    "argo",
                    "cert-manager",
                    "cloudnative-pg-operator",
                    "jupyterhub",
                    "keycloak",
                    "longhorn",
                    "minio",
                    "openeo",
                    "postgres",
                    "spark",
                    "spark-operator",
                    "traefik",
                ]);
                for (const m of monitors) {
                    assert.strictEqual(m.inputs.metadata.namespace, "monitoring");
                    const spec = MONITORS.find((x) => x.component === m.inputs.metadata.name);
                    assert.deepStrictEqual(m.inputs.spec.namespaceSelector, { matchNames: spec?.namespaces });
                    assert.ok(m.dependencies.includes(release(run(), "kube-prometheus-stack").urn), `${m.name} waits for the CRDs`);
                }
                // Loki and Alloy: their charts' own ServiceMonitors.
                assert.strictEqual(release(run(), "loki").inputs.values.monitoring.serviceMonitor.enabled, true);
                assert.strictEqual(release(run(), "alloy").inputs.values.serviceMonitor.enabled, true);
                // Charts that need a switch for their metrics: Argo's controller, JupyterHub's token-free /hub/metrics.
                assert.strictEqual(release(run(), "argo-workflows").inputs.values.controller.metricsConfig.enabled, true);
                assert.strictEqual(release(run(), "jupyterhub").inputs.values.hub.config.JupyterHub.authenticate_prometheus, false);
            });

            it("puts the PrometheusServlet conf into every SparkApplication the program makes: the example, Argo's Spark Pi, openEO's driver", () => {
                const apps = run().resources.filter((r) => r.inputs?.kind === "SparkApplication");
                assert.ok(apps.length > 0);
                const template = named(run(), "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate", "spark-pi");
                const argo = yaml.load(template.inputs.spec.templates[0].resource.manifest) as any;
                const openeo = release(run(), "sparkapplication").inputs.values;
                const specs = [...apps.map((a) => [a.inputs.metadata.name, a.inputs.spec]), ["argo spark-pi", argo.spec], ["openeo", openeo]];
                for (const [name, spec] of specs) {
                    for (const [key, value] of Object.entries(SPARK_PROMETHEUS_CONF)) assert.strictEqual(spec.sparkConf?.[key], value, `${name} ${key}`);
                    // The monitors select the driver's spark-ui port at Spark's default: no job moves or disables the UI, none uses the JMX agent.
                    assert.ok(!("spark.ui.enabled" in spec.sparkConf) && !("spark.ui.port" in spec.sparkConf), name);
                    assert.strictEqual(spec.monitoring, undefined, name);
                }
            });

            it("scrapes Spark where the operator runs jobs, on a port Spark declares on its drivers, which the network allows", () => {
                const operator = release(run(), "spark-operator").inputs.values;
                const flows = platformFlows({ namespaces: [...operator.spark.jobNamespaces], apps: ["spark", "openeo"], nodeCidr: "10.0.0.0/16" });
                for (const m of MONITORS.filter((x) => x.component === "spark" || x.component === "openeo")) {
                    // Spark's Kubernetes backend labels drivers spark-role=driver and names their UI port spark-ui; executors expose nothing.
                    // Only drivers whose conf turns the servlet on carry the metrics label (spark.kubernetes.driver.label.*): a user's own
                    // job without it is no target, so no TargetDown alert.
                    assert.deepStrictEqual(m.selector, { matchLabels: { "spark-role": "driver", [SPARK_METRICS_LABEL]: "true" } });
                    assert.strictEqual(SPARK_PROMETHEUS_CONF[`spark.kubernetes.driver.label.${SPARK_METRICS_LABEL}`], "true");
                    assert.deepStrictEqual([...new Set(m.endpoints.map((e) => e.port))], [SPARK_UI_PORT.name]);
                    for (const ns of m.namespaces) {
                        assert.ok(operator.spark.jobNamespaces.includes(ns), `${m.component}: the operator runs no job in ${ns}`);
                        const f = flows.find((x) => x.name === `prometheus-to-spark-pods-${ns}`);
                        assert.deepStrictEqual(
                            f?.ports.map((p) => p.port),
                            [SPARK_UI_PORT.port],
                            ns,
                        );
                    }
                }
            });

            it("logs users in to Grafana by their realm username, the login the My jobs dashboard filters on", () => {
                const ini = release(run(), "kube-prometheus-stack").inputs.values.grafana["grafana.ini"]["auth.generic_oauth"];
                assert.strictEqual(ini.login_attribute_path, "preferred_username");
                const json = JSON.parse(Object.values(named(run(), "kubernetes:core/v1:ConfigMap", "dashboard-my-jobs").inputs.data)[0] as string);
                assert.deepStrictEqual(json, myJobsDashboard());
            });

            it("leaves out the monitors and dashboards of a disabled app", async () => {
                const lab = await runStack(stack, { "geoplatform:apps": { openeo: { enabled: false }, argo: { enabled: false } } });
                const names = [...byKind(lab, "ServiceMonitor"), ...byKind(lab, "PodMonitor")].map((m) => m.inputs.metadata.name);
                assert.ok(!names.includes("openeo") && !names.includes("argo") && names.includes("spark"), names.join());
                const dashboards = lab.resources.filter((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.name.startsWith("dashboard-")).map((r) => r.name);
                assert.ok(!dashboards.includes("dashboard-argo") && dashboards.includes("dashboard-spark"), dashboards.join());
            });

            it("provisions a dashboard per monitored component and a job-logs dashboard, for Grafana's sidecar", () => {
                const maps = run().resources.filter((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.metadata?.labels?.grafana_dashboard === "1");
                const monitored = [...byKind(run(), "ServiceMonitor"), ...byKind(run(), "PodMonitor")].map((m) => `dashboard-${m.inputs.metadata.name}`);
                assert.deepStrictEqual(maps.map((m) => m.inputs.metadata.name).sort(), ["dashboard-job-logs", "dashboard-my-jobs", ...monitored].sort());
                for (const m of maps) {
                    const json = JSON.parse(Object.values(m.inputs.data)[0] as string);
                    assert.ok(json.uid && json.title && json.panels.length > 0, m.name);
                }
                const logs = JSON.parse(Object.values(named(run(), "kubernetes:core/v1:ConfigMap", "dashboard-job-logs").inputs.data)[0] as string);
                assert.strictEqual(logs.panels[0].datasource.uid, "loki");
                assert.match(logs.panels[0].targets[0].expr, /namespace="\$namespace", pod=~"\$pod"/);
            });

            it("alerts on certificates, backups, Longhorn volumes, nodes, spot interruptions, Keycloak and replication lag, by upstream metric names", () => {
                const rule = byKind(run(), "PrometheusRule").find((r) => r.inputs.metadata.name === "geoplatform-alerts") as RecordedResource;
                const rules = rule.inputs.spec.groups.flatMap((g: any) => g.rules);
                const alerts = rules.map((r: any) => r.alert);
                for (const a of [
                    "CertificateExpiresSoon",
                    "EtcdSnapshotFailed",
                    "EtcdSnapshotLate",
                    "LonghornBackupFailed",
                    "LonghornBackupLate",
                    "LonghornVolumeDegraded",
                    "LonghornDiskFilling",
                    "SpotInterruption",
                    "KeycloakDown",
                    "PostgresReplicationLag",
                ])
                    assert.ok(alerts.includes(a), a);
                // PostgreSQL backup alerts only where the stack schedules backups.
                assert.strictEqual(alerts.includes("PostgresBackupFailed"), config().platform.postgres.backupSchedule !== "");
                for (const r of rules) assert.ok(["warning", "critical"].includes(r.labels.severity), r.alert);
                const source = Object.values(alertRules(config())).flat();
                for (const r of source) for (const metric of r.metrics) assert.match(r.expr, new RegExp(`\\b${metric}\\b`), `${r.alert} reads ${metric}`);
                const metrics = new Set(source.flatMap((r) => r.metrics));
                for (const upstream of [
                    "certmanager_certificate_expiration_timestamp_seconds",
                    "longhorn_backup_state",
                    "longhorn_volume_robustness",
                    "cnpg_pg_replication_lag",
                    "kube_node_spec_taint",
                ])
                    assert.ok(metrics.has(upstream), upstream);
                // kube-state-metrics exports the etcd snapshots and Longhorn backups the rules read.
                const ksm = release(run(), "kube-prometheus-stack").inputs.values["kube-state-metrics"];
                assert.strictEqual(ksm.customResourceState.enabled, true);
                const kinds = ksm.customResourceState.config.spec.resources.map((r: any) => r.groupVersionKind.kind);
                assert.deepStrictEqual(kinds, ["ETCDSnapshotFile", "Backup"]);
                // The spot alert reads the termination handler's taint, which it sets only with taintNode (prod has spot groups).
                const nth = release(run(), "aws-node-termination-handler");
                assert.strictEqual(nth?.inputs.values.taintNode, stack === "prod" ? true : undefined);
                assert.deepStrictEqual(
                    ksm.rbac.extraRules.map((r: any) => r.resources[0]),
                    ["etcdsnapshotfiles", "backups"],
                );
            });
        });
    }

    it("puts receiver credentials only into the receivers' Secret, as files Alertmanager reads", async () => {
        const run = await runStack("prod", withCredentials("prod"));
        assert.deepStrictEqual(plainSecretLeaks(run.resources), []);
        const values = release(run, "kube-prometheus-stack").inputs.values;
        assert.ok(!JSON.stringify(values).includes(SECRET_SENTINEL), "no credential in the chart's values");
        const receivers = Object.fromEntries(values.alertmanager.config.receivers.map((r: any) => [r.name, r]));
        const dir = "/etc/alertmanager/secrets/alertmanager-receivers";
        assert.strictEqual(receivers.team.email_configs[0].auth_password_file, `${dir}/team-auth-password`);
        assert.strictEqual(receivers.pager.webhook_configs[0].url_file, `${dir}/pager-webhook-url`);
        assert.strictEqual(receivers.chat.slack_configs[0].api_url_file, `${dir}/chat-slack-api-url`);
        const secret = named(run, "kubernetes:core/v1:Secret", "alertmanager-receivers");
        assert.ok(secret.secretPaths.includes("stringData"));
        assert.deepStrictEqual(secret.inputs.stringData, {
            "team-auth-password": `${SECRET_SENTINEL}-smtp`,
            "pager-webhook-url": `https://hooks.example.org/${SECRET_SENTINEL}-hook`,
            "chat-slack-api-url": `https://hooks.slack.com/services/${SECRET_SENTINEL}-slack`,
        });
        assert.deepStrictEqual(receiversFor(values.alertmanager.config.route, { alertname: "X", severity: "critical" }), ["pager", "team"]);
    });

    it("names the node group of every log stream from the node's label, and tails only the collector's own node", () => {
        const config = alloyConfig();
        assert.match(config, /source_labels = \["__meta_kubernetes_node_label_geoplatform_io_node_group"\]\n {4}target_label {2}= "node_group"/);
        for (const label of ["namespace", "pod", "container", "node"]) assert.match(config, new RegExp(`target_label  = "${label}"`));
        assert.match(config, /field = "spec.nodeName=" \+ sys.env\("NODE_NAME"\)/);
        assert.match(config, /attach_metadata \{\n {4}node = true/);
        assert.match(config, /url = "http:\/\/loki\.logging\.svc:3100\/loki\/api\/v1\/push"/);
    });

    it("labels streams with their user (z2jh's username label, else geoplatform.io/user) and Argo's workflow", () => {
        const config = alloyConfig();
        const rule = (source: string) => new RegExp(`source_labels = \\["${source}"\\]\n {4}regex {9}= "\\(\\.\\+\\)"\n {4}target_label {2}= "user"`);
        assert.match(config, rule("__meta_kubernetes_pod_label_hub_jupyter_org_username"));
        assert.match(config, rule("__meta_kubernetes_pod_label_geoplatform_io_user"));
        // Rules apply in order and a later match overwrites: z2jh's label comes last, so it wins.
        assert.ok(config.indexOf("geoplatform_io_user") < config.indexOf("hub_jupyter_org_username"));
        assert.match(config, /source_labels = \["__meta_kubernetes_pod_label_workflows_argoproj_io_workflow"\]\n {4}target_label {2}= "workflow"/);
    });

    it("shows a user their own streams and their notebooks' executors, by Grafana's login", () => {
        const exprs = (myJobsDashboard() as any).panels.map((p: any) => p.targets[0].expr);
        assert.deepStrictEqual(exprs, ['{user="${__user.login}"} |~ "$search"', '{namespace="nbx-${__user.login}"} |~ "$search"']);
    });

    it("gives openEO's batch jobs the PrometheusServlet conf in the template the driver renders", () => {
        const text = batchJobTemplate({
            serviceAccount: "sa",
            backendConfigMap: "b",
            layerCatalogMap: "l",
            s3: { secretName: "s", endpoint: "http://minio.minio.svc:9000", region: "us-east-1" },
            tolerations: [],
            nodeGroupLabel: "geoplatform.io/node-group",
            nodeGroup: "processing",
        });
        // Jinja expressions aside, the sparkConf block is YAML: read it as such.
        const conf = /\n  sparkConf:\n((?: {4}.*\n)+)/.exec(text)?.[1] ?? "";
        const parsed = yaml.load(conf.replace(/\{\{.*?\}\}/g, "x")) as Record<string, string>;
        for (const [key, value] of Object.entries(SPARK_PROMETHEUS_CONF)) assert.strictEqual(parsed[key], value, key);
    });

    it("fires LogShippingStopped also when Loki's metric is gone, scrapes only MinIO's API Service, tails ended pods, meshes Alertmanager", () => {
        const rule = Object.values(alertRules(validateConfig(rawGeoplatformConfig("dev"), "dev")))
            .flat()
            .find((r) => r.alert === "LogShippingStopped");
        assert.match(rule?.expr ?? "", / or absent\(loki_distributor_lines_received_total\)$/);
        const keycloak = Object.values(alertRules(validateConfig(rawGeoplatformConfig("dev"), "dev")))
            .flat()
            .find((r) => r.alert === "KeycloakDown");
        assert.match(keycloak?.expr ?? "", /absent\(up\{namespace="keycloak", job="keycloakx"\} == 1\)/);
        assert.strictEqual(MONITORS.find((m) => m.component === "keycloak")?.selector.matchLabels?.["app.kubernetes.io/name"], "keycloakx");
        // minio 5.4.0: only the API Service carries monitoring: "true"; minio-console has a port named http too.
        assert.strictEqual(MONITORS.find((m) => m.component === "minio")?.selector.matchLabels?.monitoring, "true");
        assert.match(alloyConfig(), /source_labels = \["__meta_kubernetes_pod_phase"\]\n {4}regex {9}= "Pending\|Unknown"\n {4}action {8}= "drop"/);
        const mesh = platformFlows({ namespaces: ["monitoring"], apps: [], nodeCidr: "10.0.0.0/16" }).find((f) => f.name === "alertmanager-mesh");
        assert.deepStrictEqual(mesh?.ports, [
            { protocol: "TCP", port: 9094 },
            { protocol: "UDP", port: 9094 },
        ]);
    });

    it("keeps logs whole days: retention in hours for Loki", () => {
        assert.strictEqual(retentionHours("7d"), "168h");
        assert.strictEqual(retentionHours("4w"), "672h");
    });

    it("sends critical alerts once when the critical receiver is the default one", () => {
        const route = alertmanagerRoute({ receivers: [{ name: "a" }], defaultReceiver: "a", criticalReceiver: "a" });
        assert.deepStrictEqual(receiversFor(route, { alertname: "X", severity: "critical" }), ["a"]);
        const { credentials } = alertmanagerConfig({
            receivers: [{ name: "a", email: { to: "a@b.c", from: "a@b.c", smarthost: "h:25", requireTls: true } }],
            defaultReceiver: "a",
        });
        assert.deepStrictEqual(credentials, {});
    });
});
