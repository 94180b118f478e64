import * as pulumi from "@pulumi/pulumi";
import * as assert from "assert";
import { K3S_SERVERS_OUTPUT, serverRollProblem } from "../../config/roll-guard";
import { validateConfig } from "../../config/validate";
import { RecordedResource, runStack, StackRun } from "../harness/run-stack";
import { rawGeoplatformConfig, readStackFile, StackName } from "../harness/stack-config";

// Review F3 (issue 13): validation counts the stack file's servers, so growing from 1 to 3 servers while rolling the
// first would delete the only running server before the others exist. The guard reads the servers the last update
// recorded (stack output k3sServers) and refuses before anything is registered.

const SELF = { dev: "organization/geoplatform/dev", prod: "organization/geoplatform/prod" };
const DEV_SERVERS = ["dev-control-plane-1"];
const PROD_SERVERS = ["prod-control-plane-1", "prod-control-plane-2", "prod-control-plane-3"];

function withServers(stack: StackName, count: number): Record<string, unknown> {
    const groups = structuredClone(readStackFile(stack)["geoplatform:nodeGroups"]) as Record<string, { count: number }>;
    groups["control-plane"].count = count;
    return { "geoplatform:nodeGroups": groups };
}

type Failure = Error & { recorded?: RecordedResource[]; stackReads?: string[] };
const byName = (run: StackRun, name: string) => run.resources.find((r) => r.name === name) as RecordedResource;
const stdin = (run: StackRun, name: string) => String(byName(run, name).inputs.stdin);
async function refused(stack: StackName, patch: Record<string, unknown>, previousOutputs?: Record<string, unknown>): Promise<Failure> {
    return runStack(stack, patch, { previousOutputs }).then(
        () => assert.fail("the roll was accepted"),
        (e: Failure) => e,
    );
}

/** One problem, nothing registered but the Stack itself, the stack's own outputs read once. */
function assertRefusedUpFront(error: Failure, stack: StackName, pattern: RegExp): void {
    const lines = error.message.split("\n").slice(1);
    assert.strictEqual(lines.length, 1, error.message);
    assert.match(lines[0], pattern);
    assert.deepStrictEqual(
        (error.recorded ?? []).map((r) => r.type),
        ["pulumi:pulumi:Stack"],
    );
    assert.deepStrictEqual(error.stackReads, [SELF[stack]]);
}

describe("day 2: a server roll that no running server would survive is refused up front (rollNodes, review F3)", () => {
    it("dev grown from 1 to 3 servers while rolling its first: refused before any resource, naming the key and the output", async () => {
        const error = await refused(
            "dev",
            { ...withServers("dev", 3), "geoplatform:rollNodes": ["dev-control-plane-1"] },
            { [K3S_SERVERS_OUTPUT]: DEV_SERVERS },
        );
        assertRefusedUpFront(
            error,
            "dev",
            /^ {2}- geoplatform:rollNodes\[0\]: got "dev-control-plane-1", expected .*the last update left \["dev-control-plane-1"\] \(stack output k3sServers\).*delete the only running server and its etcd.*without dev-control-plane-1 in rollNodes, then roll it in the next$/,
        );
    });

    it("no k3sServers output (a first run, or a stack from before this release): refused with the step to take", async () => {
        for (const previous of [undefined, { kubeconfig: "x" }, { [K3S_SERVERS_OUTPUT]: "prod-control-plane-2" }]) {
            const error = await refused("prod", { "geoplatform:rollNodes": ["prod-processing-1", "prod-control-plane-2"] }, previous);
            assertRefusedUpFront(
                error,
                "prod",
                /^ {2}- geoplatform:rollNodes\[1\]: got "prod-control-plane-2", expected .*no k3sServers output .*run one `pulumi up` without rolling a server first, then roll it$/,
            );
        }
    });

    it("prod with its 3 servers recorded: rolling one (the first included) is accepted, and the first server's install must join", async () => {
        for (const name of PROD_SERVERS) {
            const run = await runStack("prod", { "geoplatform:rollNodes": [name] }, { previousOutputs: { [K3S_SERVERS_OUTPUT]: PROD_SERVERS } });
            assert.deepStrictEqual(run.stackReads, [SELF.prod]);
            for (const server of PROD_SERVERS) {
                assert.strictEqual(/^CLUSTER_EXISTS='true'$/m.test(stdin(run, `${server}-k3s`)), server === "prod-control-plane-1", `${name}: ${server}`);
            }
        }
    });

    it("the outputs are read once per run on a stack of several servers (shared by the guard and the install), never on a single server's", async () => {
        const runs: StackRun[] = [
            await runStack("dev", { "geoplatform:rollNodes": ["dev-system-1", "dev-processing-1"] }),
            await runStack("prod", { "geoplatform:rollNodes": ["prod-bastion"] }),
        ];
        assert.deepStrictEqual(runs[0].stackReads, []);
        assert.deepStrictEqual(runs[1].stackReads, [SELF.prod]);
        assert.doesNotMatch(stdin(runs[0], "dev-control-plane-1-k3s"), /^(CLUSTER_EXISTS|REGISTRATION_ADDRESS)=/m, "a single server bootstraps");
    });

    it("exports the stack's servers as k3sServers, plain", async () => {
        for (const [stack, servers] of [
            ["dev", DEV_SERVERS],
            ["prod", PROD_SERVERS],
        ] as const) {
            const run = await runStack(stack);
            assert.deepStrictEqual(run.outputs[K3S_SERVERS_OUTPUT], servers);
            assert.ok(!run.secretOutputs.some((p) => p.startsWith(K3S_SERVERS_OUTPUT)), run.secretOutputs.join(", "));
            const installs = run.resources.filter((r) => servers.some((s) => r.name === `${s}-k3s`));
            assert.strictEqual(installs.length, servers.length);
        }
    });

    it("the rule: another server recorded at the last update and still in the config", () => {
        const config = (stack: StackName, count: number) => {
            const raw = structuredClone(rawGeoplatformConfig(stack)) as any;
            raw.nodeGroups["control-plane"].count = count;
            return validateConfig(raw, stack);
        };
        const dev3 = config("dev", 3);
        assert.match(serverRollProblem(dev3, "dev", "dev-control-plane-1", DEV_SERVERS) ?? "", /delete the only running server/);
        // A server that does not exist yet is created, not rolled: the running one stays.
        assert.strictEqual(serverRollProblem(dev3, "dev", "dev-control-plane-2", DEV_SERVERS), undefined);
        // The other recorded servers leave the config in the same run (5 to 3).
        const prod3 = config("prod", 3);
        const five = [...PROD_SERVERS, "prod-control-plane-4", "prod-control-plane-5"];
        assert.match(serverRollProblem(prod3, "prod", "prod-control-plane-1", ["prod-control-plane-1", ...five.slice(3)]) ?? "", /only running server/);
        assert.strictEqual(serverRollProblem(prod3, "prod", "prod-control-plane-1", five), undefined);
        for (const malformed of [undefined, [], "prod-control-plane-2", [1, 2]]) {
            assert.match(serverRollProblem(prod3, "prod", "prod-control-plane-1", malformed) ?? "", /no k3sServers output/, JSON.stringify(malformed));
        }
    });
});

