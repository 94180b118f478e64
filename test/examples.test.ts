import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { validateConfig } from "../config/validate";
import { RecordedResource, runStack } from "./harness/run-stack";
import { readStackFile, REPO_ROOT } from "./harness/stack-config";

// The example stacks in examples/ evaluate as they are, so a user who copies
// one gets a stack that previews.

const EXAMPLES = path.join(REPO_ROOT, "examples");

function exampleConfig(file: string): Record<string, unknown> {
    return (yaml.load(fs.readFileSync(path.join(EXAMPLES, file), "utf8")) as { config: Record<string, unknown> }).config;
}

/** Runs the program with exactly the example's config (the dev stack's keys removed). */
function runExample(file: string) {
    const patch: Record<string, unknown> = Object.fromEntries(Object.keys(readStackFile("dev")).map((k) => [k, undefined]));
    return runStack("dev", { ...patch, ...exampleConfig(file) });
}

const raw = (file: string) =>
    Object.fromEntries(Object.entries(exampleConfig(file)).map(([k, v]) => [k.slice("geoplatform:".length), v])) as Record<string, unknown>;

describe("example stacks", function () {
    this.timeout(120_000);

    it("ships a third stack and a lab stack, each valid", () => {
        const files = fs.readdirSync(EXAMPLES).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f));
        assert.deepStrictEqual(files.sort(), ["Pulumi.lab.yaml", "Pulumi.staging.yaml"]);
        for (const file of files) validateConfig(raw(file), file.split(".")[1]);
    });

    it("staging: the extra node group's VMs carry its label and taint, and only the enabled apps exist", async () => {
        const run = await runExample("Pulumi.staging.yaml");
        const config = validateConfig(raw("Pulumi.staging.yaml"), "staging");
        assert.deepStrictEqual(config.enabledApps, ["jupyterhub", "spark", "argo"]);
        const vms = run.resources.filter((r) => r.type === "aws:ec2/instance:Instance");
        const highmem = vms.filter((r) => r.inputs.tags?.Name?.includes("highmem"));
        assert.strictEqual(highmem.length, 1, vms.map((r) => r.inputs.tags?.Name).join(", "));
        const nodePatches = run.resources.filter((r) => r.type === "kubernetes:core/v1:NodePatch" && JSON.stringify(r.inputs).includes("highmem"));
        assert.ok(nodePatches.length > 0, "the highmem node is labelled through the Kubernetes API");
        const commands = run.resources.filter((r) => r.type === "command:remote:Command").map((r) => JSON.stringify(r.inputs));
        assert.ok(
            commands.some((c) => c.includes("geoplatform.io/node-group=highmem:NoSchedule")),
            "the node registers with its taint",
        );
        const appComponents = (r: RecordedResource) => r.type.startsWith("geoplatform:apps:");
        assert.deepStrictEqual(
            run.resources
                .filter(appComponents)
                .map((r) => r.type)
                .sort(),
            ["geoplatform:apps:ArgoWorkflows", "geoplatform:apps:JupyterHub", "geoplatform:apps:Spark"],
        );
        const namespaces = run.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace").map((r) => r.inputs.metadata.name);
        assert.ok(!namespaces.includes("openeo") && !namespaces.includes("geocube"), namespaces.join(", "));
    });

    it("lab: notebooks and Spark only, on OpenStack", async () => {
        const run = await runExample("Pulumi.lab.yaml");
        const apps = run.resources.filter((r) => r.type.startsWith("geoplatform:apps:")).map((r) => r.type);
        assert.deepStrictEqual(apps.sort(), ["geoplatform:apps:JupyterHub", "geoplatform:apps:Spark"]);
        assert.ok(run.resources.some((r) => r.type === "openstack:compute/instance:Instance"));
        const releases = run.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.inputs.name);
        assert.ok(!releases.includes("argo-workflows") && !releases.includes("openeo"), releases.join(", "));
    });
});
