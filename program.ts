import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config/load";
import { checkServerRoll, clusterMustExist, K3S_SERVERS_OUTPUT, readLastServers } from "./config/roll-guard";
import { appUrls, createApps } from "./apps";
import { createInfra } from "./infra";
import { ClusterNodes } from "./infra/types";
import { PlatformLayer } from "./platform";
import { K3s } from "./platform/k3s";

/** Where `ssh` finds the stack's private key: outside the repository, written by the user (README, "SSH"). */
const sshKeyPath = (stack: string) => `~/.ssh/geoplatform-${stack}`;

/** Where `ssh` finds the stack's host keys: the `sshKnownHosts` output, written by the user (README, "SSH"). */
const knownHostsPath = (stack: string) => `~/.ssh/geoplatform-${stack}.known_hosts`;

/** known_hosts lines for the bastion and every node: the keys every Command pins (docs/security.md, "SSH host keys"). */
function sshKnownHosts(cluster: ClusterNodes): pulumi.Output<string> {
    const lines = [cluster.bastion, ...cluster.nodes.map((n) => ({ host: n.privateIp, hostKey: n.hostKey }))].map(
        (h) => pulumi.interpolate`${h.host} ${h.hostKey}`,
    );
    return pulumi.all(lines).apply((l) => l.join("\n") + "\n");
}

/**
 * One ready-to-paste ssh command per node, checking host keys against the
 * `sshKnownHosts` file only. `ssh -J` would not pass `-i` to the bastion hop,
 * so the hop is a ProxyCommand that carries the key and the options itself.
 */
function sshCommands(stack: string, cluster: ClusterNodes): pulumi.Output<Record<string, string>> {
    const options = `-i ${sshKeyPath(stack)} -o UserKnownHostsFile=${knownHostsPath(stack)} -o StrictHostKeyChecking=yes`;
    const { user } = cluster.bastion;
    return pulumi.all([cluster.bastion.host, pulumi.all(cluster.nodes.map((n) => n.privateIp))]).apply(([bastion, ips]): Record<string, string> => ({
        bastion: `ssh ${options} ${user}@${bastion}`,
        ...Object.fromEntries(
            cluster.nodes.map((n, i) => [n.name, `ssh ${options} -o ProxyCommand="ssh ${options} -W %h:%p ${user}@${bastion}" ${n.sshUser}@${ips[i]}`]),
        ),
    }));
}

/** The whole platform, layer by layer; each layer's typed output feeds the next. */
export async function geoplatform() {
    // Validation throws before anything is registered: nothing half-deployed.
    const config = loadConfig();
    const stack = pulumi.getStack();
    // The servers of the stack's last update (one read): a server roll that would leave no server running stops here, too.
    const lastServers = await readLastServers(config, stack);
    checkServerRoll(config, stack, lastServers);
    const cluster = await createInfra(config);
    const k3s = new K3s(stack, { config, cluster, backup: cluster.backup, clusterExists: clusterMustExist(config, stack, lastServers) });
    const ingressNode = cluster.nodes.find((n) => n.publicIp) as { publicIp: pulumi.Output<string> };
    const platform = new PlatformLayer("platform", { config, cluster: k3s, ingressIp: ingressNode.publicIp, backup: cluster.backup });
    const apps = createApps(config, platform.platform);

    return {
        cloud: config.cloud,
        bastionIp: cluster.bastion.host,
        apiEndpoint: pulumi.interpolate`https://${cluster.apiEndpoint}:6443`,
        ingressIps: pulumi.all(cluster.nodes.filter((n) => n.publicIp).map((n) => n.publicIp as pulumi.Output<string>)),
        nodes: cluster.nodes.map((n) => ({ name: n.name, group: n.group, role: n.role, privateIp: n.privateIp })),
        sshPrivateKey: cluster.sshPrivateKey,
        sshKeyPath: sshKeyPath(stack),
        sshKnownHosts: sshKnownHosts(cluster),
        sshKnownHostsPath: knownHostsPath(stack),
        sshCommands: sshCommands(stack, cluster),
        kubeconfig: k3s.kubeconfig,
        [K3S_SERVERS_OUTPUT]: k3s.installedServers,
        backupBucket: { endpoint: cluster.backup.endpoint, region: cluster.backup.region, bucket: cluster.backup.bucket },
        urls: { ...platform.urls, ...appUrls(platform.platform, apps) },
        adminUsernames: platform.adminUsernames,
        ...platform.secretOutputs,
    };
}
