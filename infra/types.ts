import * as pulumi from "@pulumi/pulumi";
import { NodeRole, Taint } from "../config/types";

/** How to reach a machine over SSH. */
export interface SshEndpoint {
    host: pulumi.Output<string>;
    user: string;
    port: number;
    /** The host's ED25519 public key (`ssh-ed25519 <base64>`), which every connection to it pins (infra/host-keys.ts). */
    hostKey: pulumi.Output<string>;
}

/** One cluster VM, as the K3s layer needs it. Identical for every cloud. */
export interface ClusterNode {
    /** Unique VM name, also used as the Kubernetes node name. */
    name: string;
    group: string;
    role: NodeRole;
    privateIp: pulumi.Output<string>;
    /** Set on ingress nodes only; every other node is private. */
    publicIp?: pulumi.Output<string>;
    sshUser: string;
    /** Every label the node carries, `geoplatform.io/node-group` included. */
    labels: Record<string, string>;
    taints: { key: string; value: string; effect: Taint["effect"] }[];
    /** The cloud resource behind the node, for dependsOn. */
    resource: pulumi.Resource;
    /**
     * The VM's id, new whenever the VM is replaced. Commands that must run again on a new VM carry it in their triggers:
     * dependsOn alone does not replace a dependent (pulumi/pulumi pkg/resource/deploy/step_generator.go,
     * calculateDependentReplacements), and an OpenStack replacement keeps its port and address.
     */
    instanceId: pulumi.Output<string>;
    /** Storage nodes: the attachment of the Longhorn data volume (mounted by cloud-init before K3s is installed). */
    dataVolume?: pulumi.Resource;
    /** The VM's ED25519 SSH host public key, learnt at first contact; every connection to the node pins it (infra/host-keys.ts). */
    hostKey: pulumi.Output<string>;
}

/** What the infra layer hands to the K3s layer. */
export interface ClusterNodes {
    cloud: "openstack" | "aws";
    /** Servers first (the first one bootstraps the cluster), then agents, each group in config order. */
    nodes: ClusterNode[];
    /** SSH jump host; every node is reached through it. */
    bastion: SshEndpoint;
    /** The bastion VM (its haproxy forwards 6443 to the servers) and its id, new whenever it is replaced. */
    forwarder: { resource: pulumi.Resource; instanceId: pulumi.Output<string> };
    /** Address the Kubernetes API is published on (the bastion forwards 6443 to the servers). */
    apiEndpoint: pulumi.Output<string>;
    /**
     * The bastion's private address, which survives replacing any server (and the bastion itself: a fixed address on
     * AWS, its own port on OpenStack): nodes join through it (K3s `server`), and every server has it in `tls-san`.
     */
    registrationAddress: pulumi.Output<string>;
    /** What private nodes need for outbound traffic (package and image downloads); node setup waits for it, booting does not. */
    egress: pulumi.Resource[];
    /** Private key for every VM and the bastion. */
    sshPrivateKey: pulumi.Output<string>;
}

/** A node as a cloud module builds it, before its host key is known. */
export type CloudNode = Omit<ClusterNode, "hostKey">;

/** What a cloud module hands to SshHostKeys (infra/host-keys.ts), which adds the host keys; the bastion's id (`forwarder`) is its trigger. */
export type CloudNodes = Omit<ClusterNodes, "nodes" | "bastion"> & {
    nodes: CloudNode[];
    bastion: Omit<SshEndpoint, "hostKey">;
};
