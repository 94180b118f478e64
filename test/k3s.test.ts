import * as assert from "assert";
import * as yaml from "js-yaml";
import { validateConfig } from "../config/validate";
import { NODE_GROUP_LABEL } from "../config/types";
import { transitiveDeps } from "./harness/dependencies";
import { plainSecretLeaks } from "./harness/secrets";
import { RecordedResource, runStack, sharedStackRuns } from "./harness/run-stack";
import { rawGeoplatformConfig, STACKS } from "./harness/stack-config";

const COMMAND = "command:remote:Command";

/** The variables a rendered script assigns before its body. */
function scriptVars(script: string): Record<string, string> {
    const vars: Record<string, string> = {};
    for (const m of script.matchAll(/^([A-Z0-9_]+)='((?:[^']|'"'"')*)'$/gm)) vars[m[1]] = m[2].replace(/'"'"'/g, "'");
    return vars;
}

function k3sConfigOf(install: RecordedResource): Record<string, any> {
    const b64 = scriptVars(install.inputs.stdin).K3S_CONFIG_B64;
    return yaml.load(Buffer.from(b64, "base64").toString("utf8")) as Record<string, any>;
}


describe("K3s layer", () => {
    const runOf = sharedStackRuns();

    for (const stack of STACKS) {
        describe(stack, () => {
            const run = () => runOf(stack);
            const config = () => validateConfig(rawGeoplatformConfig(stack));
            const commands = () => run().resources.filter((r) => r.type === COMMAND);
            const installs = () => commands().filter((r) => r.name.endsWith("-k3s"));
            const byName = (name: string) => run().resources.find((r) => r.name === name) as RecordedResource;
            const nodeNames = () => installs().map((r) => r.name.replace(/-k3s$/, ""));
            const isServer = (name: string) => config().nodeGroups[name.replace(/^[a-z]+-/, "").replace(/-\d+$/, "")].role === "server";

            it("installs K3s on every node with the pinned version", () => {
                const total = Object.values(config().nodeGroups).reduce((s, g) => s + g.count, 0);
                assert.strictEqual(installs().length, total);
                for (const install of installs()) {
                    assert.strictEqual(install.inputs.create, "sudo bash -s");
                    assert.strictEqual(scriptVars(install.inputs.stdin).K3S_VERSION, config().k3sVersion);
                    assert.match(install.inputs.stdin, /set -euo pipefail/);
                }
            });

            it("installs servers one after another, and agents only after every server", () => {
                const servers = installs().filter((r) => isServer(r.name.replace(/-k3s$/, "")));
                const agents = installs().filter((r) => !servers.includes(r));
                servers.slice(1).forEach((server, i) => assert.ok(server.dependencies.includes(servers[i].urn), `${server.name} waits for ${servers[i].name}`));
                for (const agent of agents) {
                    const deps = transitiveDeps(run(), agent.urn);
                    for (const server of servers) assert.ok(deps.has(server.urn), `${agent.name} waits for ${server.name}`);
                }
            });

            it("starts embedded etcd on exactly one server in HA, joins the others to it", async () => {
                const serverConfigs = installs().filter((r) => isServer(r.name.replace(/-k3s$/, ""))).map(k3sConfigOf);
                const firstIp = serverConfigs[0]["node-ip"];
                if (serverConfigs.length > 1) {
                    assert.deepStrictEqual(serverConfigs.map((c) => c["cluster-init"] === true), [true, ...serverConfigs.slice(1).map(() => false)]);
                } else {
                    assert.strictEqual(serverConfigs[0]["cluster-init"], undefined, "a single server needs no etcd bootstrap");
                }
                assert.strictEqual(serverConfigs[0].server, undefined);
                for (const c of installs().map(k3sConfigOf).slice(1)) assert.strictEqual(c.server, `https://${firstIp}:6443`);
            });

            it("writes each node's group label, labels, taints and role-specific keys", () => {
                for (const install of installs()) {
                    const node = install.name.replace(/-k3s$/, "");
                    const group = node.replace(`${stack}-`, "").replace(/-\d+$/, "");
                    const spec = config().nodeGroups[group];
                    const c = k3sConfigOf(install);
                    assert.strictEqual(c["node-name"], node);
                    assert.ok(c["node-label"].includes(`${NODE_GROUP_LABEL}=${group}`));
                    for (const [k, v] of Object.entries(spec.labels)) assert.ok(c["node-label"].includes(`${k}=${v}`));
                    assert.deepStrictEqual(c["node-taint"] ?? [], spec.taints.map((t) => `${t.key}=${t.value}:${t.effect}`));
                    assert.match(c.token, /^MOCKSECRET-password-/);
                    if (spec.role === "server") {
                        assert.deepStrictEqual(c.disable, ["traefik", "servicelb", "local-storage"]);
                        assert.strictEqual(c["write-kubeconfig-mode"], "0600");
                        assert.strictEqual(c["secrets-encryption"], true);
                        assert.strictEqual(c["tls-san"].length, 1);
                    } else {
                        for (const serverOnly of ["disable", "tls-san", "cluster-init", "write-kubeconfig-mode", "secrets-encryption"]) {
                            assert.strictEqual(c[serverOnly], undefined, `${serverOnly} is not an agent flag`);
                        }
                    }
                }
            });

            it("boots VMs without waiting for egress, but installs only once egress exists", () => {
                const egressType = stack === "prod" ? "aws:ec2/natGateway:NatGateway" : "openstack:networking/routerInterface:RouterInterface";
                const egress = run().resources.find((r) => r.type === egressType) as RecordedResource;
                for (const install of installs()) assert.ok(install.dependencies.includes(egress.urn), install.name);
                const vmType = stack === "prod" ? "aws:ec2/instance:Instance" : "openstack:compute/instance:Instance";
                const nodeVms = run().resources.filter((r) => r.type === vmType && !r.name.endsWith("bastion"));
                for (const vm of nodeVms) assert.ok(!transitiveDeps(run(), vm.urn).has(egress.urn), `${vm.name} boots in parallel with ${egress.name}`);
            });

            it("runs every command through the bastion with bounded dial retries", () => {
                const bastionIp = run().outputs.bastionIp;
                assert.ok(commands().length > installs().length);
                for (const cmd of commands()) {
                    assert.strictEqual(cmd.inputs.connection.proxy.host, bastionIp, cmd.name);
                    assert.ok(cmd.inputs.connection.dialErrorLimit > 0 && cmd.inputs.connection.perDialTimeout > 0);
                    assert.ok(cmd.inputs.connection.proxy.dialErrorLimit > 0);
                    assert.match(cmd.inputs.connection.host, /^10\./, "nodes are reached on their private address");
                }
            });

            it("keeps the token, SSH key and kubeconfig secret", () => {
                assert.deepStrictEqual(plainSecretLeaks(run().resources), []);
                for (const install of installs()) {
                    assert.ok(install.secretPaths.includes("stdin"), `${install.name} stdin`);
                    assert.ok(install.secretPaths.some((p) => p.startsWith("triggers")), `${install.name} triggers`);
                }
                const read = byName(`${stack}-kubeconfig`);
                assert.ok(read.additionalSecretOutputs.includes("stdout"));
                assert.notStrictEqual(read.inputs.logging, "stdout");
                assert.ok(run().secretOutputs.includes("kubeconfig"));
            });

            it("reads the kubeconfig only once every node is Ready, and points it at the API endpoint", () => {
                const ready = byName(`${stack}-nodes-ready`);
                const deps = transitiveDeps(run(), byName(`${stack}-kubeconfig`).urn);
                assert.ok(deps.has(ready.urn));
                for (const install of installs()) assert.ok(ready.dependencies.includes(install.urn), install.name);
                assert.deepStrictEqual(scriptVars(ready.inputs.stdin).NODE_NAMES.split(" ").sort(), nodeNames().sort());
                assert.match(run().outputs.kubeconfig, new RegExp(`server: 'https://${run().outputs.bastionIp.replace(/\./g, "\\.")}:6443'`));
                assert.doesNotMatch(run().outputs.kubeconfig, /127\.0\.0\.1/);
            });

            it("builds the Kubernetes provider from that kubeconfig, as a secret", () => {
                const provider = run().resources.find((r) => r.type === "pulumi:providers:kubernetes") as RecordedResource;
                assert.ok(provider.secretPaths.includes("kubeconfig"));
                assert.strictEqual(provider.inputs.kubeconfig, run().outputs.kubeconfig);
            });

            it("reconciles every node's labels and taints through the API after the cluster is Ready", () => {
                const patches = run().resources.filter((r) => r.type === "kubernetes:core/v1:NodePatch");
                assert.deepStrictEqual(patches.map((p) => p.inputs.metadata.name).sort(), nodeNames().sort());
                const ready = byName(`${stack}-nodes-ready`);
                for (const patch of patches) {
                    const group = patch.inputs.metadata.name.replace(`${stack}-`, "").replace(/-\d+$/, "");
                    const spec = config().nodeGroups[group];
                    assert.deepStrictEqual(patch.inputs.metadata.labels, { ...spec.labels, [NODE_GROUP_LABEL]: group });
                    assert.deepStrictEqual(patch.inputs.spec.taints, spec.taints);
                    assert.ok(patch.dependencies.includes(ready.urn));
                    assert.match(patch.provider, /pulumi:providers:kubernetes/);
                }
            });

            it("drains, then uninstalls an agent when it leaves the stack, never on upgrade", () => {
                const agents = nodeNames().filter((n) => !isServer(n));
                for (const agent of agents) {
                    const uninstall = byName(`${agent}-k3s-uninstall`);
                    const drain = byName(`${agent}-k3s-drain`);
                    assert.strictEqual(uninstall.inputs.create, "true");
                    assert.match(uninstall.inputs.delete, /k3s-agent-uninstall\.sh/);
                    assert.match(drain.inputs.delete, /^sudo bash -c /);
                    assert.match(drain.inputs.delete, new RegExp(`NODE_NAME='"'"'${agent}'"'"'`));
                    assert.match(drain.inputs.delete, /kubectl drain/);
                    // Deletion runs dependents first: the drain (on a server) before the uninstall (on the agent).
                    assert.ok(drain.dependencies.includes(uninstall.urn));
                    assert.strictEqual(uninstall.inputs.triggers, undefined, "nothing replaces it on upgrade");
                }
                assert.strictEqual(run().resources.filter((r) => r.name.endsWith("-k3s-drain")).length, agents.length);
            });
        });
    }

    it("changes a node's config (and so re-runs its install) when its group's labels change", async () => {
        const base = runOf("dev").resources.find((r) => r.name === "dev-system-1-k3s") as RecordedResource;
        const groups = rawGeoplatformConfig("dev").nodeGroups as any;
        groups.system.labels = { ...groups.system.labels, "geoplatform.io/tier": "gold" };
        const changed = (await runStack("dev", { "geoplatform:nodeGroups": groups })).resources.find((r) => r.name === "dev-system-1-k3s") as RecordedResource;
        assert.notDeepStrictEqual(changed.inputs.triggers, base.inputs.triggers);
        assert.ok(k3sConfigOf(changed)["node-label"].includes("geoplatform.io/tier=gold"));
    });
});
