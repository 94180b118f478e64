import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { GeoplatformConfig } from "../../config/types";
import { ClusterNode, ClusterNodes } from "../../infra/types";
import { k3sConfigYaml, renderScript, ScriptName, shellQuote } from "./render";
import { K3sCluster } from "./types";

export { K3sCluster } from "./types";

/** Seconds to wait for all nodes to be Ready before failing the run. */
const READY_TIMEOUT_SECONDS = 900;
/** A booting VM refuses SSH for a while: retry dials instead of failing, but not forever. */
const DIAL = { perDialTimeout: 30, dialErrorLimit: 40 };

/**
 * K3s on the infra layer's VMs, over SSH through the bastion: servers one by
 * one (the first bootstraps; in HA it starts embedded etcd), then agents.
 * Hands on a Kubernetes provider once every node is Ready with the labels
 * and taints of its group.
 */
export class K3s extends pulumi.ComponentResource implements K3sCluster {
    readonly provider: k8s.Provider;
    readonly kubeconfig: pulumi.Output<string>;
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: { config: GeoplatformConfig; cluster: ClusterNodes }, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:K3s", name, {}, opts);
        const { config, cluster } = args;
        const token = new random.RandomPassword(`${name}-token`, { length: 48, special: false }, { parent: this });
        // Explicitly secret: the config, its hash in triggers and the script on stdin all carry the token.
        const tokenValue = pulumi.secret(token.result);

        const connection = (node: ClusterNode): command.types.input.remote.ConnectionArgs => ({
            host: node.privateIp,
            user: node.sshUser,
            privateKey: cluster.sshPrivateKey,
            ...DIAL,
            proxy: { host: cluster.bastion.host, user: cluster.bastion.user, port: cluster.bastion.port, privateKey: cluster.sshPrivateKey, ...DIAL },
        });
        const runScript = (resourceName: string, node: ClusterNode, script: ScriptName, vars: pulumi.Input<Record<string, pulumi.Input<string>>>, extra: Partial<command.remote.CommandArgs>, options: pulumi.CustomResourceOptions = {}) =>
            new command.remote.Command(
                resourceName,
                {
                    connection: connection(node),
                    create: "sudo bash -s",
                    stdin: pulumi.output(vars).apply((v) => renderScript(script, v)),
                    ...extra,
                },
                { parent: this, ...options },
            );

        const servers = cluster.nodes.filter((n) => n.role === "server");
        const agents = cluster.nodes.filter((n) => n.role === "agent");
        const [first] = servers;
        const joinUrl = pulumi.interpolate`https://${first.privateIp}:6443`;

        const install = (node: ClusterNode, dependsOn: pulumi.Resource[]) => {
            const isFirst = node === first;
            const configYaml = pulumi
                .all([tokenValue, node.privateIp, joinUrl, cluster.apiEndpoint])
                .apply(([joinToken, nodeIp, server, apiEndpoint]) =>
                    k3sConfigYaml({
                        role: node.role,
                        token: joinToken,
                        nodeName: node.name,
                        nodeIp,
                        server: isFirst ? undefined : server,
                        clusterInit: isFirst && servers.length > 1,
                        tlsSans: [apiEndpoint],
                        labels: node.labels,
                        taints: node.taints,
                    }),
                );
            const vars = {
                K3S_VERSION: config.k3sVersion,
                K3S_ROLE: node.role,
                K3S_CONFIG_B64: configYaml.apply((yaml) => Buffer.from(yaml).toString("base64")),
            };
            return runScript(
                `${node.name}-k3s`,
                node,
                "install-k3s",
                vars,
                // Re-run on a new version or config; the script itself skips what is already done.
                { triggers: [config.k3sVersion, configYaml], logging: "stdoutAndStderr" },
                { dependsOn: [node.resource, ...cluster.egress, ...dependsOn], additionalSecretOutputs: ["stdin"] },
            );
        };

        // Servers strictly one after another: joiners need the first, and an upgrade must never take two down at once.
        const serverInstalls: command.remote.Command[] = [];
        for (const server of servers) serverInstalls.push(install(server, serverInstalls.slice(-1)));
        const lastServer = serverInstalls[serverInstalls.length - 1];
        const agentInstalls = agents.map((agent) => install(agent, [lastServer]));

        // Leaving the stack: created once per agent, so an upgrade (which replaces the install) never runs them.
        // The drain depends on the uninstall so that deletion drains first, then uninstalls, then removes the VM.
        const onDelete = (resourceName: string, node: ClusterNode, script: ScriptName, vars: Record<string, string>, dependsOn: pulumi.Resource[]) =>
            new command.remote.Command(
                resourceName,
                { connection: connection(node), create: "true", delete: `sudo bash -c ${shellQuote(renderScript(script, vars))}` },
                { parent: this, dependsOn },
            );
        agents.forEach((agent, i) => {
            const uninstall = onDelete(`${agent.name}-k3s-uninstall`, agent, "uninstall-k3s", {}, [agentInstalls[i]]);
            onDelete(`${agent.name}-k3s-drain`, first, "drain-node", { NODE_NAME: agent.name }, [uninstall]);
        });

        const nodeNames = cluster.nodes.map((n) => n.name).join(" ");
        const allReady = runScript(
            `${name}-nodes-ready`,
            first,
            "wait-ready",
            { NODE_NAMES: nodeNames, TIMEOUT_SECONDS: String(READY_TIMEOUT_SECONDS) },
            { triggers: [nodeNames, config.k3sVersion] },
            { dependsOn: [...serverInstalls, ...agentInstalls] },
        );

        const read = runScript(`${name}-kubeconfig`, first, "read-kubeconfig", {}, { logging: "stderr" }, { dependsOn: [allReady], additionalSecretOutputs: ["stdout"] });
        // K3s writes https://127.0.0.1:6443; the bastion publishes the API on the endpoint in tls-san.
        this.kubeconfig = pulumi.secret(
            pulumi.all([read.stdout, cluster.apiEndpoint]).apply(([kubeconfig, endpoint]) => kubeconfig.replace(/https:\/\/127\.0\.0\.1:6443/g, `https://${endpoint}:6443`)),
        );
        this.provider = new k8s.Provider(`${name}-provider`, { kubeconfig: this.kubeconfig, enableServerSideApply: true }, { parent: this });

        // node-label/node-taint only apply when a node first registers; this keeps them in line with config afterwards.
        const nodePatches = cluster.nodes.map(
            (node) =>
                new k8s.core.v1.NodePatch(
                    `${node.name}-labels`,
                    {
                        metadata: { name: node.name, labels: node.labels, annotations: { "pulumi.com/patchForce": "true" } },
                        spec: { taints: node.taints },
                    },
                    { parent: this, provider: this.provider, dependsOn: [allReady] },
                ),
        );

        this.ready = [allReady, ...nodePatches];
        this.registerOutputs({ kubeconfig: this.kubeconfig });
    }
}
