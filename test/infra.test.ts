import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { loadConfig } from "../config/load";
import { NODE_GROUP_LABEL } from "../config/types";
import { validateConfig } from "../config/validate";
import { createInfra } from "../infra";
import { READ_HOST_KEY } from "../infra/host-keys";
import { ClusterNodes } from "../infra/types";
import { resolve } from "./harness/resolve";
import { RecordedResource, runStack, runWithMocks, sharedStackRun, StackRun } from "./harness/run-stack";
import { rawGeoplatformConfig, REPO_ROOT, STACKS, StackName } from "./harness/stack-config";

const WORLD = ["0.0.0.0/0", "::/0"];

/** Runs only the infra layer, keeping its typed output for the test. */
async function runInfra(stack: StackName): Promise<{ run: StackRun; cluster: ClusterNodes }> {
    let cluster: ClusterNodes | undefined;
    const run = await runWithMocks(stack, async () => {
        cluster = await createInfra(loadConfig());
        return {};
    });
    return { run, cluster: cluster as ClusterNodes };
}

const ofType = (run: StackRun, type: string) => run.resources.filter((r) => r.type === type);

/** Inbound rules as (ports, source) whatever the cloud. */
function inboundRules(run: StackRun): { group: string; fromPort: number; toPort: number; cidr?: string; sourceGroup?: string }[] {
    const groupName = (id: string) => id.replace(/-id$/, "").replace(/^.*-sg-/, "");
    const openstack = ofType(run, "openstack:networking/secGroupRule:SecGroupRule").map((r) => ({
        group: groupName(r.inputs.securityGroupId),
        fromPort: r.inputs.portRangeMin,
        toPort: r.inputs.portRangeMax,
        cidr: r.inputs.remoteIpPrefix,
        sourceGroup: r.inputs.remoteGroupId && groupName(r.inputs.remoteGroupId),
    }));
    const aws = ofType(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => ({
        group: groupName(r.inputs.securityGroupId),
        fromPort: r.inputs.fromPort,
        toPort: r.inputs.toPort,
        cidr: r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6,
        sourceGroup: r.inputs.referencedSecurityGroupId && groupName(r.inputs.referencedSecurityGroupId),
    }));
    return [...openstack, ...aws];
}

