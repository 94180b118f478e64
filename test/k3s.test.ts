import * as assert from "assert";
import * as yaml from "js-yaml";
import { validateConfig } from "../config/validate";
import { NODE_GROUP_LABEL } from "../config/types";
import { transitiveDeps } from "./harness/dependencies";
import { plainSecretLeaks } from "./harness/secrets";
import { RecordedResource, runStack, sharedStackRuns } from "./harness/run-stack";
import { rawGeoplatformConfig, STACKS } from "./harness/stack-config";
import { createHash } from "crypto";
import { kubeconfigReadMonth } from "../platform/k3s";
import { redactedConfig } from "../platform/k3s/render";

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
            const config = () => validateConfig(rawGeoplatformConfig(stack), stack);
            // The host-key reads belong to the infra layer (test/infra.test.ts); every other Command is the K3s layer's.
            const commands = () => run().resources.filter((r) => r.type === COMMAND && !r.name.endsWith("-host-key"));
            const installs = () => commands().filter((r) => r.name.endsWith("-k3s"));
            const byName = (name: string) => run().resources.find((r) => r.name === name) as RecordedResource;
            const nodeNames = () => installs().map((r) => r.name.replace(/-k3s$/, ""));
            // The registration address is the bastion's private address: its port's on OpenStack, fixed on AWS.
            const registrationAddress = () =>
                stack === "prod" ? "10.20.0.10" : (run().resources.find((r) => r.name === `${stack}-bastion-port`) as RecordedResource).state.allFixedIps[0];
            const isServer = (name: string) => config().nodeGroups[name.replace(/^[a-z]+-/, "").replace(/-\d+$/, "")].role === "server";

            it("installs K3s on every node with the pinned version", () => {
                const total = Object.values(config().nodeGroups).reduce((s, g) => s + g.count, 0);
                assert.strictEqual(installs().length, total);
                for (const install of installs()) {
                    assert.strictEqual(install.inputs.create, "sudo bash -s");
                    assert.strictEqual(scriptVars(install.inputs.stdin).K3S_VERSION, config().k3sVersion);
                    // Kubelet graceful node shutdown (spot interruptions, reboots): a change re-runs the install.
                    assert.strictEqual(scriptVars(install.inputs.stdin).SHUTDOWN_GRACE, "60s");
                    assert.strictEqual(scriptVars(install.inputs.stdin).SHUTDOWN_GRACE_CRITICAL, "20s");
                    // ...and so does a new VM: its id is the last trigger.
                    assert.deepStrictEqual(install.inputs.triggers.slice(2), ["60s", "20s", `${install.name.replace(/-k3s$/, "")}-id`]);
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

            it("checks on the first server that the pinned version skips no minor release before any node installs it", () => {
                const check = byName(`${stack}-k3s-version-check`);
                assert.strictEqual(scriptVars(check.inputs.stdin).K3S_VERSION, config().k3sVersion);
                assert.deepStrictEqual(check.inputs.triggers, [config().k3sVersion]);
                assert.match(check.inputs.stdin, /upgrades one minor version at a time/);
                const [firstServer] = installs();
                assert.strictEqual(check.inputs.connection.host, firstServer.inputs.connection.host);
                for (const install of installs()) assert.ok(transitiveDeps(run(), install.urn).has(check.urn), `${install.name} after the check`);
            });

            it("wraps each agent's install in a roll (drain before, uncordon after) on the first server; servers have none", () => {
                const ready = byName(`${stack}-nodes-ready`);
                for (const name of nodeNames()) {
                    const before = run().resources.find((r) => r.name === `${name}-k3s-roll-before`);
                    const after = run().resources.find((r) => r.name === `${name}-k3s-roll-after`);
                    if (isServer(name)) {
                        assert.ok(!before && !after, name);
                        continue;
                    }
                    assert.ok(before && after, name);
                    const install = byName(`${name}-k3s`);
                    assert.ok(install.dependencies.includes(before.urn), `${name}: drained before its install`);
                    assert.ok(before.dependencies.includes(byName(`${name}-k3s-forget`).urn), `${name}: a predecessor's Node is gone before the roll`);
                    assert.ok(after.dependencies.includes(install.urn), `${name}: uncordoned after`);
                    assert.ok(ready.dependencies.includes(after.urn));
                    for (const [roll, phase] of [
                        [before, "before"],
                        [after, "after"],
                    ] as const) {
                        const vars = scriptVars(roll.inputs.stdin);
                        assert.deepStrictEqual(vars, { PHASE: phase, NODE_NAME: name, K3S_VERSION: config().k3sVersion, CONFIG_ID: vars.CONFIG_ID });
                        // A config change rolls the agent like a new version: the hash of its config (without the token) is a trigger.
                        assert.match(vars.CONFIG_ID, /^[0-9a-f]{32}$/);
                        // The config without its tokens and without the VM's id: a new VM alone (forget-node.sh's case) rolls nothing.
                        const yamlText = Buffer.from(scriptVars(install.inputs.stdin).K3S_CONFIG_B64, "base64").toString("utf8");
                        assert.match(yamlText, /geoplatform\.io\/instance-id=/);
                        assert.strictEqual(vars.CONFIG_ID, createHash("sha256").update(redactedConfig(yamlText)).digest("hex").slice(0, 32));
                        assert.doesNotMatch(redactedConfig(yamlText), /token|instance-id/);
                        assert.deepStrictEqual(roll.inputs.triggers, [config().k3sVersion, vars.CONFIG_ID]);
                        assert.ok(roll.secretPaths.includes("stdin") && roll.secretPaths.some((p) => p.startsWith("triggers")), "derived from the token");
                        assert.strictEqual(roll.inputs.connection.host, ready.inputs.connection.host, "on the first server, which has kubectl");
                    }
                    assert.ok(
                        !transitiveDeps(run(), before.urn).has(byName(`${nodeNames().find((n) => !isServer(n) && n !== name)}-k3s`).urn),
                        "agents are not chained: creation stays parallel",
                    );
                }
            });

            it("removes the Node a replaced VM left before the new VM installs, on a server, triggered by the VM's id", () => {
                const vmType = stack === "prod" ? "aws:ec2/instance:Instance" : "openstack:compute/instance:Instance";
                const servers = nodeNames().filter(isServer);
                for (const name of nodeNames()) {
                    const forget = run().resources.find((r) => r.name === `${name}-k3s-forget`);
                    if (servers.length === 1 && name === servers[0]) {
                        assert.strictEqual(forget, undefined, "a single server has no peer to do it");
                        continue;
                    }
                    assert.ok(forget, name);
                    const vm = run().resources.find((r) => r.type === vmType && r.name === name) as RecordedResource;
                    assert.deepStrictEqual(forget.inputs.triggers, [vm.state.id ?? `${name}-id`]);
                    // An update (new script, new connection) runs nothing on a running node: only a new VM is forgotten for.
                    assert.strictEqual(forget.inputs.update, "true", name);
                    assert.ok(forget.dependencies.includes(vm.urn));
                    assert.ok(byName(`${name}-k3s`).dependencies.includes(forget.urn), `${name}: before its install`);
                    const vars = scriptVars(forget.inputs.stdin);
                    assert.strictEqual(vars.NODE_NAME, name);
                    assert.strictEqual(vars.NODE_IP, byName(`${name}-k3s`).inputs.connection.host);
                    const runsOn = name === servers[0] ? servers[1] : servers[0];
                    assert.strictEqual(forget.inputs.connection.host, byName(`${runsOn}-k3s`).inputs.connection.host, `${name} on ${runsOn}`);
                }
                if (servers.length > 1) {
                    assert.strictEqual(
                        scriptVars(byName(`${servers[0]}-k3s`).inputs.stdin).REGISTRATION_ADDRESS,
                        registrationAddress(),
                        "a replaced first server joins through the registration address",
                    );
                }
                for (const name of nodeNames().filter((n) => n !== servers[0] || servers.length === 1))
                    assert.strictEqual(scriptVars(byName(`${name}-k3s`).inputs.stdin).REGISTRATION_ADDRESS, undefined);
                for (const name of nodeNames().filter((n) => n !== servers[0] || servers.length > 1)) {
                    const forget = byName(`${name}-k3s-forget`);
                    assert.strictEqual(scriptVars(forget.inputs.stdin).INSTANCE_ID, `${name}-id`, `${name}: decides by the VM's id`);
                    assert.ok(k3sConfigOf(byName(`${name}-k3s`))["node-label"].includes(`geoplatform.io/instance-id=${name}-id`), `${name} registers its id`);
                }
            });

            it("starts embedded etcd on exactly one server (a single one too), joins the others to it", async () => {
                const serverConfigs = installs()
                    .filter((r) => isServer(r.name.replace(/-k3s$/, "")))
                    .map(k3sConfigOf);
                const firstIp = serverConfigs[0]["node-ip"];
                // Embedded etcd on every stack, a single server too: only etcd has snapshots to S3 (platform/k3s/etcd-backup.ts).
                assert.deepStrictEqual(
                    serverConfigs.map((c) => c["cluster-init"] === true),
                    [true, ...serverConfigs.slice(1).map(() => false)],
                );
                assert.strictEqual(serverConfigs[0].server, undefined);
                // Every other node joins through the registration address (the bastion's private address), never a server's.
                assert.notStrictEqual(registrationAddress(), firstIp);
                for (const c of installs().map(k3sConfigOf).slice(1)) assert.strictEqual(c.server, `https://${registrationAddress()}:6443`);
                for (const c of serverConfigs) assert.deepStrictEqual(c["tls-san"], [run().outputs.bastionIp, registrationAddress()]);
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
                    assert.strictEqual(c["node-label"].length, Object.keys(spec.labels).length + 2, "the group's labels, the group and the VM's id");
                    assert.deepStrictEqual(
                        c["node-taint"] ?? [],
                        spec.taints.map((t) => `${t.key}=${t.value}:${t.effect}`),
                    );
                    if (spec.role === "server") {
                        assert.strictEqual(c.token, `MOCKSECRET-password-${stack}-token`);
                        assert.strictEqual(c["agent-token"], `MOCKSECRET-password-${stack}-agent-token`);
                        assert.deepStrictEqual(c.disable, ["traefik", "servicelb", "local-storage"]);
                        assert.strictEqual(c["write-kubeconfig-mode"], "0600");
                        assert.strictEqual(c["secrets-encryption"], true);
                        assert.strictEqual(c["tls-san"].length, 2);
                    } else {
                        assert.strictEqual(c.token, `MOCKSECRET-password-${stack}-agent-token`, "agents never hold the server token");
                        for (const serverOnly of [
                            "agent-token",
                            "disable",
                            "tls-san",
                            "cluster-init",
                            "write-kubeconfig-mode",
                            "secrets-encryption",
                            "kube-apiserver-arg",
                        ]) {
                            assert.strictEqual(c[serverOnly], undefined, `${serverOnly} is not an agent flag`);
                        }
                    }
                }
            });

            it("hardens every node as the K3s CIS guide has it: kernel defaults protected everywhere, admission and audit on servers", () => {
                const decoded = (install: RecordedResource, name: string) => {
                    const value = scriptVars(install.inputs.stdin)[name];
                    return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
                };
                for (const install of installs()) {
                    const server = isServer(install.name.replace(/-k3s$/, ""));
                    const c = k3sConfigOf(install);
                    assert.strictEqual(c["protect-kernel-defaults"], true, install.name);
                    const sysctl = decoded(install, "K3S_SYSCTL_B64") as string;
                    assert.deepStrictEqual(
                        Object.fromEntries(
                            sysctl
                                .split("\n")
                                .filter((l) => l && !l.startsWith("#"))
                                .map((l) => l.split("=")),
                        ),
                        {
                            "vm.panic_on_oom": "0",
                            "vm.overcommit_memory": "1",
                            "kernel.panic": "10",
                            "kernel.panic_on_oops": "1",
                            "kernel.keys.root_maxkeys": "1000000",
                            "kernel.keys.root_maxbytes": "25000000",
                        },
                    );
                    if (!server) {
                        assert.strictEqual(decoded(install, "K3S_PSA_B64"), undefined, `${install.name}: no API server, no admission config`);
                        assert.strictEqual(decoded(install, "K3S_AUDIT_POLICY_B64"), undefined);
                        continue;
                    }
                    assert.deepStrictEqual(c["kube-apiserver-arg"], [
                        "admission-control-config-file=/var/lib/rancher/k3s/server/psa.yaml",
                        "audit-policy-file=/var/lib/rancher/k3s/server/audit.yaml",
                        "audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log",
                        "audit-log-maxage=30",
                        "audit-log-maxbackup=10",
                        "audit-log-maxsize=100",
                    ]);
                    const psa = yaml.load(decoded(install, "K3S_PSA_B64") as string) as any;
                    assert.strictEqual(psa.kind, "AdmissionConfiguration");
                    const [plugin] = psa.plugins;
                    assert.strictEqual(plugin.name, "PodSecurity");
                    assert.strictEqual(plugin.configuration.apiVersion, "pod-security.admission.config.k8s.io/v1");
                    assert.deepStrictEqual(plugin.configuration.defaults, {
                        enforce: "restricted",
                        "enforce-version": "latest",
                        audit: "restricted",
                        "audit-version": "latest",
                        warn: "restricted",
                        "warn-version": "latest",
                    });
                    assert.deepStrictEqual(plugin.configuration.exemptions, { usernames: [], runtimeClasses: [], namespaces: ["kube-system"] });
                    const audit = yaml.load(decoded(install, "K3S_AUDIT_POLICY_B64") as string) as any;
                    assert.strictEqual(audit.kind, "Policy");
                    assert.deepStrictEqual(audit.omitStages, ["RequestReceived"]);
                    assert.deepStrictEqual(
                        audit.rules[audit.rules.length - 1],
                        { level: "Metadata" },
                        "every request, never a body (no Secret data in the log)",
                    );
                    assert.ok(!JSON.stringify(audit).match(/"Request(Response)?"/), "no level that logs bodies");
                }
            });

            it("labels every namespace the platform creates with its own enforce level, so the admission default reaches only those it does not", () => {
                const namespaces = run().resources.filter((r) => r.type === "kubernetes:core/v1:Namespace");
                assert.ok(namespaces.length > 5);
                for (const ns of namespaces) {
                    assert.match(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], /^(restricted|baseline|privileged)$/, ns.name);
                    assert.strictEqual(ns.inputs.metadata.labels["pod-security.kubernetes.io/audit"], "restricted", "audits at the default's level");
                    assert.notStrictEqual(ns.inputs.metadata.name, "kube-system", "the exempt namespace is K3s's, not ours");
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

            it("runs every command through the bastion with bounded dial retries: 10 min for a booting VM, 2 min otherwise", () => {
                const bastionIp = run().outputs.bastionIp;
                assert.ok(commands().length > installs().length);
                const dialSeconds = (c: { perDialTimeout: number; dialErrorLimit: number }) => c.perDialTimeout * c.dialErrorLimit;
                const forwarder = byName(`${stack}-api-forwarder`);
                assert.strictEqual(forwarder.inputs.connection.host, bastionIp, "the forwarder's config goes to the bastion itself");
                assert.strictEqual(forwarder.inputs.connection.proxy, undefined);
                assert.strictEqual(dialSeconds(forwarder.inputs.connection), 600, "a new bastion may still be booting");
                assert.strictEqual(forwarder.inputs.addPreviousOutputInEnv, false);
                for (const cmd of commands().filter((c) => c !== forwarder)) {
                    assert.strictEqual(cmd.inputs.connection.proxy.host, bastionIp, cmd.name);
                    assert.ok(cmd.inputs.connection.perDialTimeout > 0 && cmd.inputs.connection.dialErrorLimit > 0, "0 and -1 mean unbounded");
                    assert.strictEqual(
                        dialSeconds(cmd.inputs.connection),
                        installs().includes(cmd) || /-version-check$|control-plane-1-k3s-forget$/.test(cmd.name) ? 600 : 120,
                        cmd.name,
                    );
                    assert.strictEqual(dialSeconds(cmd.inputs.connection.proxy), 120);
                    assert.match(cmd.inputs.connection.host, /^10\./, "nodes are reached on their private address");
                    assert.strictEqual(cmd.inputs.addPreviousOutputInEnv, false, `${cmd.name}: no previous stdout sent back to the node`);
                }
            });

            it("pins the host key of the node and of the bastion hop on every command: the key each VM's first contact recorded", () => {
                const reads = run().resources.filter((r) => r.type === COMMAND && r.name.endsWith("-host-key"));
                const keyOf = (name: string) => (reads.find((r) => r.name === name) as RecordedResource).state.stdout as string;
                const bastionKey = keyOf(`${stack}-bastion-host-key`);
                const nodeKeys = new Map(nodeNames().map((n) => [byName(`${n}-k3s`).inputs.connection.host, keyOf(`${n}-host-key`)]));
                assert.strictEqual(new Set(nodeKeys.values()).size, nodeNames().length, "one key per VM");
                const forwarder = byName(`${stack}-api-forwarder`);
                assert.strictEqual(forwarder.inputs.connection.hostKey, bastionKey, "the forwarder's config goes to the bastion's recorded key");
                assert.ok(transitiveDeps(run(), forwarder.urn).has(byName(`${stack}-bastion-host-key`).urn));
                for (const cmd of commands().filter((c) => c !== forwarder)) {
                    assert.match(cmd.inputs.connection.hostKey, /^ssh-ed25519 \S+$/, cmd.name);
                    assert.strictEqual(
                        cmd.inputs.connection.hostKey,
                        nodeKeys.get(cmd.inputs.connection.host),
                        `${cmd.name}: the key of the node it connects to`,
                    );
                    assert.strictEqual(cmd.inputs.connection.proxy.hostKey, bastionKey, `${cmd.name}: the bastion's key`);
                    const read = reads.find((r) => r.inputs.connection.host === cmd.inputs.connection.host) as RecordedResource;
                    assert.ok(transitiveDeps(run(), cmd.urn).has(read.urn), `${cmd.name} after the read of its node's key`);
                }
            });

            it("writes the forwarder's server list to the bastion over SSH (an unprivileged haproxy, every server), before any install", () => {
                const forwarder = byName(`${stack}-api-forwarder`);
                const cfg = Buffer.from(scriptVars(forwarder.inputs.stdin).HAPROXY_CFG_B64, "base64").toString("utf8");
                const global = cfg.split(/\n(?=\S)/)[0];
                for (const line of ["user haproxy", "group haproxy", "chroot /var/lib/haproxy"]) assert.match(global, new RegExp(`^\\s+${line}$`, "m"), line);
                assert.match(cfg, /^ {2}bind :6443$/m, "every address: the public endpoint and the registration address");
                const serverIps = installs()
                    .filter((r) => isServer(r.name.replace(/-k3s$/, "")))
                    .map((r) => r.inputs.connection.host);
                assert.deepStrictEqual(
                    [...cfg.matchAll(/^ {2}server server-\d+ (\S+):6443 check$/gm)].map((m) => m[1]),
                    serverIps,
                );
                // A new bastion (its id) gets the list again; a new server address only updates the command.
                assert.deepStrictEqual(forwarder.inputs.triggers, [`${stack}-bastion-id`]);
                for (const install of installs()) assert.ok(install.dependencies.includes(forwarder.urn), `${install.name} after the forwarder`);
            });

            it("protects the server token from replacement; the agent token is separate", () => {
                const serverToken = byName(`${stack}-token`);
                assert.strictEqual(serverToken.options.protect, true);
                assert.deepStrictEqual(serverToken.options.ignoreChanges.slice().sort(), ["length", "special"]);
                const agentToken = byName(`${stack}-agent-token`);
                assert.strictEqual(agentToken.type, "random:index/randomPassword:RandomPassword");
                assert.strictEqual(agentToken.options.protect, false);
            });

            it("keeps the token, SSH key and kubeconfig secret", () => {
                assert.deepStrictEqual(plainSecretLeaks(run().resources), []);
                for (const install of installs()) {
                    assert.ok(install.secretPaths.includes("stdin"), `${install.name} stdin`);
                    assert.ok(
                        install.secretPaths.some((p) => p.startsWith("triggers")),
                        `${install.name} triggers`,
                    );
                }
                const read = byName(`${stack}-kubeconfig`);
                assert.ok(read.additionalSecretOutputs.includes("stdout"));
                assert.strictEqual(read.inputs.logging, "stderr");
                assert.ok(run().secretOutputs.includes("kubeconfig"));
            });

            it("reads the kubeconfig only once every node is Ready, and points it at the API endpoint", () => {
                const ready = byName(`${stack}-nodes-ready`);
                const deps = transitiveDeps(run(), byName(`${stack}-kubeconfig`).urn);
                assert.ok(deps.has(ready.urn));
                for (const install of installs()) assert.ok(ready.dependencies.includes(install.urn), install.name);
                assert.deepStrictEqual(scriptVars(ready.inputs.stdin).NODE_NAMES.split(" ").sort(), nodeNames().sort());
                assert.strictEqual(scriptVars(ready.inputs.stdin).K3S_VERSION, config().k3sVersion, "an upgrade is done only once every kubelet reports it");
                assert.match(run().outputs.kubeconfig, new RegExp(`server: 'https://${run().outputs.bastionIp.replace(/\./g, "\\.")}:6443'`));
                assert.doesNotMatch(run().outputs.kubeconfig, /127\.0\.0\.1/);
            });

            it("builds the Kubernetes provider from that kubeconfig, as a secret, with a fixed cluster identity", () => {
                const provider = run().resources.find((r) => r.type === "pulumi:providers:kubernetes") as RecordedResource;
                assert.ok(provider.secretPaths.includes("kubeconfig"));
                assert.strictEqual(provider.inputs.kubeconfig, run().outputs.kubeconfig);
                // Without it the provider (and every Kubernetes resource) is replaced whenever the kubeconfig is unknown.
                assert.strictEqual(provider.inputs.clusterIdentifier, `geoplatform-${stack}`);
            });

            it("reconciles every node's labels (server-side apply) and taints (owned ones only, by script) after the cluster is Ready", () => {
                const patches = run().resources.filter((r) => r.type === "kubernetes:core/v1:NodePatch");
                assert.deepStrictEqual(patches.map((p) => p.inputs.metadata.name).sort(), nodeNames().sort());
                const ready = byName(`${stack}-nodes-ready`);
                for (const patch of patches) {
                    const node = patch.inputs.metadata.name;
                    const group = node.replace(`${stack}-`, "").replace(/-\d+$/, "");
                    const spec = config().nodeGroups[group];
                    const labels = { ...spec.labels, [NODE_GROUP_LABEL]: group };
                    assert.deepStrictEqual(patch.inputs.metadata.labels, labels);
                    assert.strictEqual(patch.inputs.spec, undefined, "an applied taint list would replace other managers' taints");
                    assert.ok(patch.dependencies.includes(ready.urn));
                    // Its delete would apply to a Node already gone (drained, forgotten) and so create a bare one.
                    assert.strictEqual(patch.options.retainOnDelete, true, node);
                    assert.match(patch.provider, /pulumi:providers:kubernetes/);

                    const reconcile = byName(`${node}-reconcile`);
                    const vars = scriptVars(reconcile.inputs.stdin);
                    assert.strictEqual(vars.NODE_NAME, node);
                    assert.deepStrictEqual(vars.LABELS.split(" ").sort(), Object.keys(labels).sort());
                    assert.deepStrictEqual(
                        vars.TAINTS.split(" ").filter(Boolean),
                        spec.taints.map((t) => `${t.key}=${t.value}:${t.effect}`),
                    );
                    assert.deepStrictEqual(reconcile.inputs.triggers, [vars.LABELS, vars.TAINTS, `${node}-id`], "again for a new VM's new Node");
                    assert.ok(reconcile.dependencies.includes(patch.urn), "after the NodePatch, which released the taints it used to own");
                    assert.strictEqual(reconcile.inputs.connection.host, ready.inputs.connection.host, "runs on the first server");
                }
            });

            it("drains and removes an agent's Node when it leaves the stack, before its VM goes, never on upgrade", () => {
                const agents = nodeNames().filter((n) => !isServer(n));
                const vmType = stack === "prod" ? "aws:ec2/instance:Instance" : "openstack:compute/instance:Instance";
                for (const agent of agents) {
                    const drain = byName(`${agent}-k3s-drain`);
                    assert.strictEqual(drain.inputs.create, "true");
                    assert.match(drain.inputs.delete, /^sudo bash -c /);
                    assert.match(drain.inputs.delete, new RegExp(`NODE_NAME='"'"'${agent}'"'"'`));
                    assert.match(drain.inputs.delete, /kubectl drain/);
                    // Deletion runs dependents first: the drain before the VM it drains.
                    const vm = run().resources.find((r) => r.type === vmType && r.name === agent) as RecordedResource;
                    assert.ok(vm, `${agent} VM`);
                    assert.ok(drain.dependencies.includes(vm.urn));
                    assert.ok(drain.dependencies.includes(byName(`${agent}-k3s`).urn));
                    // And on its release, deleted after it: the release's drain then finds the Node gone (not both at once).
                    assert.ok(drain.dependencies.includes(byName(`${agent}-k3s-release`).urn));
                    assert.strictEqual(drain.inputs.triggers, undefined, "nothing replaces it on upgrade");
                    assert.strictEqual(
                        drain.inputs.connection.host,
                        byName(`${stack}-nodes-ready`).inputs.connection.host,
                        "never on the (maybe vanished) agent",
                    );
                }
                assert.strictEqual(run().resources.filter((r) => r.name.endsWith("-k3s-drain")).length, agents.length);
            });

            it("keeps each agent's retired uninstall Command under its old URN with nothing to run, so leaving the program never uninstalls K3s", () => {
                const agents = nodeNames().filter((n) => !isServer(n));
                const retired = run().resources.filter((r) => r.name.endsWith("-k3s-uninstall"));
                assert.deepStrictEqual(retired.map((r) => r.name).sort(), agents.map((a) => `${a}-k3s-uninstall`).sort());
                for (const r of retired) {
                    // The URN it had at 64bc5df (program.ts: `new K3s(stack)` at the root, platform/k3s/index.ts: parent this).
                    assert.strictEqual(r.urn, `urn:pulumi:${stack}::geoplatform::geoplatform:platform:K3s$${COMMAND}::${r.name}`);
                    // Its state's delete is what the engine runs when it goes: none (or a no-op) instead of k3s-agent-uninstall.sh.
                    for (const step of ["create", "update", "delete"])
                        assert.ok(r.inputs[step] === undefined || r.inputs[step] === "true", `${r.name} ${step}: ${r.inputs[step]}`);
                    assert.strictEqual(r.inputs.triggers, undefined, "a trigger would replace it, and a replacement runs the old state's delete");
                    assert.doesNotMatch(JSON.stringify(r.inputs), /uninstall\.sh/);
                    assert.strictEqual(r.inputs.connection.host, byName(`${stack}-nodes-ready`).inputs.connection.host, "never on the (maybe vanished) agent");
                }
            });
        });
    }

    it("reads the kubeconfig again once a UTC month, so a renewed client certificate reaches the provider and previews within a month change nothing", async () => {
        const first = runOf("dev").resources.find((r) => r.name === "dev-kubeconfig") as RecordedResource;
        const second = (await runStack("dev")).resources.find((r) => r.name === "dev-kubeconfig") as RecordedResource;
        const month = new Date().toISOString().slice(0, 7);
        // Two runs a month apart could differ; that is the point, and a test run does not span one.
        if (first.inputs.triggers[0] === month) assert.deepStrictEqual(second.inputs.triggers, first.inputs.triggers, "same month: not replaced");
        assert.deepStrictEqual(second.inputs.triggers, [month]);
        assert.strictEqual(kubeconfigReadMonth(new Date("2026-01-31T23:59:59+00:00")), "2026-01");
        assert.strictEqual(kubeconfigReadMonth(new Date("2026-02-01T00:30:00+01:00")), "2026-01", "UTC, not local time");
        assert.strictEqual(kubeconfigReadMonth(new Date("2026-02-01T00:00:00Z")), "2026-02");
    });

    it("removing a label or taint from config re-runs the node's reconcile without it, and re-applies its K3s config", async () => {
        const before = runOf("dev");
        const groups = rawGeoplatformConfig("dev").nodeGroups as any;
        delete groups.processing.labels["geoplatform.io/workload"];
        groups.processing.taints = [];
        const after = await runStack("dev", { "geoplatform:nodeGroups": groups });
        const pick = (run: typeof before, name: string) => run.resources.find((r) => r.name === name) as RecordedResource;
        const [was, now] = [pick(before, "dev-processing-1-reconcile"), pick(after, "dev-processing-1-reconcile")];
        assert.notDeepStrictEqual(now.inputs.triggers, was.inputs.triggers, "the reconcile is replaced, so it runs");
        assert.match(scriptVars(was.inputs.stdin).LABELS, /geoplatform\.io\/workload/);
        assert.doesNotMatch(scriptVars(now.inputs.stdin).LABELS, /geoplatform\.io\/workload/);
        assert.strictEqual(scriptVars(now.inputs.stdin).TAINTS, "");
        assert.ok(
            !k3sConfigOf(pick(after, "dev-processing-1-k3s"))["node-label"].includes("geoplatform.io/workload=processing"),
            "K3s does not re-merge it on restart",
        );
        assert.deepStrictEqual(
            pick(after, "dev-system-1-reconcile").inputs.triggers,
            pick(before, "dev-system-1-reconcile").inputs.triggers,
            "other nodes untouched",
        );
    });

    it("a K3s minor bump re-runs the version check, then every install, servers in order, and waits for the new version; tokens and drains stay", async () => {
        const before = runOf("prod");
        const after = await runStack("prod", { "geoplatform:k3sVersion": "v1.34.1+k3s1" });
        const pick = (run: typeof before, name: string) => run.resources.find((r) => r.name === name) as RecordedResource;
        const changed = (name: string) => JSON.stringify(pick(before, name).inputs.triggers) !== JSON.stringify(pick(after, name).inputs.triggers);
        assert.ok(changed("prod-k3s-version-check"));
        const installNames = before.resources.filter((r) => r.type === COMMAND && r.name.endsWith("-k3s")).map((r) => r.name);
        for (const name of installNames) {
            assert.ok(changed(name), `${name} re-runs`);
            assert.strictEqual(scriptVars(pick(after, name).inputs.stdin).K3S_VERSION, "v1.34.1+k3s1");
        }
        assert.strictEqual(scriptVars(pick(after, "prod-nodes-ready").inputs.stdin).K3S_VERSION, "v1.34.1+k3s1");
        const rolls = after.resources.filter((r) => /-k3s-roll-(before|after)$/.test(r.name));
        assert.ok(rolls.length >= 2);
        for (const roll of rolls) assert.ok(changed(roll.name), `${roll.name} runs again: the agent is drained and uncordoned`);
        for (const name of ["prod-token", "prod-agent-token"]) assert.deepStrictEqual(pick(after, name).inputs, pick(before, name).inputs, name);
        for (const drain of after.resources.filter((r) => r.name.endsWith("-k3s-drain")))
            assert.strictEqual(drain.inputs.delete, pick(before, drain.name).inputs.delete, drain.name);
        const servers = installNames.filter((n) => n.includes("control-plane"));
        assert.ok(servers.length > 1);
        servers.slice(1).forEach((name, i) => assert.ok(pick(after, name).dependencies.includes(pick(after, servers[i]).urn), `${name} after ${servers[i]}`));
    });

    it("changes a node's config (and so re-runs its install) when its group's labels change", async () => {
        const base = runOf("dev").resources.find((r) => r.name === "dev-system-1-k3s") as RecordedResource;
        const groups = rawGeoplatformConfig("dev").nodeGroups as any;
        groups.system.labels = { ...groups.system.labels, "geoplatform.io/tier": "gold" };
        const changed = (await runStack("dev", { "geoplatform:nodeGroups": groups })).resources.find((r) => r.name === "dev-system-1-k3s") as RecordedResource;
        assert.notDeepStrictEqual(changed.inputs.triggers, base.inputs.triggers);
        assert.ok(k3sConfigOf(changed)["node-label"].includes("geoplatform.io/tier=gold"));
    });
});
