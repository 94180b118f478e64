import { isIP } from "net";

// What a security-group rule opens, in one shape for every rule resource the
// providers have, and the CIDR arithmetic to tell when rules together open a
// port to the whole internet. node:net validates the addresses.

/** One opening: traffic from `cidrs` to ports `from`..`to` (all protocols when `allProtocols`). */
export interface Opening {
    cidrs: string[];
    from: number;
    to: number;
    allProtocols: boolean;
}

export const SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
export const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
export const SG = "aws:ec2/securityGroup:SecurityGroup";
export const OS_SG_RULE = "openstack:networking/secGroupRule:SecGroupRule";
export const RULE_TYPES = [SG_INGRESS_RULE, SG_RULE, SG, OS_SG_RULE];

/** Ports that administer a node or the cluster: SSH, the Kubernetes API (and K3s supervisor), the kubelet. */
export const ADMIN_PORTS = [22, 6443, 10250];

/** AWS says "-1" (or "all"); Neutron leaves the protocol out for "any". */
const ALL = (p: unknown, missingIsAll: boolean) =>
    p === "-1" || p === -1 || p === "all" || p === "any" || (missingIsAll && (p === undefined || p === null || p === ""));
const PORTLESS = ["icmp", "icmpv6", "1", "58"];

function opening(protocol: unknown, from: unknown, to: unknown, cidrs: unknown[], missingIsAll = false): Opening {
    const list = cidrs.filter((c): c is string => typeof c === "string" && c !== "");
    if (ALL(protocol, missingIsAll)) return { cidrs: list, from: 0, to: 65535, allProtocols: true };
    if (PORTLESS.includes(String(protocol).toLowerCase())) return { cidrs: list, from: -1, to: -1, allProtocols: false };
    // A missing range on a TCP/UDP rule means every port (OpenStack); AWS writes 0-65535.
    const lo = typeof from === "number" ? from : 0;
    const hi = typeof to === "number" ? to : 65535;
    return { cidrs: list, from: lo, to: hi, allProtocols: lo <= 0 && hi >= 65535 };
}

/** The ingress openings of a rule resource (or of a security group's inline rules); [] for egress. */
export function openingsOf(type: string, props: any): Opening[] {
    switch (type) {
        case SG_INGRESS_RULE:
            return [opening(props.ipProtocol, props.fromPort, props.toPort, [props.cidrIpv4, props.cidrIpv6])];
        case SG_RULE:
            if (props.type !== "ingress") return [];
            return [opening(props.protocol, props.fromPort, props.toPort, [...(props.cidrBlocks ?? []), ...(props.ipv6CidrBlocks ?? [])])];
        case SG:
            return (props.ingress ?? []).map((r: any) => opening(r.protocol, r.fromPort, r.toPort, [...(r.cidrBlocks ?? []), ...(r.ipv6CidrBlocks ?? [])]));
        case OS_SG_RULE:
            if (props.direction !== "ingress") return [];
            return [opening(props.protocol, props.portRangeMin, props.portRangeMax, [props.remoteIpPrefix], true)];
        default:
            return [];
    }
}

/** The admin ports an opening reaches. */
export function adminPortsOpened(o: Opening): number[] {
    return ADMIN_PORTS.filter((port) => o.from <= port && port <= o.to);
}

type Family = "ipv4" | "ipv6";
const BITS: Record<Family, number> = { ipv4: 32, ipv6: 128 };

/** An address node:net accepts, as a number (IPv6 groups expanded around "::"). */
function value(address: string, family: Family): bigint {
    if (family === "ipv4") return address.split(".").reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
    const tail = address.slice(address.lastIndexOf(":") + 1);
    let text = address;
    if (isIP(tail) === 4) {
        const v4 = value(tail, "ipv4");
        text = `${address.slice(0, address.length - tail.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
    }
    const [head, rest] = text.split("::");
    const left = head ? head.split(":") : [];
    const right = rest ? rest.split(":") : [];
    const groups = rest === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
    return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

interface Range {
    family: Family;
    start: bigint;
    end: bigint;
}

/** The address range of a CIDR, or undefined when node:net does not take it for one. */
function rangeOf(cidr: string): Range | undefined {
    const [address, prefixText, extra] = cidr.split("/");
    const version = isIP(address ?? "");
    if (version === 0 || extra !== undefined || !/^\d{1,3}$/.test(prefixText ?? "")) return undefined;
    const family: Family = version === 4 ? "ipv4" : "ipv6";
    const prefix = Number(prefixText);
    if (prefix > BITS[family]) return undefined;
    // Host bits are ignored, as the clouds do when they store the rule.
    const host = (1n << BigInt(BITS[family] - prefix)) - 1n;
    const start = value(address, family) & ~host;
    return { family, start, end: start | host };
}

/** The address families whose whole space the CIDRs cover together (0.0.0.0/1 + 128.0.0.0/1 is the IPv4 world). */
export function worldCovered(cidrs: string[]): Family[] {
    const ranges = cidrs.map(rangeOf).filter((r): r is Range => r !== undefined);
    return (["ipv4", "ipv6"] as const).filter((family) => {
        let next = 0n;
        for (const r of ranges.filter((x) => x.family === family).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))) {
            if (r.start > next) return false;
            if (r.end + 1n > next) next = r.end + 1n;
        }
        return next === 1n << BigInt(BITS[family]);
    });
}
