import * as assert from "assert";
import { NODE_GROUP_LABEL } from "../../config/types";
import { plainSecretLeaks } from "../harness/secrets";
import { RecordedResource, StackRun } from "../harness/run-stack";
import { STACKS } from "../harness/stack-config";
import { runApps } from "./harness";

// Checks every raw Kubernetes object the apps layer registers: schema
// validity (kubernetes-models, the Kubernetes OpenAPI schema), pinned images,
// requests/limits, placement on a node group, and no secret value anywhere.

const processingToleration = { key: NODE_GROUP_LABEL, operator: "Equal", value: "processing", effect: "NoSchedule" };

/** The kubernetes-models class for a core apiVersion/kind, if the package has one. */
function modelFor(apiVersion: string, kind: string): (new (data: any) => { validate(): void }) | undefined {
    const group = apiVersion.includes("/") ? apiVersion : `v1`;
    try {
        return require(`kubernetes-models/${group}/${kind}`)[kind];
    } catch {
        return undefined;
    }
}

const isRaw = (r: RecordedResource) => r.custom && r.type.startsWith("kubernetes:") && r.inputs.kind && r.type !== "kubernetes:helm.sh/v3:Release";

/** Pod specs of a workload (pod template, CronJob's job template, SparkApplication driver/executor). */
export function podSpecs(r: RecordedResource): { where: string; spec: any }[] {
    const s = r.inputs.spec ?? {};
    switch (r.inputs.kind) {
        case "Deployment":
        case "ReplicationController":
        case "StatefulSet":
        case "DaemonSet":
        case "Job":
            return [{ where: "template", spec: s.template.spec }];
        case "CronJob":
            return [{ where: "jobTemplate", spec: s.jobTemplate.spec.template.spec }];
        case "SparkApplication":
            return [
                { where: "driver", spec: s.driver },
                { where: "executor", spec: s.executor },
            ];
        default:
            return [];
    }
}

for (const stack of STACKS) {
    describe(`apps: raw manifests (${stack})`, () => {
        let run: StackRun;
        before(async () => {
            run = await runApps(stack);
        });
        const raw = () => run.resources.filter(isRaw);
        const workloads = () => raw().filter((r) => podSpecs(r).length > 0);

        it("registers raw objects of every kind the apps need", () => {
            const kinds = new Set(raw().map((r) => r.inputs.kind));
            for (const kind of ["ConfigMap", "Deployment", "Service", "Ingress", "SparkApplication"]) assert.ok(kinds.has(kind), kind);
        });

        it("validates every core object against the Kubernetes OpenAPI schema", () => {
            // Custom resources have no model: test/apps/eo.test.ts checks the WorkflowTemplate.
            const core = raw().filter((r) => r.inputs.kind !== "SparkApplication" && r.inputs.kind !== "WorkflowTemplate");
            assert.ok(core.length > 5);
            for (const r of core) {
                const Model = modelFor(r.inputs.apiVersion, r.inputs.kind);
                assert.ok(Model, `no model for ${r.inputs.apiVersion} ${r.inputs.kind}`);
                assert.doesNotThrow(() => new Model(r.inputs).validate(), `${r.inputs.kind} ${r.name}`);
            }
        });

        it("pins every container image and sets requests and limits on raw workloads", () => {
            for (const r of workloads().filter((x) => x.inputs.kind !== "SparkApplication")) {
                for (const { spec } of podSpecs(r)) {
                    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
                        assert.match(c.image, /:[A-Za-z0-9_][A-Za-z0-9._-]*$/, `${r.name}/${c.name}`);
                        assert.ok(!c.image.endsWith(":latest"), `${r.name}/${c.name}`);
                        assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${r.name}/${c.name} requests`);
                        assert.ok(c.resources?.limits?.cpu && c.resources?.limits?.memory, `${r.name}/${c.name} limits`);
                    }
                }
            }
        });

        it("places every pod on a named node group, tolerating processing's taint there", () => {
            assert.ok(workloads().length > 0);
            for (const r of workloads()) {
                for (const { where, spec } of podSpecs(r)) {
                    const group = spec.nodeSelector?.[NODE_GROUP_LABEL];
                    assert.ok(group === "system" || group === "processing", `${r.name} ${where}: ${group}`);
                    if (group === "processing") assert.deepStrictEqual(spec.tolerations, [processingToleration], `${r.name} ${where}`);
                }
            }
        });

        it("runs the example Spark job and Geocube consolidaters on processing, every other raw workload on system", () => {
            const onProcessing = workloads()
                .filter((r) => podSpecs(r).some(({ spec }) => spec.nodeSelector[NODE_GROUP_LABEL] === "processing"))
                .map((r) => `${r.inputs.kind}/${r.inputs.metadata.name}`)
                .sort();
            assert.deepStrictEqual(onProcessing, EXPECTED_ON_PROCESSING);
        });

        it("never puts a secret value in values or manifests", () => {
            assert.deepStrictEqual(plainSecretLeaks(run.resources), []);
            const text = JSON.stringify(run.resources.map((r) => r.inputs));
            assert.ok(!text.includes("MOCKSECRET"));
        });
    });
}

/** Batch/user workloads (raw) that belong on the processing nodes. */
const EXPECTED_ON_PROCESSING = ["Job/seed-sample-data", "ReplicationController/geocube-consolidater", "SparkApplication/sedona-spatial-join"];