// Review M3: a first server replaced outside a roll (`pulumi up --replace`, a VM recreated after a refresh dropped it)
// decided join or bootstrap on one probe of the registration address, so a probe that failed once started a second
// cluster. The servers the last update recorded now tell the install that a cluster must exist.
describe("day 2: a replaced first server must join the servers the last update recorded (review M3)", () => {
    const SNAPSHOT = { "geoplatform:restore": { k3s: { snapshot: "etcd-snapshot-prod-control-plane-1-1764633600.zip" } } };

    it("prod with other servers recorded: the first server's install gets CLUSTER_EXISTS; a first run (no output) or only itself recorded: not", async () => {
        const recorded = await runStack("prod", {}, { previousOutputs: { [K3S_SERVERS_OUTPUT]: PROD_SERVERS } });
        assert.match(stdin(recorded, "prod-control-plane-1-k3s"), /^CLUSTER_EXISTS='true'$/m);
        assert.match(stdin(recorded, "prod-control-plane-1-k3s"), /^REGISTRATION_ADDRESS='10\.20\.0\.10'$/m);
        for (const previousOutputs of [undefined, { [K3S_SERVERS_OUTPUT]: ["prod-control-plane-1"] }, { [K3S_SERVERS_OUTPUT]: "prod-control-plane-2" }]) {
            const run = await runStack("prod", {}, { previousOutputs });
            assert.deepStrictEqual(run.stackReads, [SELF.prod]);
            assert.doesNotMatch(stdin(run, "prod-control-plane-1-k3s"), /^CLUSTER_EXISTS=/m, JSON.stringify(previousOutputs));
            // The flag is in stdin only: on a running server its first appearance is an update, which runs the
            // idempotent install once ("up to date"); the triggers, which replace, stay the same.
            assert.deepStrictEqual(byName(run, "prod-control-plane-1-k3s").inputs.triggers, byName(recorded, "prod-control-plane-1-k3s").inputs.triggers);
        }
    });

    it("not while a restore is configured (a lost cluster's new first server bootstraps, then restore-etcd.sh resets it), unless that server is rolled", async () => {
        const previousOutputs = { [K3S_SERVERS_OUTPUT]: PROD_SERVERS };
        const restoring = await runStack("prod", SNAPSHOT, { previousOutputs });
        assert.doesNotMatch(stdin(restoring, "prod-control-plane-1-k3s"), /^CLUSTER_EXISTS=/m);
        assert.ok(byName(restoring, "prod-etcd-restore"), "the restore runs on the first server");
        const rolled = await runStack("prod", { ...SNAPSHOT, "geoplatform:rollNodes": ["prod-control-plane-1"] }, { previousOutputs });
        assert.match(stdin(rolled, "prod-control-plane-1-k3s"), /^CLUSTER_EXISTS='true'$/m);
    });

    it("warns while a restore stays configured beside recorded servers, since the first server then decides on one probe", async () => {
        const warnings: string[] = [];
        const warn = pulumi.log.warn;
        pulumi.log.warn = async (message: string) => void warnings.push(message);
        try {
            await runStack("prod", SNAPSHOT, { previousOutputs: { [K3S_SERVERS_OUTPUT]: PROD_SERVERS } });
            const restoreWarnings = () => warnings.filter((w) => w.includes("geoplatform:restore.k3s is set"));
            assert.strictEqual(restoreWarnings().length, 1, JSON.stringify(warnings));
            assert.match(restoreWarnings()[0], /once the restore is done, remove it; .*could start a second, empty cluster/);
            warnings.length = 0;
            await runStack("prod", {}, { previousOutputs: { [K3S_SERVERS_OUTPUT]: PROD_SERVERS } });
            await runStack("prod", SNAPSHOT);
            assert.deepStrictEqual(restoreWarnings(), [], "no restore, or no other server recorded: nothing to say");
        } finally {
            pulumi.log.warn = warn;
        }
    });
});
