import * as command from "@pulumi/command";
import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { GeoplatformConfig, Taint } from "../../config/types";
import { BackupStore, ClusterNode, ClusterNodes } from "../../infra/types";
import { etcdS3Endpoint } from "./etcd-backup";
import { expiryWarning } from "./kubeconfig-expiry";
import { createHash } from "crypto";
import { haproxyConfig } from "../../infra/bastion";
import { auditPolicy, k3sConfigYaml, podSecurityAdmissionConfig, redactedConfig, renderScript, ScriptName, shellQuote, sysctlConf } from "./render";
import { K3sCluster } from "./types";

export { K3sCluster } from "./types";

/** A taint as `kubectl taint` takes it. */
const taintArg = (t: Taint) => (t.value ? `${t.key}=${t.value}:${t.effect}` : `${t.key}:${t.effect}`);

/** Seconds to wait for all nodes to be Ready (on the pinned version) before failing the run. */
const READY_TIMEOUT_SECONDS = 900;
/**
 * SSH dials (@pulumi/command 1.2.x: `perDialTimeout` seconds per attempt, `dialErrorLimit` attempts). A booting VM refuses
 * SSH for a while, so installs retry for up to 40 × 15 s = 10 min; every other step talks to a node that already runs K3s
 * and gives up after 8 × 15 s = 2 min. The bastion is up before any node.
 */
const BOOT_DIAL = { perDialTimeout: 15, dialErrorLimit: 40 };
/**
 * Kubelet graceful node shutdown on every node: on a shutdown (a spot interruption, a reboot) pods get 40 s, then
 * critical pods 20 s. Spot instances get two minutes' notice; the kubelet holds a systemd inhibitor lock that long.
 */
const SHUTDOWN_GRACE = { SHUTDOWN_GRACE: "60s", SHUTDOWN_GRACE_CRITICAL: "20s" };
const DIAL = { perDialTimeout: 15, dialErrorLimit: 8 };

const b64 = (text: string) => Buffer.from(text).toString("base64");
/** The CIS files install-k3s.sh writes (docs/k3s.md, "CIS hardening"): kernel parameters everywhere, admission and audit on servers. */
const cisFiles = (role: "server" | "agent"): Record<string, string> => ({
    K3S_SYSCTL_B64: b64(sysctlConf()),
    ...(role === "server" ? { K3S_PSA_B64: b64(podSecurityAdmissionConfig()), K3S_AUDIT_POLICY_B64: b64(auditPolicy()) } : {}),
});

