import * as assert from "assert";
import { CHARTS } from "../../config/catalog";
import { NODE_GROUP_LABEL } from "../../config/types";
import { sharedStackRun } from "../harness/run-stack";
import { kubeVersion, releasesOf, render } from "./render";

// The node termination handler as helm renders it from the pinned archive with prod's values.
describe("charts: the node termination handler, rendered", () => {
    it("is one DaemonSet on the host network, on the spot group only, tolerating its taint, polling IMDS for interruptions", async () => {
        const run = await sharedStackRun("prod");
        const rel = releasesOf(run).find((r) => r.entry.chart === CHARTS.nodeTerminationHandler.chart);
        assert.ok(rel);
        const objects = await render(rel, rel.values, { kubeVersion: kubeVersion("prod"), apiVersions: [], includeCrds: true });
        const workloads = objects.filter((o) => ["DaemonSet", "Deployment", "StatefulSet"].includes(o.kind));
        assert.deepStrictEqual(
            workloads.map((o) => o.kind),
            ["DaemonSet"],
            "IMDS mode: no queue-processor Deployment",
        );
        const pod = workloads[0].spec.template.spec;
        assert.strictEqual(pod.hostNetwork, true, "one hop to IMDS: the hop limit of 1 lets it through");
        assert.deepStrictEqual(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [
            { matchExpressions: [{ key: NODE_GROUP_LABEL, operator: "In", values: ["processing"] }] },
        ]);
        assert.deepStrictEqual(pod.tolerations, [{ key: NODE_GROUP_LABEL, operator: "Equal", value: "processing", effect: "NoSchedule" }]);
        const env = Object.fromEntries(pod.containers[0].env.filter((e: any) => "value" in e).map((e: any) => [e.name, e.value]));
        assert.strictEqual(env.ENABLE_SPOT_INTERRUPTION_DRAINING, "true");
        assert.strictEqual(env.ENABLE_SQS_TERMINATION_DRAINING, "false");
        assert.match(pod.containers[0].image, /:v1\.25\.6$/, "the chart's pinned image");
    });
});