describe("infra layer", function () {
    const runs: Partial<Record<StackName, { run: StackRun; cluster: ClusterNodes }>> = {};
    before(async () => {
        for (const stack of STACKS) runs[stack] = await runInfra(stack);
    });
    const get = (stack: StackName) => runs[stack] as { run: StackRun; cluster: ClusterNodes };

    it("creates the VMs on each stack's own cloud", () => {
        assert.strictEqual(ofType(get("dev").run, "openstack:compute/instance:Instance").length, 4, "3 nodes + bastion");
        assert.strictEqual(ofType(get("dev").run, "aws:ec2/instance:Instance").length, 0);
        assert.strictEqual(ofType(get("prod").run, "aws:ec2/instance:Instance").length, 10, "9 nodes + bastion");
        assert.strictEqual(ofType(get("prod").run, "openstack:compute/instance:Instance").length, 0);
    });

    for (const stack of STACKS) {
        describe(`${stack}: ClusterNodes`, () => {
            it("has one node per configured VM, servers first, with group label and taints", () => {
                const config = loadConfigFor(stack);
                const { nodes } = get(stack).cluster;
                const expected = Object.entries(config.nodeGroups).reduce((sum, [, g]) => sum + g.count, 0);
                assert.strictEqual(nodes.length, expected);
                const firstAgent = nodes.findIndex((n) => n.role === "agent");
                assert.ok(
                    nodes.slice(firstAgent).every((n) => n.role === "agent"),
                    "servers come before agents",
                );
                for (const node of nodes) {
                    const group = config.nodeGroups[node.group];
                    assert.strictEqual(node.role, group.role);
                    assert.deepStrictEqual(node.labels, { ...group.labels, [NODE_GROUP_LABEL]: node.group });
                    assert.deepStrictEqual(node.taints, group.taints);
                    assert.match(node.name, new RegExp(`^${stack}-${node.group}-\\d+$`));
                    assert.ok(node.sshUser.length > 0);
                }
                assert.strictEqual(new Set(nodes.map((n) => n.name)).size, nodes.length, "unique names");
            });

            it("gives private IPs to all nodes and public IPs only to ingress nodes", async () => {
                const config = loadConfigFor(stack);
                for (const node of get(stack).cluster.nodes) {
                    assert.match(await resolve(node.privateIp), /^10\./);
                    assert.strictEqual(node.publicIp !== undefined, config.nodeGroups[node.group].ingress, node.name);
                }
            });

            it("reaches nodes through the bastion, which also publishes the API", async () => {
                const { bastion, apiEndpoint } = get(stack).cluster;
                const host = await resolve(bastion.host);
                assert.match(host, /^\d+\.\d+\.\d+\.\d+$/);
                assert.strictEqual(await resolve(apiEndpoint), host);
                assert.strictEqual(bastion.port, 22);
            });

            it("gives the bastion a user data without the server list (it comes over SSH), and a stable private registration address", async () => {
                const bastion = get(stack).run.resources.find((r) => /instance:Instance$/.test(r.type) && r.name.endsWith("bastion")) as RecordedResource;
                const cloudInit = yaml.load(bastion.inputs.userData) as { packages: string[]; write_files?: unknown };
                assert.deepStrictEqual(cloudInit.packages, ["haproxy"]);
                assert.strictEqual(cloudInit.write_files, undefined, "no server address in the user data");
                const address = await resolve(get(stack).cluster.registrationAddress);
                if (stack === "prod") {
                    assert.strictEqual(address, "10.20.0.10", "fixed: the 11th address of the first public subnet");
                    assert.strictEqual(bastion.inputs.privateIp, address);
                    assert.strictEqual(bastion.options.deleteBeforeReplace, true, "a fixed address is on one instance at a time");
                } else {
                    const port = get(stack).run.resources.find((r) => r.name === `${stack}-bastion-port`) as RecordedResource;
                    assert.strictEqual(address, port.state.allFixedIps[0], "its own port's, which a replacement keeps");
                }
                assert.strictEqual(await resolve(get(stack).cluster.forwarder.instanceId), `${stack}-bastion-id`);
            });

            it("hands over the SSH private key as a secret", async () => {
                const key = get(stack).cluster.sshPrivateKey;
                assert.ok(await pulumi.isSecret(key));
                assert.match(await resolve(key), /^MOCKSECRET-ssh-key/);
            });

            it("reads each VM's host key once, sending nothing secret, nodes through the bastion pinned to its key; a new VM is read again", async () => {
                const { run, cluster } = get(stack);
                const reads = ofType(run, "command:remote:Command");
                const vms = run.resources.filter((r) => /instance:Instance$/.test(r.type));
                assert.deepStrictEqual(reads.map((r) => r.name).sort(), vms.map((vm) => `${vm.name}-host-key`).sort(), "one read per VM, nothing else");
                const bastionRead = reads.find((r) => r.name === `${stack}-bastion-host-key`) as RecordedResource;
                assert.strictEqual(bastionRead.inputs.connection.host, await resolve(cluster.bastion.host));
                assert.strictEqual(bastionRead.inputs.connection.proxy, undefined, "the bastion directly");
                assert.strictEqual(await resolve(cluster.bastion.hostKey), bastionRead.state.stdout);
                for (const read of reads) {
                    const vm = vms.find((v) => `${v.name}-host-key` === read.name) as RecordedResource;
                    assert.strictEqual(read.inputs.create, READ_HOST_KEY);
                    assert.deepStrictEqual(read.inputs.triggers, [vm.state.id ?? `${vm.name}-id`], "again for a new VM, whose key is new");
                    assert.ok(read.dependencies.includes(vm.urn));
                    for (const field of ["stdin", "environment", "update", "delete"])
                        assert.strictEqual(read.inputs[field], undefined, `${read.name}: no ${field}`);
                    assert.strictEqual(read.inputs.addPreviousOutputInEnv, false);
                    assert.strictEqual(read.inputs.connection.perDialTimeout * read.inputs.connection.dialErrorLimit, 600, "waits for a booting VM");
                }
                for (const node of cluster.nodes) {
                    const read = reads.find((r) => r.name === `${node.name}-host-key`) as RecordedResource;
                    assert.strictEqual(read.inputs.connection.host, await resolve(node.privateIp));
                    assert.strictEqual(read.inputs.connection.proxy.host, await resolve(cluster.bastion.host));
                    assert.strictEqual(read.inputs.connection.proxy.hostKey, bastionRead.state.stdout, `${node.name}: through the bastion, pinned`);
                    assert.ok(read.secretPaths.includes("connection"), "the connection (with the private key) stays secret");
                    assert.strictEqual(await resolve(node.hostKey), read.state.stdout);
                }
            });

            it("opens nothing but 80/443 to the world", () => {
                const rules = inboundRules(get(stack).run);
                assert.ok(rules.length > 0);
                for (const rule of rules.filter((r) => r.cidr && WORLD.includes(r.cidr))) {
                    assert.ok([80, 443].includes(rule.fromPort) && rule.fromPort === rule.toPort, `world-open port ${rule.fromPort}-${rule.toPort}`);
                    assert.strictEqual(rule.group, "ingress");
                }
                assert.deepStrictEqual([...new Set(rules.filter((r) => r.cidr && WORLD.includes(r.cidr)).map((r) => r.fromPort))].sort(), [443, 80]);
            });

            it("allows SSH and the Kubernetes API from adminCidrs only, and etcd between servers only", () => {
                const config = loadConfigFor(stack);
                const rules = inboundRules(get(stack).run);
                for (const port of [22, 6443]) {
                    const fromCidrs = rules.filter((r) => r.fromPort === port && r.cidr);
                    assert.deepStrictEqual(fromCidrs.map((r) => r.cidr).sort(), [...config.adminCidrs].sort(), `port ${port}`);
                    assert.ok(fromCidrs.every((r) => r.group === "bastion"));
                }
                const etcd = rules.filter((r) => r.fromPort <= 2380 && r.toPort >= 2379);
                assert.ok(etcd.length > 0);
                assert.ok(etcd.every((r) => r.group === "servers" && r.sourceGroup === "servers" && !r.cidr));
            });
        });
    }

    for (const stack of STACKS) {
        it(`${stack}: opens 6443 on servers only (from the bastion and the nodes) and on the bastion's registration address (from the nodes), and 9100 between nodes`, () => {
            const rules = inboundRules(get(stack).run);
            const api = rules.filter((r) => r.fromPort <= 6443 && r.toPort >= 6443);
            assert.deepStrictEqual(
                api
                    .filter((r) => !r.cidr)
                    .map((r) => `${r.group}<-${r.sourceGroup}`)
                    .sort(),
                ["bastion<-nodes", "servers<-bastion", "servers<-nodes"],
            );
            assert.ok(
                api.filter((r) => r.cidr).every((r) => r.group === "bastion"),
                "only the bastion takes 6443 from admin CIDRs",
            );
            const exporter = rules.filter((r) => r.fromPort <= 9100 && r.toPort >= 9100);
            assert.deepStrictEqual(
                exporter.map((r) => `${r.group}<-${r.sourceGroup ?? r.cidr}`),
                ["nodes<-nodes"],
            );
            // Every node is in the nodes group, servers too, so Prometheus on any node reaches every exporter.
            const vmGroups = get(stack).run.resources.filter((r) => r.type === "aws:ec2/instance:Instance" || r.type === "openstack:networking/port:Port");
            const nodeVms = vmGroups.filter((r) => !r.name.includes("bastion"));
            for (const vm of nodeVms) assert.match(JSON.stringify(vm.inputs.vpcSecurityGroupIds ?? vm.inputs.securityGroupIds), /sg-nodes-id/, vm.name);
        });
    }

    describe("prod on AWS", () => {
        const instances = () => ofType(get("prod").run, "aws:ec2/instance:Instance");
        const nodeGroupOf = (r: RecordedResource) => r.inputs.tags?.["geoplatform:node-group"];

        it("requires IMDSv2 and encrypts gp3 root volumes on every instance", () => {
            for (const vm of instances()) {
                assert.strictEqual(vm.inputs.metadataOptions?.httpTokens, "required", vm.name);
                assert.strictEqual(vm.inputs.rootBlockDevice?.encrypted, true, vm.name);
                assert.strictEqual(vm.inputs.rootBlockDevice?.volumeType, "gp3", vm.name);
            }
        });

        it("puts only the processing group on spot capacity", () => {
            const spot = instances().filter((vm) => vm.inputs.instanceMarketOptions?.marketType === "spot");
            assert.strictEqual(spot.length, 3);
            assert.ok(spot.every((vm) => nodeGroupOf(vm) === "processing"));
            assert.ok(
                instances()
                    .filter((vm) => nodeGroupOf(vm) === "control-plane")
                    .every((vm) => !vm.inputs.instanceMarketOptions),
            );
        });

        it("spreads nodes over the configured zones, private ones in private subnets", () => {
            const subnets = new Set(
                instances()
                    .filter((vm) => nodeGroupOf(vm) === "control-plane")
                    .map((vm) => vm.inputs.subnetId),
            );
            assert.strictEqual(subnets.size, 3, "three servers in three zones");
            for (const vm of instances()) {
                const isPublic = vm.inputs.associatePublicIpAddress === true;
                assert.strictEqual(isPublic, /private/.test(vm.inputs.subnetId) === false, vm.name);
                assert.strictEqual(isPublic, nodeGroupOf(vm) === "system" || vm.name.endsWith("bastion"), vm.name);
            }
            assert.strictEqual(ofType(get("prod").run, "aws:ec2/natGateway:NatGateway").length, 1);
        });

        it("tags instances with their node group and the VPC carries the stack tag by default", () => {
            const groups = instances().map(nodeGroupOf).filter(Boolean);
            assert.deepStrictEqual([...new Set(groups)].sort(), ["control-plane", "processing", "system"]);
            const provider = ofType(get("prod").run, "pulumi:providers:aws")[0];
            assert.deepStrictEqual(provider.inputs.defaultTags, JSON.stringify({ tags: { "geoplatform:stack": "prod" } }));
        });
    });

    describe("dev on OpenStack", () => {
        it("gives floating IPs only to the bastion and the ingress node", () => {
            const fips = ofType(get("dev").run, "openstack:networking/floatingIp:FloatingIp")
                .map((r) => r.name)
                .sort();
            assert.deepStrictEqual(fips, ["dev-bastion-fip", "dev-system-1-fip"]);
        });

        it("boots every node from a volume of its group's disk size, with the group's flavor", () => {
            const config = loadConfigFor("dev");
            for (const node of get("dev").cluster.nodes) {
                const vm = ofType(get("dev").run, "openstack:compute/instance:Instance").find((r) => r.name === node.name) as RecordedResource;
                const group = config.nodeGroups[node.group];
                assert.strictEqual(vm.inputs.blockDevices[0].volumeSize, group.diskGb);
                assert.strictEqual(vm.inputs.flavorName, config.openstack?.flavors[group.size]);
            }
        });
    });

    it("the host-key read prints a VM's ED25519 key as the provider parses it, and fails on a VM without one", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-hostkey-"));
        try {
            const readFrom = (content?: string) => {
                const file = path.join(dir, "ssh_host_ed25519_key.pub");
                fs.rmSync(file, { force: true });
                if (content !== undefined) fs.writeFileSync(file, content);
                return spawnSync("sh", ["-c", READ_HOST_KEY.replace("/etc/ssh/ssh_host_ed25519_key.pub", file)], { encoding: "utf8" });
            };
            const ok = readFrom("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0 root@dev-system-1\n");
            assert.strictEqual(ok.status, 0, ok.stderr);
            assert.strictEqual(ok.stdout, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0\n", "type and key only: ParseAuthorizedKey's format");
            assert.notStrictEqual(readFrom().status, 0, "no key file");
            assert.notStrictEqual(readFrom("").status, 0, "empty");
            assert.notStrictEqual(readFrom("ssh-rsa AAAAB3NzaC1yc2E root@x\n").status, 0, "not ED25519");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("registers no resource when the config is invalid", async () => {
        const error = await runStack("dev", { "geoplatform:k3sVersion": "latest" }).then(
            () => assert.fail("the program accepted an unpinned K3s version"),
            (e: Error & { recorded: RecordedResource[] }) => e,
        );
        assert.match(error.message, /geoplatform:k3sVersion: got "latest"/);
        assert.deepStrictEqual(
            error.recorded.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => r.type),
            [],
        );
    });

    it("exports the SSH key only as a secret stack output", async () => {
        const run = await sharedStackRun("dev");
        assert.ok(run.secretOutputs.includes("sshPrivateKey"));
    });

    it("exports the pinned host keys as known_hosts lines, which the ssh commands check strictly", async () => {
        const run = await sharedStackRun("dev");
        const reads = ofType(run, "command:remote:Command").filter((r) => r.name.endsWith("-host-key"));
        const expected = [
            `${run.outputs.bastionIp} ${(reads.find((r) => r.name === "dev-bastion-host-key") as RecordedResource).state.stdout}`,
            ...run.outputs.nodes.map(
                (n: { name: string; privateIp: string }) =>
                    `${n.privateIp} ${(reads.find((r) => r.name === `${n.name}-host-key`) as RecordedResource).state.stdout}`,
            ),
        ];
        assert.deepStrictEqual(run.outputs.sshKnownHosts.trimEnd().split("\n"), expected);
        for (const cmd of Object.values(run.outputs.sshCommands) as string[]) {
            assert.strictEqual(
                (cmd.match(/-o UserKnownHostsFile=~\/\.ssh\/geoplatform-dev\.known_hosts -o StrictHostKeyChecking=yes/g) ?? []).length,
                cmd.includes("ProxyCommand") ? 2 : 1,
                cmd,
            );
        }
    });

    it("does not load the SDK of the cloud a stack does not use", () => {
        const script = `
            const { runStack } = require("./test/harness/run-stack");
            runStack("dev").then(() => {
                const loaded = Object.keys(require.cache).some((f) => f.includes("node_modules/@pulumi/aws/"));
                process.stdout.write(loaded ? "aws-loaded" : "aws-not-loaded");
            });`;
        const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: REPO_ROOT, encoding: "utf8" });
        assert.strictEqual(out.trim(), "aws-not-loaded");
    });
});

/** The validated config of the real stack file, exactly as the program sees it. */
function loadConfigFor(stack: StackName) {
    return validateConfig(rawGeoplatformConfig(stack), stack);
}
