import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterNodes, CloudNodes } from "./types";

/**
 * Prints the VM's ED25519 host public key as `ssh-ed25519 <base64>` (the comment, a hostname, dropped) and fails when
 * there is none. The file is world-readable: no sudo, no stdin, nothing secret goes to the VM.
 */
export const READ_HOST_KEY = `awk 'NR == 1 && $1 == "ssh-ed25519" && NF >= 2 { print $1 " " $2; found = 1 } END { exit !found }' /etc/ssh/ssh_host_ed25519_key.pub`;

/** The reads meet VMs that are still booting: 15 s × 40 dials, 10 min, as the K3s installs (platform/k3s/index.ts). */
const BOOT_DIAL = { perDialTimeout: 15, dialErrorLimit: 40 };

/**
 * SSH host keys, learnt once per VM and pinned on every later connection (docs/security.md, "SSH host keys").
 *
 * @pulumi/command 1.2.1 checks a host key only against `connection.hostKey` / `proxy.hostKey` (ssh.FixedHostKey,
 * pulumi/pulumi-command provider/pkg/provider/remote/connection.go at v1.2.1), so the key must be known before the
 * connection that relies on it. It cannot be known before the VM's first boot without writing its private half into
 * user data, which the pack forbids (no-secrets-in-node-scripts: user data is readable through the metadata service).
 * So each VM's own key is read by a first connection that sends nothing secret (the bastion's directly, each node's
 * through the bastion pinned to the bastion's key), recorded in the state, and every other Command pins it: the token
 * and every script only ever travel to the key recorded at that first contact. A new VM (its id is the trigger) is
 * read again.
 */
export class SshHostKeys extends pulumi.ComponentResource {
    readonly clusterNodes: ClusterNodes;

    constructor(name: string, cloud: CloudNodes, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:infra:SshHostKeys", name, {}, opts);
        const { bastion } = cloud;
        const read = (resourceName: string, connection: command.types.input.remote.ConnectionArgs, vmId: pulumi.Output<string>, vm?: pulumi.Resource) =>
            new command.remote.Command(
                resourceName,
                { connection, create: READ_HOST_KEY, triggers: [vmId], addPreviousOutputInEnv: false },
                { parent: this, dependsOn: vm ? [vm] : [] },
            ).stdout;

        const bastionKey = read(
            `${name}-bastion-host-key`,
            { host: bastion.host, user: bastion.user, port: bastion.port, privateKey: cloud.sshPrivateKey, ...BOOT_DIAL },
            cloud.forwarder.instanceId,
        );
        this.clusterNodes = {
            ...cloud,
            bastion: { host: bastion.host, user: bastion.user, port: bastion.port, hostKey: bastionKey },
            nodes: cloud.nodes.map((node) => ({
                ...node,
                hostKey: read(
                    `${node.name}-host-key`,
                    {
                        host: node.privateIp,
                        user: node.sshUser,
                        privateKey: cloud.sshPrivateKey,
                        ...BOOT_DIAL,
                        proxy: {
                            host: bastion.host,
                            user: bastion.user,
                            port: bastion.port,
                            privateKey: cloud.sshPrivateKey,
                            hostKey: bastionKey,
                            ...BOOT_DIAL,
                        },
                    },
                    node.instanceId,
                    // OpenStack nodes' addresses belong to their ports, not the VM: wait for the VM itself.
                    node.resource,
                ),
            })),
        };
        this.registerOutputs({});
    }
}
