import * as assert from "assert";
import { CHARTS } from "../../config/catalog";
import { NODE_GROUP_LABEL } from "../../config/types";
import { validateConfig } from "../../config/validate";
import { chartOf } from "../harness/releases";
import { RecordedResource, runStack, sharedStackRun, StackRun } from "../harness/run-stack";
import { rawGeoplatformConfig, readStackFile } from "../harness/stack-config";

// Spot interruptions: the AWS Node Termination Handler (IMDS mode) on the spot groups of AWS stacks, nowhere else.

const nth = (run: StackRun) =>
    run.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && chartOf(r) === CHARTS.nodeTerminationHandler.chart) as RecordedResource[];

describe("day 2: spot interruptions", () => {
    it("prod: one handler release in IMDS mode on the host network, placed on the spot groups only, tolerating just their taints", async () => {
        const run = await sharedStackRun("prod");
        const [release, ...more] = nth(run);
        assert.ok(release, "installed");
        assert.deepStrictEqual(more, []);
        assert.strictEqual(release.inputs.namespace, "kube-system");
        assert.strictEqual(release.inputs.version, "0.27.6");
        const values = release.inputs.values;
        assert.strictEqual(values.enableSqsTerminationDraining, false, "IMDS mode: a DaemonSet, no queue");
        // hostNetwork: one hop to the metadata service, which the instances' hop limit of 1 allows; pods off the host network stay out.
        assert.strictEqual(values.useHostNetwork, true);
        assert.strictEqual(values.enableSpotInterruptionDraining, true);
        const config = validateConfig(rawGeoplatformConfig("prod"), "prod");
        const spot = Object.entries(config.nodeGroups).filter(([, g]) => g.spot);
        assert.deepStrictEqual(
            spot.map(([n]) => n),
            ["processing"],
        );
        assert.deepStrictEqual(values.daemonsetAffinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [
            { matchExpressions: [{ key: NODE_GROUP_LABEL, operator: "In", values: ["processing"] }] },
        ]);
        assert.deepStrictEqual(
            values.daemonsetTolerations,
            spot[0][1].taints.map((t) => ({ key: t.key, operator: "Equal", value: t.value, effect: t.effect })),
        );
        const instances = run.resources.filter((r) => r.type === "aws:ec2/instance:Instance");
        for (const vm of instances) assert.strictEqual(vm.inputs.metadataOptions.httpPutResponseHopLimit, 1, vm.name);
    });

    it("dev (OpenStack) and an AWS stack without spot groups get none", async () => {
        assert.deepStrictEqual(nth(await sharedStackRun("dev")), []);
        const groups = structuredClone(readStackFile("prod")["geoplatform:nodeGroups"]) as any;
        groups.processing.spot = false;
        assert.deepStrictEqual(nth(await runStack("prod", { "geoplatform:nodeGroups": groups })), []);
    });

    it("a second spot group joins the handler's placement and its taints", async () => {
        const groups = structuredClone(readStackFile("prod")["geoplatform:nodeGroups"]) as any;
        groups.batch = {
            ...structuredClone(groups.processing),
            count: 1,
            taints: [{ key: "geoplatform.io/node-group", value: "batch", effect: "NoSchedule" }],
        };
        const [release] = nth(await runStack("prod", { "geoplatform:nodeGroups": groups }));
        const terms = release.inputs.values.daemonsetAffinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
        assert.deepStrictEqual(terms[0].matchExpressions[0].values, ["processing", "batch"]);
        assert.deepStrictEqual(
            release.inputs.values.daemonsetTolerations.map((t: any) => t.value),
            ["processing", "batch"],
        );
    });
});
