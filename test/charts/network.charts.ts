import * as assert from "assert";
import { PODS } from "../../platform/network/flows";
import { End, evaluate, PolicyObject, selects } from "../harness/netpol";
import { STACKS } from "../harness/stack-config";
import { K8sObject } from "./render";
import { renderStack, StackRender } from "./releases.charts";

// The network model against the charts as they render: the flows' selectors
// pick the charts' pods, and Longhorn's own policies plus ours decide who
// reaches Longhorn's manager and webhook.

const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

/** Pods operators, spawners or Kubernetes create at runtime: no chart template carries these labels. */
/** Pods of the changes made in parallel (SSO, backups, sample data, logs): checked once they are merged (then drop them here). */
const PARALLEL_PODS = new Set(["oauth2Proxy", "realmSync", "barmanCloud", "minioMirror", "sparkSeed", "loki", "alloy"]);
const RUNTIME_PODS = new Set([
    "longhornShareManager",
    "postgres",
    "prometheus",
    "alertmanager",
    "singleuser",
    "sparkJobsInSpark",
    "openeoDriver",
    "geocubeSchema",
]);

function podTemplates(s: StackRender): { namespace: string; labels: Record<string, string> }[] {
    const template = (o: K8sObject) => o.spec?.template ?? o.spec?.jobTemplate?.spec?.template;
    return s.releases.flatMap((r) =>
        (s.rendered.get(r.name) ?? [])
            .filter((o) => template(o)?.spec?.containers)
            .map((o) => ({ namespace: o.metadata.namespace ?? r.namespace, labels: template(o).metadata?.labels ?? {} })),
    );
}

for (const stack of STACKS) {
    describe(`charts: the network model on ${stack}'s rendered charts`, () => {
        let s: StackRender;
        before(async () => {
            s = await renderStack(stack);
        });

        it("every pod a flow names through a chart's labels is a pod of that chart", () => {
            const templates = podTemplates(s);
            const chartNamespaces = new Set(templates.map((t) => t.namespace));
            for (const [key, { namespace, pods }] of Object.entries(PODS)) {
                if (
                    RUNTIME_PODS.has(key) ||
                    PARALLEL_PODS.has(key) ||
                    !chartNamespaces.has(namespace) ||
                    ["sparkHistory", "zookeeper"].includes(key) ||
                    namespace === "geocube"
                )
                    continue;
                assert.ok(
                    templates.some((t) => t.namespace === namespace && selects(pods, t.labels)),
                    `${key} (${namespace} ${JSON.stringify(pods)}) selects no pod template of the charts`,
                );
            }
        });

        it("Longhorn's own policies and ours: the manager answers Longhorn's pods and Prometheus only, the webhook the API server's hosts", () => {
            const ours: PolicyObject[] = s.run.resources
                .filter((r) => r.type === NETPOL)
                .map((r) => ({ namespace: r.inputs.metadata.namespace, name: r.inputs.metadata.name, spec: r.inputs.spec }));
            const longhorn = s.releases.find((r) => r.entry.chart === "longhorn");
            assert.ok(longhorn);
            const chart: PolicyObject[] = (s.rendered.get(longhorn.name) ?? [])
                .filter((o) => o.kind === "NetworkPolicy")
                .map((o) => ({ namespace: o.metadata.namespace ?? longhorn.namespace, name: o.metadata.name, spec: o.spec }));
            assert.deepStrictEqual(chart.map((p) => p.name).sort(), [
                "backing-image-data-source",
                "backing-image-manager",
                "instance-manager",
                "longhorn-manager",
                "longhorn-recovery-backend",
                "longhorn-ui-frontend",
                "longhorn-webhook",
            ]);
            const all = [...ours, ...chart];
            const lh = (labels: Record<string, string>, ip = "10.42.2.14"): End => ({ namespace: "longhorn-system", labels, ip });
            const manager = lh({ app: "longhorn-manager", "longhorn.io/admission-webhook": "longhorn-admission-webhook" });
            const csi = lh({ app: "longhorn-csi-plugin" });
            // A pod of a namespace the platform does not police: its egress is open, so only the destination's ingress decides.
            const stranger: End = { namespace: "default", labels: { app: "anything" }, ip: "10.42.3.20" };
            const prometheus: End = { namespace: "monitoring", labels: { "app.kubernetes.io/name": "prometheus" }, ip: "10.42.1.30" };
            assert.strictEqual(evaluate(all, csi, manager, 9500).allowed, true, "CSI plugin to manager");
            assert.strictEqual(evaluate(all, prometheus, manager, 9500).allowed, true, "Prometheus to manager");
            assert.strictEqual(evaluate(all, stranger, manager, 9500).allowed, false, "any pod to manager");
            assert.strictEqual(evaluate(all, { ip: "10.42.5.0" }, manager, 9502).allowed, true, "API server (another node) to the webhook");
            assert.strictEqual(evaluate(all, stranger, manager, 9502).allowed, false, "any pod to the webhook");
            assert.strictEqual(
                evaluate(all, lh({ "longhorn.io/component": "instance-manager" }), lh({ "longhorn.io/component": "instance-manager" }, "10.42.4.3"), 10010)
                    .allowed,
                true,
            );
            assert.strictEqual(
                evaluate(all, { namespace: "traefik", labels: { "app.kubernetes.io/name": "traefik" } }, lh({ app: "longhorn-ui" }), 8000).allowed,
                true,
            );
            // The chart's instance-manager policy admits the manager and data-path components, not the UI: ours must not widen it.
            assert.strictEqual(
                evaluate(all, lh({ app: "longhorn-ui" }), lh({ "longhorn.io/component": "instance-manager" }), 10010).allowed,
                false,
                "UI to instance manager",
            );
            assert.strictEqual(evaluate(all, lh({ app: "longhorn-ui" }), manager, 9500).allowed, true, "UI to manager");
            assert.strictEqual(evaluate(all, manager, lh({ "longhorn.io/component": "share-manager" }), 9600).allowed, true, "manager to share manager");
        });
    });
}
