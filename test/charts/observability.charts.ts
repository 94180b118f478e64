import * as assert from "assert";
import { NODE_GROUP_LABEL } from "../../config/types";
import { validateConfig } from "../../config/validate";
import { MONITORS } from "../../platform/observability/monitors";
import { sharedStackRun, StackRun } from "../harness/run-stack";
import { rawGeoplatformConfig, STACKS } from "../harness/stack-config";
import { K8sObject, kubeVersion, objectId, ReleaseInput, releasesOf, render } from "./render";

// Issue 18 in the rendered charts: the log store and the collector where they
// must run, Alertmanager's config as the operator reads it, and every monitor
// matching what its component's chart renders.

/** Monitors of pods that exist only at run time (Spark drivers and executors, CNPG instances): checked by their labels' upstream sources instead. */
const RUNTIME_PODS = ["spark", "openeo", "postgres"];

const podTemplates = (objects: K8sObject[]) =>
    objects.filter((o) => ["Deployment", "StatefulSet", "DaemonSet"].includes(o.kind)).map((o) => ({ o, template: o.spec.template }));
const matchesSelector = (labels: Record<string, string> | undefined, selector: { matchLabels?: Record<string, string> }) =>
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v);

for (const stack of STACKS) {
    describe(`charts: observability of ${stack}, rendered`, () => {
        let run: StackRun;
        let rendered: Map<string, { rel: ReleaseInput; objects: K8sObject[] }>;
        before(async () => {
            run = await sharedStackRun(stack);
            rendered = new Map();
            for (const rel of releasesOf(run)) {
                const objects = await render(rel, rel.values, { kubeVersion: kubeVersion(stack), apiVersions: ["monitoring.coreos.com/v1"] });
                rendered.set(rel.entry.chart, { rel, objects });
            }
        });
        const objectsOf = (chart: string) => rendered.get(chart)?.objects ?? [];

        it("runs Loki's single binary on system nodes, as many replicas as the stack asks, with a volume each and its S3 keys from the Secret", () => {
            const config = validateConfig(rawGeoplatformConfig(stack), stack);
            // The single binary alone: no gateway, canary, caches or simple-scalable targets.
            const workloads = podTemplates(objectsOf("loki"));
            assert.deepStrictEqual(
                workloads.map(({ o }) => objectId(o)),
                ["StatefulSet/logging/loki"],
            );
            const loki = workloads[0].o;
            assert.strictEqual(loki.spec.replicas, config.platform.logs.replicas);
            assert.deepStrictEqual(loki.spec.template.spec.nodeSelector, { [NODE_GROUP_LABEL]: "system" });
            assert.deepStrictEqual(loki.spec.volumeClaimTemplates[0].spec.resources.requests.storage, `${config.platform.logs.storageGb}Gi`);
            const container = loki.spec.template.spec.containers[0];
            assert.deepStrictEqual(container.envFrom, [{ secretRef: { name: "loki-s3" } }]);
            assert.ok(container.args.includes("-config.expand-env=true"));
            const cm = objectsOf("loki").find((o) => o.kind === "ConfigMap" && o.metadata.name === "loki") as K8sObject;
            const text: string = cm.data["config.yaml"];
            assert.match(text, /access_key_id: \$\{AWS_ACCESS_KEY_ID\}/);
            assert.match(text, /bucketnames: loki-chunks/);
            assert.match(text, /retention_enabled: true/);
            assert.match(text, new RegExp(`retention_period: ${Number(config.platform.logs.retention.slice(0, -1)) * 24}h`));
        });

        it("runs Alloy on every node of every group: a DaemonSet with the taints tolerated and the groups required", () => {
            const config = validateConfig(rawGeoplatformConfig(stack), stack);
            const ds = podTemplates(objectsOf("alloy")).map(({ o }) => o);
            assert.deepStrictEqual(ds.map(objectId), ["DaemonSet/logging/alloy"]);
            const spec = ds[0].spec.template.spec;
            // What the scheduler does with it, node group by node group: every taint tolerated, the group in the required affinity.
            const terms = spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
            for (const [group, g] of Object.entries(config.nodeGroups)) {
                const labels: Record<string, string> = { [NODE_GROUP_LABEL]: group, ...g.labels };
                assert.ok(
                    terms.some((t: any) => t.matchExpressions.every((e: any) => e.operator === "In" && e.values.includes(labels[e.key]))),
                    `${group} is selected`,
                );
                for (const t of g.taints.filter((x) => x.effect !== "PreferNoSchedule")) {
                    assert.ok(
                        (spec.tolerations ?? []).some(
                            (x: any) => x.key === t.key && (x.operator === "Exists" || x.value === t.value) && (!x.effect || x.effect === t.effect),
                        ),
                        `${group} taint ${t.key} tolerated`,
                    );
                }
            }
            assert.strictEqual(spec.hostNetwork ?? false, false);
            assert.ok(!(spec.volumes ?? []).some((v: any) => v.hostPath), "reads logs through the API, no hostPath");
            assert.ok(
                spec.containers
                    .find((c: any) => c.name === "alloy")
                    .env.some((e: any) => e.name === "NODE_NAME" && e.valueFrom.fieldRef.fieldPath === "spec.nodeName"),
            );
        });

        it("renders Alertmanager's config with credentials as files of the mounted Secret, and Prometheus selecting every monitor", () => {
            const objects = objectsOf("kube-prometheus-stack");
            const am = objects.find((o) => o.kind === "Alertmanager") as K8sObject;
            assert.deepStrictEqual(am.spec.secrets, ["alertmanager-receivers"]);
            const secret = objects.find((o) => o.kind === "Secret" && o.metadata.name === `alertmanager-${am.metadata.name}`) as K8sObject;
            const raw = secret.stringData?.["alertmanager.yaml"] ?? Buffer.from(secret.data["alertmanager.yaml"], "base64").toString();
            assert.match(raw, /receiver: platform-team/);
            assert.match(raw, /name: "null"/);
            const prometheus = objects.find((o) => o.kind === "Prometheus") as K8sObject;
            for (const k of [
                "serviceMonitorSelector",
                "serviceMonitorNamespaceSelector",
                "podMonitorSelector",
                "podMonitorNamespaceSelector",
                "ruleSelector",
                "ruleNamespaceSelector",
            ])
                assert.deepStrictEqual(prometheus.spec[k], {}, k);
            // The chart's rules cover nodes NotReady and disks and volumes filling; ours add the rest (platform/observability/rules.ts).
            const alerts = objects
                .filter((o) => o.kind === "PrometheusRule")
                .flatMap((r) => r.spec.groups.flatMap((g: any) => g.rules.map((x: any) => x.alert)));
            for (const a of [
                "KubeNodeNotReady",
                "NodeFilesystemSpaceFillingUp",
                "NodeFilesystemAlmostOutOfSpace",
                "KubePersistentVolumeFillingUp",
                "Watchdog",
                "InfoInhibitor",
            ])
                assert.ok(alerts.includes(a), a);
        });

        it("has each monitor select pods or a Service that its component's chart renders, on a port of that name", () => {
            const all = [...rendered.values()].flatMap(({ rel, objects }) => objects.map((o) => ({ namespace: o.metadata.namespace ?? rel.namespace, o })));
            const missing: string[] = [];
            for (const m of MONITORS.filter((x) => !RUNTIME_PODS.includes(x.component))) {
                if (m.app && !validateConfig(rawGeoplatformConfig(stack), stack).enabledApps.includes(m.app)) continue;
                for (const e of m.endpoints) {
                    const found =
                        m.kind === "PodMonitor"
                            ? all.some(
                                  ({ namespace, o }) =>
                                      m.namespaces.includes(namespace) &&
                                      ["Deployment", "StatefulSet", "DaemonSet"].includes(o.kind) &&
                                      matchesSelector(o.spec.template.metadata?.labels, m.selector) &&
                                      o.spec.template.spec.containers.some((c: any) => (c.ports ?? []).some((p: any) => p.name === e.port)),
                              )
                            : all.some(
                                  ({ namespace, o }) =>
                                      m.namespaces.includes(namespace) &&
                                      o.kind === "Service" &&
                                      matchesSelector(o.metadata.labels, m.selector) &&
                                      (o.spec.ports ?? []).some((p: any) => p.name === e.port),
                              );
                    if (!found) missing.push(`${m.kind} ${m.component} port ${e.port}`);
                }
            }
            assert.deepStrictEqual(missing, []);
        });
    });
}
