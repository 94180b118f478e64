import * as assert from "assert";
import { validateConfig } from "../../config/validate";
import { AWS_BASTION_IGNORED, AWS_NODE_IGNORED, OPENSTACK_BASTION_IGNORED, OPENSTACK_NODE_IGNORED } from "../../infra/lifecycle";
import { RecordedResource, runStack, sharedStackRun, StackRun } from "../harness/run-stack";
import { rawGeoplatformConfig, readStackFile, StackName } from "../harness/stack-config";
import { deletedBeforeReplacement, deletionSteps, Plan, planChanges } from "./plan";

// Day-2 changes simulated on the mocked program: the real stack file, then the
// same file with one change, and what `pulumi up` would do between the two.

const AWS_VM = "aws:ec2/instance:Instance";
const OS_VM = "openstack:compute/instance:Instance";
const vms = (run: StackRun) => run.resources.filter((r) => r.type === AWS_VM || r.type === OS_VM);
const isBastion = (r: RecordedResource) => r.name.endsWith("-bastion");

/** The stack file's value of `geoplatform:<key>`, deep-copied and edited. */
function edited<T = any>(stack: StackName, key: string, edit: (value: T) => void): Record<string, unknown> {
    const value = structuredClone(readStackFile(stack)[`geoplatform:${key}`]) as T;
    edit(value);
    return { [`geoplatform:${key}`]: value };
}

const DATA_VOLUMES = ["aws:ebs/volume:Volume", "openstack:blockstorage/volume:Volume"];

/** No Longhorn data volume replaced or deleted: the change keeps every replica's disk. */
function assertNoDataLost(before: StackRun, after: StackRun, plan: Plan): void {
    const volumes = before.resources.filter((r) => DATA_VOLUMES.includes(r.type));
    assert.ok(volumes.length > 0);
    for (const v of volumes) {
        assert.ok(!plan.replacedUrns.includes(v.urn), `${v.name} replaced: ${JSON.stringify(plan.reasons[v.name])}`);
        assert.ok(
            after.resources.some((r) => r.urn === v.urn),
            `${v.name} deleted`,
        );
    }
}

async function change(stack: StackName, patch: Record<string, unknown>): Promise<{ before: StackRun; after: StackRun; plan: Plan }> {
    const before = await sharedStackRun(stack);
    const after = await runStack(stack, patch);
    const plan = planChanges(before, after);
    assertNoDataLost(before, after, plan);
    return { before, after, plan };
}

