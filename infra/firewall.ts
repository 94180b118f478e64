import { GeoplatformConfig } from "../config/types";

// One cloud-agnostic list of inbound rules; each cloud module turns it into
// its own security-group resources, so both clouds expose exactly the same ports.

export type SecurityGroupName = "bastion" | "nodes" | "servers" | "ingress";

export type RuleSource = { cidrs: string[] } | { group: SecurityGroupName };

export interface FirewallRule {
    /** Group the rule is attached to. */
    group: SecurityGroupName;
    description: string;
    protocol: "tcp" | "udp";
    fromPort: number;
    toPort: number;
    source: RuleSource;
}

export const WORLD_CIDRS = ["0.0.0.0/0", "::/0"];

export function firewallRules(config: GeoplatformConfig): FirewallRule[] {
    const admin = { cidrs: config.adminCidrs };
    const tcp = (group: SecurityGroupName, description: string, port: number, source: RuleSource, toPort = port): FirewallRule => ({
        group,
        description,
        protocol: "tcp",
        fromPort: port,
        toPort,
        source,
    });
    return [
        tcp("bastion", "SSH from admins", 22, admin),
        tcp("bastion", "Kubernetes API (forwarded to the servers) from admins", 6443, admin),
        tcp("nodes", "SSH through the bastion", 22, { group: "bastion" }),
        // The registration address (the bastion's private address): nodes join through its forwarder.
        tcp("bastion", "Kubernetes API and supervisor (registration address) from cluster nodes", 6443, { group: "nodes" }),
        // Only servers listen on 6443 (API and supervisor); agents reach it through their own local load balancer.
        tcp("servers", "Kubernetes API through the bastion's forwarder", 6443, { group: "bastion" }),
        tcp("servers", "Kubernetes API and supervisor from cluster nodes", 6443, { group: "nodes" }),
        tcp("nodes", "kubelet from cluster nodes", 10250, { group: "nodes" }),
        // Prometheus (on a system node) scrapes the node exporter, which listens on the host network of every node.
        tcp("nodes", "node exporter metrics from cluster nodes", 9100, { group: "nodes" }),
        { group: "nodes", description: "flannel VXLAN between cluster nodes", protocol: "udp", fromPort: 8472, toPort: 8472, source: { group: "nodes" } },
        tcp("servers", "embedded etcd between servers", 2379, { group: "servers" }, 2380),
        tcp("ingress", "HTTP from anywhere (redirected to HTTPS)", 80, { cidrs: WORLD_CIDRS }),
        tcp("ingress", "HTTPS from anywhere", 443, { cidrs: WORLD_CIDRS }),
    ];
}

/** A source rendered for resource names: the group, or the CIDR with punctuation replaced. */
export function sourceLabel(source: { cidr: string } | { group: SecurityGroupName }): string {
    return "group" in source ? source.group : source.cidr.replace(/[^0-9a-fA-F]+/g, "-").replace(/-$/, "");
}

/** Resource name derived from what the rule allows, so adding a rule never renames (and replaces) the others. */
export function ruleResourceName(prefix: string, rule: FirewallRule, source: { cidr: string } | { group: SecurityGroupName }): string {
    const ports = rule.fromPort === rule.toPort ? `${rule.fromPort}` : `${rule.fromPort}-${rule.toPort}`;
    return `${prefix}-${rule.group}-${rule.protocol}${ports}-from-${sourceLabel(source)}`;
}

/** The rule's sources one by one (one cloud resource each). */
export function ruleSources(rule: FirewallRule): ({ cidr: string } | { group: SecurityGroupName })[] {
    return "cidrs" in rule.source ? rule.source.cidrs.map((cidr) => ({ cidr })) : [{ group: rule.source.group }];
}