/** The kubeconfig read's trigger: the UTC month (`YYYY-MM`), so the read runs once a month, not on every preview. */
export const kubeconfigReadMonth = (now: Date) => now.toISOString().slice(0, 7);

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
    /** The servers' names, known once every server install (and a restore) completed: the roll guard's record (config/roll-guard.ts). */
    readonly installedServers: pulumi.Output<string[]>;

    /**
     * `clusterExists`: the stack's last update recorded a server besides the first that stays in the config
     * (config/roll-guard.ts, clusterMustExist), so a first server without etcd data must join the running cluster.
     */
    constructor(
        name: string,
        args: { config: GeoplatformConfig; cluster: ClusterNodes; backup: BackupStore; clusterExists: boolean },
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("geoplatform:platform:K3s", name, {}, opts);
        const { config, cluster } = args;
        // The server token joins servers and is the passphrase of K3s's encrypted bootstrap data: it can never change once
        // the cluster exists (k3s-io/docs docs/cli/token.md). Input changes are ignored, and `protect` makes a replacement
        // (or a destroy) fail instead of silently breaking every server's restart. retainOnDelete would not help: the
        // value only lives in the Pulumi state.
        const token = new random.RandomPassword(
            `${name}-token`,
            { length: 48, special: false },
            { parent: this, protect: true, ignoreChanges: ["length", "special"] },
        );
        // Agents join with the agent token, which can register a node but is not cluster admin (same docs page). It may be
        // set or changed later on all servers, so it is not protected.
        const agentToken = new random.RandomPassword(`${name}-agent-token`, { length: 48, special: false }, { parent: this });
        // Explicitly secret: the config, its hash in triggers and the script on stdin all carry the tokens.
        const tokenValue = pulumi.secret(token.result);
        const agentTokenValue = pulumi.secret(agentToken.result);

        const connection = (node: ClusterNode, dial = DIAL): command.types.input.remote.ConnectionArgs => ({
            host: node.privateIp,
            user: node.sshUser,
            privateKey: cluster.sshPrivateKey,
            // Host keys recorded at each VM's first contact (infra/host-keys.ts): the token and scripts go to no other host.
            hostKey: node.hostKey,
            ...dial,
            proxy: {
                host: cluster.bastion.host,
                user: cluster.bastion.user,
                port: cluster.bastion.port,
                privateKey: cluster.sshPrivateKey,
                hostKey: cluster.bastion.hostKey,
                ...DIAL,
            },
        });
        const runScript = (
            resourceName: string,
            node: ClusterNode,
            script: ScriptName,
            vars: pulumi.Input<Record<string, pulumi.Input<string>>>,
            extra: Partial<command.remote.CommandArgs>,
            options: pulumi.CustomResourceOptions = {},
            dial = DIAL,
        ) =>
            new command.remote.Command(
                resourceName,
                {
                    connection: connection(node, dial),
                    create: "sudo bash -s",
                    stdin: pulumi.output(vars).apply((v) => renderScript(script, v)),
                    // Otherwise the previous stdout and stderr go back to the node as environment (an SSH request in clear
                    // text in the provider's logs when verbose); never needed here, and the kubeconfig is such a stdout.
                    addPreviousOutputInEnv: false,
                    ...extra,
                },
                { parent: this, ...options },
            );

        const servers = cluster.nodes.filter((n) => n.role === "server");
        const agents = cluster.nodes.filter((n) => n.role === "agent");
        const [first] = servers;
        const firstRolled = config.rollNodes.includes(first.name);
        // Other servers ran at the last update (a roll, a `--replace`, a VM recreated after a refresh dropped it): the first
        // server must join them, so its install retries the probe for minutes, then refuses to bootstrap a second cluster
        // (review M3; for a roll the guard in config/roll-guard.ts refused the other case up front). Not with a restore
        // configured: a lost cluster's new first server bootstraps and restore-etcd.sh resets it; a rolled one still joins.
        const othersRun = servers.length > 1 && args.clusterExists;
        const firstMustJoin = othersRun && (!config.restore?.k3s || firstRolled);
        if (othersRun && !firstMustJoin) {
            pulumi.log.warn(
                `geoplatform:restore.k3s is set while the last update ran other servers: once the restore is done, remove it; while it is set, ` +
                    `a first server replaced outside rollNodes (--replace, a refresh) is not made to join them and could start a second, empty cluster (docs/restore.md)`,
                this,
            );
        }
        // Nodes join through the bastion's forwarder at its private address, which no server replacement changes (the
        // first server's included); once joined, K3s's agent load balancer connects to every server directly and
        // keeps the registration address only as its fallback (docs/k3s.md, "Registration address").
        const joinUrl = pulumi.interpolate`https://${cluster.registrationAddress}:6443`;

        // The forwarder's server list, over SSH: in the bastion's user data it would replace the bastion whenever a
        // server's address changes (cloud-init reads user data once). Runs again on a new bastion (its id).
        const forwarder = new command.remote.Command(
            `${name}-api-forwarder`,
            {
                connection: {
                    host: cluster.bastion.host,
                    user: cluster.bastion.user,
                    port: cluster.bastion.port,
                    privateKey: cluster.sshPrivateKey,
                    hostKey: cluster.bastion.hostKey,
                    ...BOOT_DIAL,
                },
                create: "sudo bash -s",
                stdin: pulumi
                    .all(servers.map((s) => s.privateIp))
                    .apply((ips) => renderScript("configure-forwarder", { HAPROXY_CFG_B64: Buffer.from(haproxyConfig(ips)).toString("base64") })),
                addPreviousOutputInEnv: false,
                triggers: [cluster.forwarder.instanceId],
                logging: "stdoutAndStderr",
            },
            { parent: this, dependsOn: [cluster.forwarder.resource, ...servers.map((s) => s.resource)] },
        );

        const install = (node: ClusterNode, dependsOn: pulumi.Resource[]) => {
            const isFirst = node === first;
            const configYaml = configOf(node);
            const vars = {
                K3S_VERSION: config.k3sVersion,
                K3S_ROLE: node.role,
                K3S_CONFIG_B64: configYaml.apply((yaml) => Buffer.from(yaml).toString("base64")),
                ...cisFiles(node.role),
                ...SHUTDOWN_GRACE,
                // A replaced first server finds the running cluster through the registration address instead of bootstrapping another.
                ...(isFirst && servers.length > 1 ? { REGISTRATION_ADDRESS: cluster.registrationAddress } : {}),
                // Not a trigger: on a running server its appearance is one update, an install run that finds K3s up to date.
                ...(isFirst && firstMustJoin ? { CLUSTER_EXISTS: "true" } : {}),
            };
            return runScript(
                `${node.name}-k3s`,
                node,
                "install-k3s",
                vars,
                // Re-run on a new version, config or VM (a replaced OpenStack VM keeps its address, so only its id tells);
                // the script itself skips what is already done.
                {
                    triggers: [config.k3sVersion, configYaml, SHUTDOWN_GRACE.SHUTDOWN_GRACE, SHUTDOWN_GRACE.SHUTDOWN_GRACE_CRITICAL, node.instanceId],
                    logging: "stdoutAndStderr",
                },
                { dependsOn: [node.resource, forwarder, ...cluster.egress, ...dependsOn], additionalSecretOutputs: ["stdin"] },
                BOOT_DIAL,
            );
        };
        const configs = new Map<string, pulumi.Output<string>>();
        // `withId: false` leaves the VM's id out (a placeholder): the roll's CONFIG_ID must not wait for, nor change with, a new VM's id.
        function configOf(node: ClusterNode, withId = true): pulumi.Output<string> {
            const key = `${node.name} ${withId}`;
            const known = configs.get(key);
            if (known) return known;
            const isFirst = node === first;
            const { backup } = args;
            const s3 = pulumi.all({ s3Endpoint: backup.endpoint, bucket: backup.bucket, accessKey: backup.accessKeyId, secretKey: backup.secretAccessKey });
            const yaml = pulumi
                .all([
                    tokenValue,
                    agentTokenValue,
                    node.privateIp,
                    joinUrl,
                    cluster.apiEndpoint,
                    cluster.registrationAddress,
                    withId ? node.instanceId : "-",
                    s3,
                ])
                .apply(
                    ([
                        serverToken,
                        agentJoinToken,
                        nodeIp,
                        server,
                        apiEndpoint,
                        registrationAddress,
                        instanceId,
                        { s3Endpoint, bucket, accessKey, secretKey },
                    ]) =>
                        k3sConfigYaml({
                            role: node.role,
                            token: node.role === "server" ? serverToken : agentJoinToken,
                            agentToken: node.role === "server" ? agentJoinToken : undefined,
                            nodeName: node.name,
                            nodeIp,
                            instanceId,
                            server: isFirst ? undefined : server,
                            // Embedded etcd on every stack, single servers too: snapshots to S3 exist for etcd only. An existing
                            // single server on SQLite moves its data into etcd at this restart (docs/restore.md, "SQLite to etcd").
                            clusterInit: isFirst,
                            tlsSans: [apiEndpoint, registrationAddress],
                            labels: node.labels,
                            taints: node.taints,
                            etcdBackup:
                                node.role === "server"
                                    ? {
                                          endpoint: etcdS3Endpoint(s3Endpoint),
                                          region: backup.region,
                                          bucket,
                                          accessKey,
                                          secretKey,
                                          schedule: config.backup.etcdSnapshotCron,
                                          retention: config.backup.etcdSnapshotRetention,
                                      }
                                    : undefined,
                        }),
                );
            configs.set(key, yaml);
            return yaml;
        }

        // Before any node installs a new version: a minor skip or a downgrade stops the run here, with every node untouched.
        // A rolled first server is a new, empty VM, on which any version would pass: the second server checks then (review m1).
        const checkOn = firstRolled && servers[1] ? servers[1] : first;
        const versionCheck = runScript(
            `${name}-k3s-version-check`,
            checkOn,
            "check-version",
            { K3S_VERSION: config.k3sVersion },
            { triggers: [config.k3sVersion] },
            { dependsOn: [checkOn.resource] },
            BOOT_DIAL,
        );

        // A new VM (created, or replacing one of the same name) first has the Node its predecessor left removed, on a
        // server that runs K3s: the first server for every other node, the second for the first. Replaced with the VM
        // (its id is the trigger); a single server has no one to do it for it (a new single server is a new cluster).
        const forget = (node: ClusterNode, on: ClusterNode, dependsOn: pulumi.Resource[]) =>
            runScript(
                `${node.name}-k3s-forget`,
                on,
                "forget-node",
                { NODE_NAME: node.name, NODE_IP: node.privateIp, INSTANCE_ID: node.instanceId },
                // Only for a new VM: an update (a new script, or a new connection when the first server or the bastion is
                // rolled) would otherwise run it again on a running node, and a Node registered before the instance-id
                // label that is NotReady at that moment would be deleted under its live kubelet.
                { triggers: [node.instanceId], update: "true" },
                { dependsOn: [node.resource, ...dependsOn] },
                // The second server may still be booting when the first is created.
                on === first ? DIAL : BOOT_DIAL,
            );

        const restoreEtcd = (firstInstall: command.remote.Command) =>
            runScript(
                `${name}-etcd-restore`,
                first,
                "restore-etcd",
                { SNAPSHOT: config.restore?.k3s?.snapshot ?? "", RESTORE_BUCKET: config.restore?.bucket ?? "" },
                // Not the VM's id: a first server replaced later joins its peers and must not reset the cluster to an old snapshot.
                // Its new host key and address change `connection`, an update, which runs `create` again when `update` is unset
                // (pulumi/pulumi-command v1.2.1 provider/pkg/provider/remote/commandController.go, Update): `true` instead. Only a
                // new snapshot (triggers: replaceOnChanges, provider/pkg/provider/common/inputs.go) runs the restore.
                { triggers: [config.restore?.k3s?.snapshot ?? ""], update: "true", logging: "stdoutAndStderr" },
                { dependsOn: [firstInstall] },
            );
        // Servers strictly one after another: joiners need the first, and an upgrade must never take two down at once.
        const serverInstalls: command.remote.Command[] = [];
        for (const [i, server] of servers.entries()) {
            const previous = i === 0 ? [versionCheck] : [serverInstalls[i - 1]];
            const forgotten = i > 0 ? [forget(server, first, previous)] : servers.length > 1 ? [forget(server, servers[1], [servers[1].resource])] : [];
            serverInstalls.push(install(server, [...previous, ...forgotten]));
            // geoplatform:restore.k3s: the first server resets its etcd to the snapshot before anything else joins (docs/restore.md).
            if (i === 0 && config.restore?.k3s) serverInstalls[0] = restoreEtcd(serverInstalls[0]);
        }
        const lastServer = serverInstalls[serverInstalls.length - 1];
        this.installedServers = pulumi.all(serverInstalls.map((i) => i.id)).apply(() => servers.map((s) => s.name));
        // Agents: all at once on creation, one at a time (cordoned, drained, back on the new version) on an upgrade:
        // roll-node.sh serialises them at run time with a lock in the cluster, which a dependency chain could not do
        // without also serialising creation.
        // CONFIG_ID: the agent's config without its token, hashed: a new one (a label, a taint, the registration address)
        // rolls the agent like a new version; a token change alone restarts it in place (docs/k3s.md, "Cluster changes").
        const configId = (agent: ClusterNode) =>
            configOf(agent, false).apply((yaml) => createHash("sha256").update(redactedConfig(yaml)).digest("hex").slice(0, 32));
        const roll = (agent: ClusterNode, phase: "before" | "after", dependsOn: pulumi.Resource[]) =>
            runScript(
                `${agent.name}-k3s-roll-${phase}`,
                first,
                "roll-node",
                { PHASE: phase, NODE_NAME: agent.name, K3S_VERSION: config.k3sVersion, CONFIG_ID: configId(agent) },
                { triggers: [config.k3sVersion, configId(agent)] },
                { dependsOn },
            );
        // The roll comes after the forget: a replaced agent's predecessor Node is gone (not drained twice, nor waited for
        // on a dead kubelet), so the roll finds a new node with nothing to drain.
        const agentInstalls = agents.map((agent) => {
            const forgotten = forget(agent, first, [lastServer]);
            return install(agent, [lastServer, forgotten, roll(agent, "before", [lastServer, forgotten])]);
        });
        const agentRolled = agents.map((agent, i) => roll(agent, "after", [agentInstalls[i]]));

        // Every VM is replaced delete-first (infra/aws.ts, infra/openstack.ts). This command holds the VM's id, so the engine
        // replaces it with the VM and deletes it first (pulumi/pulumi pkg/resource/deploy/step_generator.go: a
        // delete-before-replace deletes the dependents a new id would replace, in reverse dependency order, then the
        // resource): its delete drains the node while the old VM still runs, and the new VM's forget-node.sh removes the
        // Node. It depends on the data volume's attachment, so a storage node is drained (Longhorn's replicas there
        // stopped) before the volume is detached. It runs on the first server, on the second for the first; a single
        // server has no one to drain it (its replacement is refused, config/validate.ts rollNodes).
        const releases = new Map<string, command.remote.Command>();
        for (const node of cluster.nodes) {
            const on = node === first ? servers[1] : first;
            if (!on) continue;
            const release = new command.remote.Command(
                `${node.name}-k3s-release`,
                {
                    connection: connection(on),
                    create: "true",
                    delete: pulumi
                        .output(node.instanceId)
                        .apply((id) => `sudo bash -c ${shellQuote(renderScript("drain-node", { NODE_NAME: node.name, KEEP_NODE: "true", INSTANCE_ID: id }))}`),
                    triggers: [node.instanceId],
                    addPreviousOutputInEnv: false,
                },
                {
                    parent: this,
                    dependsOn: [node.resource, ...(node.dataVolume ? [node.dataVolume] : []), lastServer],
                    // Its name until this release, on OpenStack storage nodes only: kept in the state, not deleted (which would drain).
                    aliases: [{ name: `${node.name}-k3s-release-data` }],
                },
            );
            releases.set(node.name, release);
        }

        // Leaving the stack: created once per agent, so an upgrade (which replaces the install) never runs it. It runs on
        // the first server and depends on the agent's VM and install, so deletion drains and removes the Node first,
        // then the VM goes. Nothing runs on the leaving agent itself: it may be gone already (a reclaimed spot
        // instance), and its VM is deleted anyway. It depends on the agent's release too, which leaves with it: the engine
        // deletes dependents first (pulumi/pulumi pkg/resource/deploy/step_generator.go, ScheduleDeletes), so this drain
        // removes the Node, then the release finds it gone, instead of both draining the node at once. A dependsOn is no
        // input, so it replaces and updates nothing; an up records it in the state (pkg/backend/snapshot.go,
        // sameSnapshotMutation.mustWrite), which a later run's deletion reads.
        agents.forEach(
            (agent, i) =>
                new command.remote.Command(
                    `${agent.name}-k3s-drain`,
                    {
                        connection: connection(first),
                        create: "true",
                        delete: `sudo bash -c ${shellQuote(renderScript("drain-node", { NODE_NAME: agent.name }))}`,
                        addPreviousOutputInEnv: false,
                    },
                    // Every agent has a release: the first server drains it.
                    { parent: this, dependsOn: [agent.resource, agentInstalls[i], releases.get(agent.name) as command.remote.Command] },
                ),
        );
        // Retired: until this release every agent also had `<agent>-k3s-uninstall`, whose delete ran k3s-agent-uninstall.sh
        // on the agent. The engine runs a resource's delete from its state when it leaves the program, so dropping it would
        // uninstall K3s from every agent on the next up. Kept under the same name, type and parent with nothing to run: that
        // up only updates its state (triggers alone force a replacement; create, update and delete run only when set,
        // pulumi/pulumi-command v1.2.1 provider/pkg/provider/remote/commandController.go), so no SSH, and its later removal
        // runs nothing. Drop it one release after this one, once every stack has run an up with it.
        agents.forEach(
            (agent) =>
                new command.remote.Command(`${agent.name}-k3s-uninstall`, { connection: connection(first), addPreviousOutputInEnv: false }, { parent: this }),
        );

        const nodeNames = cluster.nodes.map((n) => n.name).join(" ");
        const allReady = runScript(
            `${name}-nodes-ready`,
            first,
            "wait-ready",
            { NODE_NAMES: nodeNames, K3S_VERSION: config.k3sVersion, TIMEOUT_SECONDS: String(READY_TIMEOUT_SECONDS) },
            // A replaced VM must be waited for again.
            { triggers: [nodeNames, config.k3sVersion, ...cluster.nodes.map((n) => n.instanceId)] },
            { dependsOn: [...serverInstalls, ...agentInstalls, ...agentRolled] },
        );

        // Read again in every new UTC month: K3s renews its client certificates (365 days) at a start within 120 days of
        // expiry (90 before v1.33.1), and only a new read brings the renewed one into the provider; a month is well inside
        // that, and previews within a month show no change (docs/k3s.md, "Kubeconfig expiry").
        const read = runScript(
            `${name}-kubeconfig`,
            first,
            "read-kubeconfig",
            {},
            { logging: "stderr", triggers: [kubeconfigReadMonth(new Date())] },
            { dependsOn: [allReady], additionalSecretOutputs: ["stdout"] },
        );
        // K3s writes https://127.0.0.1:6443; the bastion publishes the API on the endpoint in tls-san.
        this.kubeconfig = pulumi.secret(
            pulumi
                .all([read.stdout, cluster.apiEndpoint])
                .apply(([kubeconfig, endpoint]) => kubeconfig.replace(/https:\/\/127\.0\.0\.1:6443/g, `https://${endpoint}:6443`)),
        );
        // Known in every preview but a month's first: a certificate close to expiry is named before it stops every run.
        read.stdout.apply((kubeconfig) => {
            const warning = expiryWarning(kubeconfig, new Date(), config.k3sVersion, first.name);
            if (warning) pulumi.log.warn(warning, this);
        });
        // The kubeconfig is unknown in the first preview of a month (it is read again); the provider replaces itself, and with it every
        // Kubernetes resource, on an unknown kubeconfig unless a clusterIdentifier is set and unchanged
        // (pulumi/pulumi-kubernetes provider/pkg/provider/provider.go, DiffConfig).
        this.provider = new k8s.Provider(
            `${name}-provider`,
            { kubeconfig: this.kubeconfig, enableServerSideApply: true, clusterIdentifier: `geoplatform-${name}` },
            { parent: this },
        );

        // node-label/node-taint only apply when a node first registers. Labels: server-side apply, which owns each key on
        // its own and leaves other managers' labels alone. Taints and label removals: reconcile-node.sh (see there).
        const nodeSettings = cluster.nodes.map((node) => {
            const labels = new k8s.core.v1.NodePatch(
                `${node.name}-labels`,
                { metadata: { name: node.name, labels: node.labels, annotations: { "pulumi.com/patchForce": "true" } } },
                // Kept on delete: the Node goes with its VM (drain, forget), and relinquishing the fields of a Node already
                // gone is a server-side apply, which creates a bare Node of that name (pulumi-kubernetes
                // provider/pkg/ssa/actions.go Relinquish; the apiserver's apply patches may create).
                { parent: this, provider: this.provider, dependsOn: [allReady], retainOnDelete: true },
            );
            const vars = { NODE_NAME: node.name, LABELS: Object.keys(node.labels).join(" "), TAINTS: node.taints.map(taintArg).join(" ") };
            // A replaced VM registers a new Node: its taints and label removals are applied again.
            return runScript(
                `${node.name}-reconcile`,
                first,
                "reconcile-node",
                vars,
                { triggers: [vars.LABELS, vars.TAINTS, node.instanceId] },
                { dependsOn: [labels] },
            );
        });

        this.ready = [allReady, ...nodeSettings];
        this.registerOutputs({ kubeconfig: this.kubeconfig });
    }
}