describe("day 2: infrastructure changes", function () {
    describe("VM images are pinned ids", () => {
        it("boots every VM from the stack file's image id, with no lookup", async () => {
            const dev = await sharedStackRun("dev");
            const imageId = validateConfig(rawGeoplatformConfig("dev"), "dev").openstack?.imageId;
            assert.match(imageId ?? "", /^[0-9a-f-]{36}$/);
            for (const vm of vms(dev)) assert.strictEqual(vm.inputs.blockDevices[0].uuid, imageId, vm.name);
            const prod = await sharedStackRun("prod");
            const ami = validateConfig(rawGeoplatformConfig("prod"), "prod").aws?.ami;
            for (const vm of vms(prod)) assert.strictEqual(vm.inputs.ami, ami, vm.name);
            // The harness answers no image or AMI lookup: a lookup would have failed these runs.
        });

        it("never lets a new image, key, zone or user data replace a running node or the bastion (its server list comes over SSH)", async () => {
            for (const [stack, node, bastion] of [
                ["dev", OPENSTACK_NODE_IGNORED, OPENSTACK_BASTION_IGNORED],
                ["prod", AWS_NODE_IGNORED, AWS_BASTION_IGNORED],
            ] as const) {
                for (const vm of vms(await sharedStackRun(stack))) {
                    assert.deepStrictEqual(vm.options.ignoreChanges, isBastion(vm) ? bastion : node, vm.name);
                }
            }
            assert.ok(AWS_NODE_IGNORED.includes("ami") && AWS_NODE_IGNORED.includes("keyName") && AWS_NODE_IGNORED.includes("userData"));
            assert.ok(OPENSTACK_NODE_IGNORED.includes("blockDevices") && OPENSTACK_NODE_IGNORED.includes("keyPair"));
            assert.ok(AWS_BASTION_IGNORED.includes("userData") && OPENSTACK_BASTION_IGNORED.includes("userData"));
            assert.ok(!AWS_BASTION_IGNORED.includes("privateIp"), "the registration address is the bastion's own");
        });

        for (const stack of ["dev", "prod"] as const) {
            it(`${stack}: a newly published image replaces nothing; it is what a new or rolled VM boots`, async () => {
                const patch =
                    stack === "dev"
                        ? edited(stack, "openstack", (o: any) => (o.imageId = "11111111-2222-4333-8444-555555555555"))
                        : edited(stack, "aws", (a: any) => (a.ami = "ami-0fedcba9876543210"));
                const { after, plan } = await change(stack, patch);
                assert.deepStrictEqual(plan.replace, [], JSON.stringify(plan.reasons));
                assert.deepStrictEqual(plan.delete, []);
                const images = vms(after).map((vm) => (stack === "dev" ? vm.inputs.blockDevices[0].uuid : vm.inputs.ami));
                assert.ok(images.every((i) => i === "11111111-2222-4333-8444-555555555555" || i === "ami-0fedcba9876543210"));
            });
        }
    });

    describe("the deliberate image roll (geoplatform:rollNodes)", () => {
        const NEW_IMAGE = { dev: "11111111-2222-4333-8444-555555555555", prod: "ami-0fedcba9876543210" };
        const newImage = (stack: StackName) =>
            stack === "dev" ? edited(stack, "openstack", (o: any) => (o.imageId = NEW_IMAGE.dev)) : edited(stack, "aws", (a: any) => (a.ami = NEW_IMAGE.prod));
        const imageOf = (vm: RecordedResource) => (vm.type === OS_VM ? vm.inputs.blockDevices[0].uuid : vm.inputs.ami);
        // Not dev's only server: validation refuses it (below).
        const LAST_UPDATE = {
            dev: { k3sServers: ["dev-control-plane-1"] },
            prod: { k3sServers: ["prod-control-plane-1", "prod-control-plane-2", "prod-control-plane-3"] },
        };
        const rolls = { dev: ["dev-system-1", "dev-processing-1", "dev-bastion"], prod: ["prod-control-plane-2", "prod-processing-1", "prod-bastion"] };
        for (const stack of ["dev", "prod"] as const) {
            for (const name of rolls[stack]) {
                it(`${stack}: a new image with rollNodes [${name}] replaces ${name} alone, which boots the new image; the others keep ignoring it`, async () => {
                    const before = await sharedStackRun(stack);
                    // The image id was published in an earlier run (which replaced nothing); this run lists the node.
                    const published = await runStack(stack, newImage(stack));
                    // A server is rolled only beside another that the last update recorded (config/roll-guard.ts).
                    const after = await runStack(stack, { ...newImage(stack), "geoplatform:rollNodes": [name] }, { previousOutputs: LAST_UPDATE[stack] });
                    assert.deepStrictEqual(
                        planChanges(before, published).replace.filter((n) => vms(published).some((vm) => vm.name === n)),
                        [],
                    );
                    // The state after that run still holds the old image for every VM (ignored fields keep their state value):
                    // compared with the first run's inputs.
                    const plan = planChanges(before, after);
                    const replacedVms = plan.replace.filter((n) => vms(after).some((vm) => vm.name === n));
                    assert.deepStrictEqual(replacedVms, [name], JSON.stringify(plan.reasons));
                    assert.deepStrictEqual(plan.reasons[name], [stack === "dev" ? "blockDevices[0].uuid" : "ami"]);
                    assertNoDataLost(before, after, plan);
                    for (const vm of vms(after)) {
                        // What the engine plans with: ignored fields keep the old state's value (so --replace alone boots the old image).
                        const ignoresImage = vm.options.ignoreChanges.includes(stack === "dev" ? "blockDevices" : "ami");
                        assert.strictEqual(ignoresImage, vm.name !== name, vm.name);
                        assert.strictEqual(vm.options.ignoreChanges.includes("userData"), vm.name !== name, `${vm.name} userData`);
                    }
                    assert.strictEqual(imageOf(vms(after).find((vm) => vm.name === name) as RecordedResource), NEW_IMAGE[stack]);
                });
            }
        }

        it("dev: the new image published, then rollNodes [dev-control-plane-1] (its only server) is refused before any resource is registered", async () => {
            await runStack("dev", newImage("dev"));
            const error = await runStack("dev", { ...newImage("dev"), "geoplatform:rollNodes": ["dev-control-plane-1"] }).then(
                () => assert.fail("the roll of dev's only server was accepted"),
                (e: Error & { recorded?: RecordedResource[] }) => e,
            );
            const lines = error.message.split("\n").slice(1);
            assert.strictEqual(lines.length, 1, error.message);
            assert.match(
                lines[0],
                /geoplatform:rollNodes\[0\]: got "dev-control-plane-1", expected not the stack's only server: its replacement would start a new, empty cluster .*go to 3 servers first \(nodeGroups\.control-plane\.count: 3\).*geoplatform:restore\.k3s/,
            );
            assert.deepStrictEqual(vms({ resources: error.recorded ?? [] } as StackRun), []);
        });

        it("refuses a stack's only server and more than one server per run, one message each; a second server with agents is accepted", () => {
            const problems = (stack: StackName, rollNodes: unknown) => {
                try {
                    validateConfig({ ...rawGeoplatformConfig(stack), rollNodes }, stack);
                    return [];
                } catch (e) {
                    return (e as Error).message.split("\n").slice(1);
                }
            };
            // The first server and the bastion roll alone (test/config.test.ts); another server does not.
            assert.deepStrictEqual(problems("prod", ["prod-control-plane-2", "prod-processing-1", "prod-system-3"]), []);
            const two = problems("prod", ["prod-control-plane-2", "prod-system-1", "prod-control-plane-3"]);
            assert.deepStrictEqual(two, [
                '  - geoplatform:rollNodes[2]: got "prod-control-plane-3", expected one server per run (rollNodes[0] is prod-control-plane-2): etcd keeps quorum with one server away, not two',
            ]);
            const only = problems("dev", ["dev-system-1", "dev-control-plane-1"]);
            assert.strictEqual(only.length, 1, only.join("\n"));
            assert.match(only[0], /rollNodes\[1\]: got "dev-control-plane-1", expected not the stack's only server/);
            // Validation counts the stack file's servers and accepts this; the roll guard checks the running ones (roll-guard.test.ts).
            const grown = { ...rawGeoplatformConfig("dev") } as any;
            grown.nodeGroups = structuredClone(grown.nodeGroups);
            grown.nodeGroups["control-plane"].count = 3;
            assert.doesNotThrow(() => validateConfig({ ...grown, rollNodes: ["dev-control-plane-1"] }, "dev"));
        });

        // Grown from 1 to 3 in the roll's own run, the roll guard refuses it before the run (test/day2/roll-guard.test.ts).
        it("dev grown to 3 servers in an earlier run, then its first server rolled: the install must join (CLUSTER_EXISTS), the version is checked on the second", async () => {
            const grown = edited("dev", "nodeGroups", (g: any) => (g["control-plane"].count = 3));
            const recorded = { k3sServers: ["dev-control-plane-1", "dev-control-plane-2", "dev-control-plane-3"] };
            const rolled = await runStack(
                "dev",
                { ...grown, ...newImage("dev"), "geoplatform:rollNodes": ["dev-control-plane-1"] },
                { previousOutputs: recorded },
            );
            const byName = (run: StackRun, name: string) => run.resources.find((r) => r.name === name) as RecordedResource;
            const stdin = (run: StackRun, name: string) => String(byName(run, name).inputs.stdin);
            assert.match(stdin(rolled, "dev-control-plane-1-k3s"), /^CLUSTER_EXISTS='true'$/m);
            assert.match(stdin(rolled, "dev-control-plane-1-k3s"), /^REGISTRATION_ADDRESS='/m);
            assert.doesNotMatch(stdin(rolled, "dev-control-plane-2-k3s"), /^CLUSTER_EXISTS=/m, "only the first server bootstraps");
            const notRolled = await runStack("dev", grown);
            assert.doesNotMatch(stdin(notRolled, "dev-control-plane-1-k3s"), /^CLUSTER_EXISTS=/m);

            // Review m1: the rolled first server is a new, empty VM, where any version would pass ("no K3s on this server
            // yet"): the check runs on the second server, which runs K3s, and still comes before every install.
            const host = (run: StackRun, name: string) => byName(run, name).inputs.connection.host;
            const check = byName(rolled, "dev-k3s-version-check");
            assert.strictEqual(check.inputs.connection.host, host(rolled, "dev-control-plane-2-k3s"));
            assert.notStrictEqual(check.inputs.connection.host, host(rolled, "dev-control-plane-1-k3s"));
            assert.ok(byName(rolled, "dev-control-plane-1-k3s").dependencies.includes(check.urn), "the first install waits for the check");
            const second = await runStack(
                "dev",
                { ...grown, ...newImage("dev"), "geoplatform:rollNodes": ["dev-control-plane-2"] },
                { previousOutputs: recorded },
            );
            assert.strictEqual(byName(second, "dev-k3s-version-check").inputs.connection.host, host(second, "dev-control-plane-1-k3s"));
            assert.strictEqual(byName(notRolled, "dev-k3s-version-check").inputs.connection.host, host(notRolled, "dev-control-plane-1-k3s"));
        });

        it("refuses a name that is not a VM of the stack, a repeated one and a non-string, one message each", () => {
            const problems = (stack: StackName, rollNodes: unknown) => {
                try {
                    validateConfig({ ...rawGeoplatformConfig(stack), rollNodes }, stack);
                    return [];
                } catch (e) {
                    return (e as Error).message.split("\n").slice(1);
                }
            };
            assert.deepStrictEqual(problems("dev", ["dev-system-1", "dev-processing-1"]), []);
            const bad = problems("dev", ["prod-system-1", "dev-system-2", "dev-system-1", "dev-system-1", 7]);
            assert.strictEqual(bad.length, 4, bad.join("\n"));
            assert.match(
                bad[0],
                /geoplatform:rollNodes\[0\]: got "prod-system-1", expected the name of a VM of stack dev \(dev-control-plane-1, dev-system-1, dev-processing-1, dev-bastion\)/,
            );
            assert.match(bad[1], /rollNodes\[1\]: got "dev-system-2", expected the name of a VM/);
            assert.match(bad[2], /rollNodes\[3\]: got "dev-system-1", expected each VM once/);
            assert.match(bad[3], /rollNodes\[4\]: got 7, expected a VM name/);
            assert.deepStrictEqual(problems("prod", "prod-system-1"), ['  - geoplatform:rollNodes: got "prod-system-1", expected a list']);
            // With the node groups refused, the VM names are unknown: no second message.
            const withBadGroups = (() => {
                try {
                    validateConfig({ ...rawGeoplatformConfig("dev"), nodeGroups: [], rollNodes: ["dev-x-1"] }, "dev");
                    return "";
                } catch (e) {
                    return (e as Error).message;
                }
            })();
            assert.match(withBadGroups, /geoplatform:nodeGroups/);
            assert.doesNotMatch(withBadGroups, /rollNodes/);
        });
    });

    describe("OpenStack replacements", () => {
        it("deletes a VM before booting its replacement on the same pre-created port", async () => {
            const dev = await sharedStackRun("dev");
            for (const vm of vms(dev)) {
                assert.strictEqual(vm.options.deleteBeforeReplace, true, vm.name);
                assert.match(JSON.stringify(vm.inputs.networks), new RegExp(`"${vm.name}-port-id"`), vm.name);
            }
        });

        it("dev from 1 to 3 servers: two servers added, the forwarder's list updated over SSH, no VM replaced", async () => {
            const { before, after, plan } = await change(
                "dev",
                edited("dev", "nodeGroups", (g: any) => (g["control-plane"].count = 3)),
            );
            // The first server's K3s config (cluster-init included) is the same: only its script's input gains the registration address.
            const firstVars = (run: StackRun) => {
                const install = run.resources.find((r) => r.name === "dev-control-plane-1-k3s") as RecordedResource;
                return Object.fromEntries([...String(install.inputs.stdin).matchAll(/^([A-Z0-9_]+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
            };
            const [was, is] = [firstVars(before), firstVars(after)];
            assert.ok(was.K3S_CONFIG_B64 && Buffer.from(was.K3S_CONFIG_B64, "base64").toString("utf8").includes("cluster-init: true"));
            assert.strictEqual(is.K3S_CONFIG_B64, was.K3S_CONFIG_B64);
            const changed = [...new Set([...Object.keys(was), ...Object.keys(is)])].filter((k) => was[k] !== is[k]);
            assert.deepStrictEqual(changed, ["REGISTRATION_ADDRESS"]);
            const added = plan.create.filter((n) => after.resources.some((r) => r.name === n && r.type === OS_VM));
            assert.deepStrictEqual(added, ["dev-control-plane-2", "dev-control-plane-3"]);
            assert.ok(plan.create.includes("dev-control-plane-2-port") && plan.create.includes("dev-control-plane-3-port"));
            const replacedVms = plan.replace.filter((n) => vms(after).some((vm) => vm.name === n));
            assert.deepStrictEqual(replacedVms, [], JSON.stringify(plan.reasons));
            assert.ok(plan.update.includes("dev-api-forwarder"), "the new servers join its list");
            assert.ok(!plan.replace.includes("dev-api-forwarder"));
            // Every first server runs embedded etcd from the start (cluster-init, for its S3 snapshots): no install restarts.
            const installs = plan.replace.filter((n) => n.endsWith("-k3s"));
            assert.deepStrictEqual(installs, [], JSON.stringify(plan.reasons));
            assert.deepStrictEqual(plan.delete, []);
        });
    });

    describe("size changes", () => {
        it("chains each group's VMs, so a change that stops a VM reaches one VM of the group at a time", async () => {
            for (const stack of ["dev", "prod"] as const) {
                const run = await sharedStackRun(stack);
                const nodes = vms(run).filter((vm) => !isBastion(vm));
                for (const vm of nodes) {
                    const [, group, index] = /^\w+-(.+)-(\d+)$/.exec(vm.name) as RegExpExecArray;
                    const previous = nodes.find((n) => n.name === `${stack}-${group}-${Number(index) - 1}`);
                    const vmDeps = vm.dependencies.filter((d) => nodes.some((n) => n.urn === d));
                    assert.deepStrictEqual(vmDeps, previous ? [previous.urn] : [], vm.name);
                }
            }
        });

        const LAST_UPDATE = { k3sServers: ["prod-control-plane-1", "prod-control-plane-2", "prod-control-plane-3"] };
        const cloudSteps = (plan: Plan, after: StackRun) => ({
            replaced: plan.replace.filter((n) => vms(after).some((vm) => vm.name === n)),
            updated: plan.update.filter((n) => vms(after).some((vm) => vm.name === n)),
        });

        it("prod: a larger server instance type stops no running VM (an in-place change would, undrained, servers one after the other)", async () => {
            const { after, plan } = await change(
                "prod",
                edited("prod", "aws", (a: any) => (a.instanceTypes.medium = "m6i.xlarge")),
            );
            assert.deepStrictEqual(cloudSteps(plan, after), { replaced: [], updated: [] }, JSON.stringify(plan.reasons));
            for (const vm of vms(after)) assert.ok(vm.options.ignoreChanges.includes("instanceType"), vm.name);
        });

        it("prod: rolled, a server of the larger type is replaced alone (drained by its release, its Node removed, installed anew), not resized in place", async () => {
            const before = await sharedStackRun("prod");
            const after = await runStack(
                "prod",
                { ...edited("prod", "aws", (a: any) => (a.instanceTypes.medium = "m6i.xlarge")), "geoplatform:rollNodes": ["prod-control-plane-2"] },
                { previousOutputs: LAST_UPDATE },
            );
            const plan = planChanges(before, after);
            assertNoDataLost(before, after, plan);
            assert.deepStrictEqual(cloudSteps(plan, after), { replaced: ["prod-control-plane-2"], updated: [] }, JSON.stringify(plan.reasons));
            assert.deepStrictEqual(plan.reasons["prod-control-plane-2"], ["instanceType"]);
            const vm = vms(after).find((r) => r.name === "prod-control-plane-2") as RecordedResource;
            assert.strictEqual(vm.inputs.instanceType, "m6i.xlarge");
            assert.strictEqual(vm.options.deleteBeforeReplace, true);
            for (const name of ["prod-control-plane-2-k3s-release", "prod-control-plane-2-k3s", "prod-control-plane-2-k3s-forget"]) {
                assert.ok(plan.replace.includes(name), `${name} runs again: ${JSON.stringify(plan.reasons[name])}`);
            }
        });

        it("prod: a new spot instance type or spot turned off replaces no running VM; rolled, prod-processing-2 alone is replaced", async () => {
            const newType = edited("prod", "aws", (a: any) => (a.instanceTypes.xlarge = "r6i.8xlarge"));
            const typeChanged = await change("prod", newType);
            assert.deepStrictEqual(cloudSteps(typeChanged.plan, typeChanged.after), { replaced: [], updated: [] }, JSON.stringify(typeChanged.plan.reasons));
            const onDemand = await change(
                "prod",
                edited("prod", "nodeGroups", (g: any) => (g.processing.spot = false)),
            );
            assert.deepStrictEqual(cloudSteps(onDemand.plan, onDemand.after), { replaced: [], updated: [] }, JSON.stringify(onDemand.plan.reasons));

            const before = await sharedStackRun("prod");
            const rolled = await runStack("prod", { ...newType, "geoplatform:rollNodes": ["prod-processing-2"] });
            const plan = planChanges(before, rolled);
            assert.deepStrictEqual(cloudSteps(plan, rolled), { replaced: ["prod-processing-2"], updated: [] }, JSON.stringify(plan.reasons));
            assert.deepStrictEqual(plan.reasons["prod-processing-2"], ["instanceType"]);
        });

        it("prod: rolled, a node whose only change is its user data is replaced, not stopped and started in place undrained", async () => {
            const rolled = await runStack("prod", { "geoplatform:rollNodes": ["prod-system-1"] });
            // The state as an earlier release left it: the same VM with another user data (a changed mount script).
            const before = structuredClone(rolled);
            const vm = before.resources.find((r) => r.type === AWS_VM && r.name === "prod-system-1") as RecordedResource;
            vm.inputs.userData = "#!/bin/sh\n# an earlier release's user data\n";
            const plan = planChanges(before, rolled);
            assert.deepStrictEqual(cloudSteps(plan, rolled), { replaced: ["prod-system-1"], updated: [] }, JSON.stringify(plan.reasons));
            assert.deepStrictEqual(plan.reasons["prod-system-1"], ["userData"]);
            assert.ok(plan.replace.includes("prod-system-1-k3s-release"), "drained by its release first");
            // Not rolled, the same difference is ignored.
            const plain = await sharedStackRun("prod");
            const earlier = structuredClone(plain);
            (earlier.resources.find((r) => r.type === AWS_VM && r.name === "prod-system-1") as RecordedResource).inputs.userData = "old";
            assert.deepStrictEqual(cloudSteps(planChanges(earlier, plain), plain), { replaced: [], updated: [] });
        });

        it("dev: a new flavor resizes no running VM; rolled, dev-processing-1 alone is replaced", async () => {
            const bigger = edited("dev", "openstack", (o: any) => (o.flavors.xlarge = "m1.2xlarge"));
            const { after, plan } = await change("dev", bigger);
            assert.deepStrictEqual(cloudSteps(plan, after), { replaced: [], updated: [] }, JSON.stringify(plan.reasons));
            const before = await sharedStackRun("dev");
            const rolled = await runStack("dev", { ...bigger, "geoplatform:rollNodes": ["dev-processing-1"] });
            const rolledPlan = planChanges(before, rolled);
            assertNoDataLost(before, rolled, rolledPlan);
            assert.deepStrictEqual(cloudSteps(rolledPlan, rolled), { replaced: ["dev-processing-1"], updated: [] }, JSON.stringify(rolledPlan.reasons));
            assert.deepStrictEqual(rolledPlan.reasons["dev-processing-1"], ["flavorName"]);
        });
    });

    describe("one VM of each role replaced on purpose (pulumi up --replace)", () => {
        const roles = {
            dev: ["dev-control-plane-1", "dev-system-1", "dev-processing-1", "dev-bastion"],
            prod: ["prod-control-plane-1", "prod-control-plane-2", "prod-system-1", "prod-processing-2", "prod-bastion"],
        };
        for (const stack of ["dev", "prod"] as const) {
            for (const name of roles[stack]) {
                it(`${stack}: ${name} is replaced alone; its port, address and data volume stay`, async () => {
                    const run = await sharedStackRun(stack);
                    const vm = run.resources.find((r) => r.name === name && (r.type === AWS_VM || r.type === OS_VM)) as RecordedResource;
                    const plan = planChanges(run, run, [vm.urn]);
                    const replacedCloud = plan.replace.filter((n) => run.resources.some((r) => r.name === n && /^(aws|openstack):/.test(r.type)));
                    // The storage node's volume attachment is named like its volume, which stays (checked by URN); on AWS an
                    // ingress node's Elastic IP association (named like the address, which stays) goes with the VM too.
                    const expected = name.includes("-system-") ? [name, `${name}-data`, ...(stack === "prod" ? [`${name}-ip`] : [])] : [name];
                    assert.deepStrictEqual(replacedCloud, expected.sort(), JSON.stringify(plan.reasons));
                    assertNoDataLost(run, run, plan);
                    assert.strictEqual(vm.options.deleteBeforeReplace, true);
                });
            }
        }
    });

    describe("a replaced VM is set up again", () => {
        // What must run again on a new VM: its install (the new VM has no K3s), the removal of its predecessor's Node
        // before that, the readiness wait and its Node's taints and label removals. dependsOn alone would not: the
        // engine replaces a dependent only when its inputs change (pulumi/pulumi pkg/resource/deploy/step_generator.go,
        // calculateDependentReplacements), and an OpenStack replacement keeps the port and so the address.
        const COMMAND = "command:remote:Command";
        const roles = {
            dev: ["dev-control-plane-1", "dev-system-1", "dev-processing-1"],
            prod: ["prod-control-plane-1", "prod-control-plane-2", "prod-system-1", "prod-processing-2"],
        };
        for (const stack of ["dev", "prod"] as const) {
            for (const name of roles[stack]) {
                it(`${stack}: replacing ${name} re-runs its install, its forget, its reconcile, its release (the drain before the delete) and the readiness wait (its new id), no other node's commands`, async () => {
                    const before = await sharedStackRun(stack);
                    const after = await runStack(stack);
                    const vm = after.resources.find((r) => r.name === name && (r.type === AWS_VM || r.type === OS_VM)) as RecordedResource;
                    const plan = planChanges(before, after, [vm.urn]);
                    const commands = plan.replace.filter((n) => after.resources.some((r) => r.name === n && r.type === COMMAND)).sort();
                    const single = stack === "dev" && name.includes("control-plane");
                    // Its host key is read again first (infra/host-keys.ts): the new VM has a new one.
                    const expected = [
                        `${name}-host-key`,
                        `${name}-k3s`,
                        `${name}-reconcile`,
                        `${stack}-nodes-ready`,
                        ...(single ? [] : [`${name}-k3s-forget`, `${name}-k3s-release`]),
                    ].sort();
                    assert.deepStrictEqual(commands, expected, JSON.stringify(plan.reasons));
                    assert.deepStrictEqual(plan.reasons[`${name}-k3s`], [`id of ${name}`]);
                    // On OpenStack the address is the port's and stays: only the id tells the install that the VM is new.
                    const host = (run: StackRun) => (run.resources.find((r) => r.name === `${name}-k3s`) as RecordedResource).inputs.connection.host;
                    assert.strictEqual(host(after), host(before));
                });
            }
        }
    });

    describe("a replaced VM: the old one drained, then deleted, then the new one created (delete-before-replace)", () => {
        // The default replacement creates the new VM first and deletes the old one at the end of the run: the new VM
        // would join while the old kubelet still runs under the same node name (and an OpenStack port or EBS volume is
        // attached to one VM at a time).
        const roles = {
            dev: ["dev-system-1", "dev-processing-1"],
            prod: ["prod-control-plane-1", "prod-control-plane-2", "prod-system-1", "prod-processing-2"],
        };
        for (const stack of ["dev", "prod"] as const) {
            it(`${stack}: every VM is replaced delete-first`, async () => {
                for (const vm of vms(await sharedStackRun(stack))) assert.strictEqual(vm.options.deleteBeforeReplace, true, vm.name);
            });
            for (const name of roles[stack]) {
                it(`${stack}: replacing ${name} drains it (its release command's delete) before its data volume's attachment and the VM are deleted`, async () => {
                    const run = await sharedStackRun(stack);
                    const vm = vms(run).find((r) => r.name === name) as RecordedResource;
                    const plan = planChanges(run, run, [vm.urn]);
                    const release = run.resources.find((r) => r.name === `${name}-k3s-release`) as RecordedResource;
                    assert.deepStrictEqual(release.inputs.triggers, [`${name}-id`]);
                    assert.deepStrictEqual(plan.reasons[`${name}-k3s-release`], [`id of ${name}`]);
                    assert.match(release.inputs.delete, /KEEP_NODE='"'"'true'"'"'/);
                    assert.match(release.inputs.delete, /kubectl drain "\$NODE_NAME"/);
                    assert.strictEqual(release.inputs.create, "true");
                    // The first server is drained from the second, every other node from the first.
                    const on = name.endsWith("-control-plane-1") ? `${stack}-control-plane-2` : `${stack}-control-plane-1`;
                    const address =
                        stack === "prod"
                            ? (vms(run).find((r) => r.name === on) as RecordedResource).state.privateIp
                            : (run.resources.find((r) => r.name === `${on}-port`) as RecordedResource).state.allFixedIps[0];
                    assert.strictEqual(release.inputs.connection.host, address);
                    const order = deletedBeforeReplacement(run, plan, vm.urn);
                    const storage = name.includes("-system-");
                    const at = (n: string) => order.indexOf(n);
                    assert.ok(at(`${name}-k3s-release`) >= 0, order.join(", "));
                    assert.strictEqual(order[order.length - 1], name, "the VM goes last, before its replacement is created");
                    if (storage) {
                        const attachment = run.resources.find((r) => r.name === `${name}-data` && /VolumeAttach/.test(r.type)) as RecordedResource;
                        assert.ok(release.dependencies.includes(attachment.urn));
                        assert.ok(at(`${name}-k3s-release`) < order.lastIndexOf(`${name}-data`), `drained before the detach: ${order.join(", ")}`);
                    }
                    // Nothing that runs on the new VM (install, forget) is deleted with a command that does something.
                    for (const n of order.filter((o) => run.resources.some((r) => r.name === o && r.type === "command:remote:Command"))) {
                        const command = run.resources.find((r) => r.name === n && r.type === "command:remote:Command") as RecordedResource;
                        assert.ok(n === `${name}-k3s-release` || command.inputs.delete === undefined, `${n} runs a delete`);
                    }
                });
            }
        }

        // Why the first server and the bastion roll alone (config/validate.ts rollNodes, test/config.test.ts): every release
        // connects to the first server (the second for the first's own) through the bastion, and is not replaced with them,
        // so its delete in a later replacement would dial the connection the state recorded.
        it("prod: every release connects through the bastion to the first server; replacing either replaces no other VM's release", async () => {
            const run = await sharedStackRun("prod");
            const bastionHost = (run.resources.find((r) => r.name === "prod-api-forwarder") as RecordedResource).inputs.connection.host;
            const firstIp = (vms(run).find((r) => r.name === "prod-control-plane-1") as RecordedResource).state.privateIp;
            const releases = run.resources.filter((r) => r.name.endsWith("-k3s-release"));
            assert.strictEqual(releases.length, vms(run).length - 1, "every VM but the bastion");
            for (const release of releases) {
                assert.strictEqual(release.inputs.connection.proxy.host, bastionHost, release.name);
                if (release.name !== "prod-control-plane-1-k3s-release") assert.strictEqual(release.inputs.connection.host, firstIp, release.name);
            }
            for (const name of ["prod-control-plane-1", "prod-bastion"]) {
                const vm = vms(run).find((r) => r.name === name) as RecordedResource;
                const replaced = planChanges(run, run, [vm.urn]).replace.filter((n) => n.endsWith("-k3s-release"));
                assert.deepStrictEqual(replaced, name === "prod-bastion" ? [] : ["prod-control-plane-1-k3s-release"], name);
            }
        });

        it("dev: the only server has no release (no other server to drain it from), every other node has one", async () => {
            const run = await sharedStackRun("dev");
            const released = run.resources.filter((r) => r.name.endsWith("-k3s-release")).map((r) => r.name);
            assert.deepStrictEqual(released.sort(), ["dev-processing-1-k3s-release", "dev-system-1-k3s-release"]);
        });
    });

    describe("an agent leaving the stack (a group's count lowered)", () => {
        it("prod: processing 3 → 2 deletes prod-processing-3's drain (it drains and removes the Node), then its release (it finds the Node gone), then the VM; nothing else is replaced", async () => {
            const { before, after, plan } = await change(
                "prod",
                edited("prod", "nodeGroups", (g: any) => (g.processing.count = 2)),
            );
            const agent = "prod-processing-3";
            const drain = `${agent}-k3s-drain`;
            const release = `${agent}-k3s-release`;
            assert.ok(plan.delete.includes(drain) && plan.delete.includes(release) && plan.delete.includes(agent), plan.delete.join(", "));
            assert.ok(
                plan.delete.every((n) => n.startsWith(`${agent}-`) || n === agent),
                plan.delete.join(", "),
            );
            const steps = deletionSteps(before, after);
            const step = (n: string) => steps.findIndex((s) => s.includes(n));
            assert.ok(step(drain) < step(release), `the two drains one after the other: ${JSON.stringify(steps)}`);
            assert.ok(step(release) < step(agent), `both before the VM: ${JSON.stringify(steps)}`);
            // The release runs drain-node.sh with KEEP_NODE, which ends at once on a Node already gone (test/k3s-scripts.test.ts).
            const released = before.resources.find((r) => r.name === release) as RecordedResource;
            assert.match(released.inputs.delete, /KEEP_NODE='"'"'true'"'"'/);
            // Only the readiness wait runs again (its node list, a trigger, lost the agent).
            assert.deepStrictEqual(plan.replace, ["prod-nodes-ready"], JSON.stringify(plan.reasons));
        });
    });

    describe("AWS ingress addresses", () => {
        it("prod: each ingress node has its own protected Elastic IP, its public address and the stack's ingressIps output", async () => {
            const run = await sharedStackRun("prod");
            const ingress = vms(run).filter((vm) => vm.inputs.tags?.["geoplatform:edge"] === "ingress");
            const igw = run.resources.find((r) => r.type === "aws:ec2/internetGateway:InternetGateway") as RecordedResource;
            assert.ok(ingress.length >= 2, "ingress nodes never all replaced together needs more than one");
            for (const vm of ingress) {
                const eip = run.resources.find((r) => r.type === "aws:ec2/eip:Eip" && r.name === `${vm.name}-ip`) as RecordedResource;
                assert.ok(eip, vm.name);
                assert.strictEqual(eip.options.protect, true);
                assert.strictEqual(eip.options.retainOnDelete, true);
                assert.strictEqual(eip.inputs.instance, undefined, "associated separately, so a new VM does not touch the address");
                const association = run.resources.find(
                    (r) => r.type === "aws:ec2/eipAssociation:EipAssociation" && r.name === `${vm.name}-ip`,
                ) as RecordedResource;
                assert.strictEqual(association.inputs.instanceId, `${vm.name}-id`);
                assert.strictEqual(association.inputs.allocationId, eip.state.allocationId);
                // AWS associates an Elastic IP only in a VPC whose internet gateway is attached; the node VM does not wait for it.
                assert.ok(association.dependencies.includes(igw.urn), `${vm.name}-ip waits for the internet gateway`);
                assert.ok(!vm.dependencies.includes(igw.urn), `${vm.name}: only the association orders it`);
            }
        });

        it("prod: replacing an ingress VM keeps its Elastic IP; only the association is replaced, deleted before the VM", async () => {
            const run = await sharedStackRun("prod");
            const vm = vms(run).find((r) => r.inputs.tags?.["geoplatform:edge"] === "ingress" && !isBastion(r)) as RecordedResource;
            const plan = planChanges(run, run, [vm.urn]);
            const eip = run.resources.find((r) => r.type === "aws:ec2/eip:Eip" && r.name === `${vm.name}-ip`) as RecordedResource;
            const association = run.resources.find((r) => r.type === "aws:ec2/eipAssociation:EipAssociation" && r.name === `${vm.name}-ip`) as RecordedResource;
            assert.ok(!plan.replacedUrns.includes(eip.urn), JSON.stringify(plan.reasons));
            assert.ok(plan.replacedUrns.includes(association.urn));
            assert.deepStrictEqual(plan.reasons[`${vm.name}-ip`], [`id of ${vm.name}`]);
            assert.ok(deletedBeforeReplacement(run, plan, vm.urn).includes(`${vm.name}-ip`));
        });
    });

    describe("the registration address", () => {
        // On AWS a replaced server gets a new private address. What holds a server's address: its own install (its
        // node-ip) and the forwarder's list (an update over SSH); never the bastion, nor another node's config.
        for (const stack of ["dev", "prod"] as const) {
            it(`${stack}: no server's address reaches the bastion or another node's K3s config; all join through the bastion's private address`, async () => {
                const run = await sharedStackRun(stack);
                const servers = vms(run).filter((vm) => /-control-plane-\d+$/.test(vm.name));
                const addressOf = (vm: RecordedResource) =>
                    stack === "prod" ? vm.state.privateIp : (run.resources.find((r) => r.name === `${vm.name}-port`) as RecordedResource).state.allFixedIps[0];
                const configOf = (r: RecordedResource) => {
                    const b64 = /^K3S_CONFIG_B64='([^']*)'$/m.exec(r.inputs.stdin)?.[1] ?? "";
                    return Buffer.from(b64, "base64").toString("utf8");
                };
                for (const server of servers) {
                    const ip = addressOf(server);
                    assert.match(ip, /^10\./);
                    const text = (r: RecordedResource) => JSON.stringify(r.inputs) + (r.inputs.stdin ? configOf(r) : "");
                    const holders = run.resources
                        .filter((r) => r.custom && r.urn !== server.urn && !r.name.startsWith(`${server.name}-`))
                        .filter((r) => text(r).includes(`"${ip}"`) || text(r).includes(`${ip}:`))
                        .map((r) => r.name);
                    // Commands that run on this server connect to it (connection.host); the forwarder lists it. Nothing else.
                    const allowed = (n: string) =>
                        n === `${stack}-api-forwarder` || (run.resources.find((r) => r.name === n) as RecordedResource).inputs.connection?.host === ip;
                    assert.deepStrictEqual(
                        holders.filter((n) => !allowed(n)),
                        [],
                        `${server.name} (${ip})`,
                    );
                }
                const bastion = vms(run).find(isBastion) as RecordedResource;
                for (const server of servers)
                    assert.ok(!JSON.stringify(bastion.inputs).includes(addressOf(server)), "the bastion's inputs hold no server address");
                const installs = run.resources.filter((r) => r.type === "command:remote:Command" && r.name.endsWith("-k3s"));
                const registration =
                    stack === "prod" ? "10.20.0.10" : (run.resources.find((r) => r.name === `${stack}-bastion-port`) as RecordedResource).state.allFixedIps[0];
                for (const install of installs.slice(1))
                    assert.match(configOf(install), new RegExp(`^server: "https://${registration.replace(/\./g, "\\.")}:6443"$`, "m"), install.name);
            });
        }

        it("prod: replacing a server (the first included) replaces no bastion and no other node's install", async () => {
            const run = await sharedStackRun("prod");
            for (const name of ["prod-control-plane-1", "prod-control-plane-2"]) {
                const vm = vms(run).find((r) => r.name === name) as RecordedResource;
                const plan = planChanges(run, run, [vm.urn]);
                assert.ok(!plan.replace.includes("prod-bastion"), JSON.stringify(plan.reasons));
                const installs = plan.replace.filter((n) => n.endsWith("-k3s"));
                assert.deepStrictEqual(installs, [`${name}-k3s`], JSON.stringify(plan.reasons));
                assert.ok(!plan.replace.includes("prod-api-forwarder"), "a new server address is an update of its list, not a new bastion");
            }
        });

        it("prod: the bastion keeps its fixed private address through a roll (delete-first), and the forwarder runs again on the new one", async () => {
            const before = await sharedStackRun("prod");
            const after = await runStack("prod", {
                ...edited("prod", "aws", (a: any) => (a.ami = "ami-0fedcba9876543210")),
                "geoplatform:rollNodes": ["prod-bastion"],
            });
            const plan = planChanges(before, after);
            assert.deepStrictEqual(
                plan.replace.filter((n) => vms(after).some((vm) => vm.name === n)),
                ["prod-bastion"],
            );
            const bastion = vms(after).find(isBastion) as RecordedResource;
            assert.strictEqual(bastion.inputs.privateIp, "10.20.0.10");
            assert.strictEqual(bastion.options.deleteBeforeReplace, true);
            assert.ok(plan.replace.includes("prod-api-forwarder"), "its haproxy gets the server list again");
            assert.deepStrictEqual(plan.reasons["prod-api-forwarder"], ["id of prod-bastion"]);
            assert.deepStrictEqual(
                plan.replace.filter((n) => n.endsWith("-k3s")),
                [],
                "no node's config names the bastion's id or changing address",
            );
        });
    });

    it("removing a node label replaces and deletes no cloud resource", async () => {
        for (const stack of ["dev", "prod"] as const) {
            const { after, plan } = await change(
                stack,
                edited(stack, "nodeGroups", (g: any) => delete g.system.labels["geoplatform.io/workload"]),
            );
            // The system nodes' install and reconcile commands run again (test/k3s.test.ts); no VM, disk or network piece.
            const cloud = plan.replace.filter((n) => after.resources.some((r) => r.name === n && /^(aws|openstack):/.test(r.type)));
            assert.deepStrictEqual(cloud, [], JSON.stringify(plan.reasons));
            assert.deepStrictEqual(plan.delete, []);
        }
    });
});
