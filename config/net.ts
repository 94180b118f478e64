import { BlockList, isIP, isIPv4 } from "node:net";

// IPv4/IPv6 CIDR helpers used by config validation and subnet planning.
// node:net decides what an address is (isIP); the arithmetic (host bits,
// unions, subnets) runs on the validated address as a number.

export type IpFamily = "ipv4" | "ipv6";

export interface Cidr {
    family: IpFamily;
    /** The address as written. */
    address: string;
    prefix: number;
    /** The address as a number (32 or 128 bits). */
    value: bigint;
}

const BITS: Record<IpFamily, number> = { ipv4: 32, ipv6: 128 };

/** The 32/128-bit value of an address node:net accepts (IPv6 may end in dotted IPv4). */
function addressValue(address: string, family: IpFamily): bigint {
    if (family === "ipv4") return address.split(".").reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
    let text = address;
    const tail = text.slice(text.lastIndexOf(":") + 1);
    if (isIPv4(tail)) {
        const v4 = addressValue(tail, "ipv4");
        text = `${text.slice(0, text.length - tail.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
    }
    const [head, rest] = text.split("::");
    const groups = (s: string | undefined) => (s ? s.split(":") : []);
    const left = groups(head);
    const right = groups(rest);
    const all = rest === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
    return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function formatValue(value: bigint, family: IpFamily): string {
    if (family === "ipv4") return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join(".");
    const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
    // The longest run of zero groups becomes "::" (RFC 5952).
    let best = { at: -1, len: 1 };
    for (let i = 0; i < 8; i++) {
        let j = i;
        while (j < 8 && groups[j] === "0") j++;
        if (j - i > best.len) best = { at: i, len: j - i };
    }
    if (best.at < 0) return groups.join(":");
    return `${groups.slice(0, best.at).join(":")}::${groups.slice(best.at + best.len).join(":")}`;
}

/** A CIDR (`address/prefix`) whose address node:net accepts and whose prefix fits its family, or undefined. */
export function parseCidr(cidr: string): Cidr | undefined {
    const slash = cidr.lastIndexOf("/");
    if (slash < 0) return undefined;
    const address = cidr.slice(0, slash);
    const prefixText = cidr.slice(slash + 1);
    const version = isIP(address);
    // A zone (fe80::1%eth0) names an interface, not a network.
    if (version === 0 || address.includes("%") || !/^\d{1,3}$/.test(prefixText)) return undefined;
    const family: IpFamily = version === 4 ? "ipv4" : "ipv6";
    const prefix = Number(prefixText);
    if (prefix > BITS[family]) return undefined;
    return { family, address, prefix, value: addressValue(address, family) };
}

function hostMask(c: { family: IpFamily; prefix: number }): bigint {
    return (1n << BigInt(BITS[c.family] - c.prefix)) - 1n;
}

/** The CIDR with its host bits cleared (203.0.113.7/24 -> 203.0.113.0/24). */
export function networkOf(c: Cidr): string {
    return `${formatValue(c.value & ~hostMask(c), c.family)}/${c.prefix}`;
}

/** True when the address has bits set beyond the prefix, i.e. it is a host and not a network. */
export function hasHostBits(c: Cidr): boolean {
    return (c.value & hostMask(c)) !== 0n;
}

/** The families whose whole address space the CIDRs cover together (0.0.0.0/1 + 128.0.0.0/1 covers ipv4). */
export function worldCoveredBy(cidrs: Cidr[]): IpFamily[] {
    return (["ipv4", "ipv6"] as const).filter((family) => {
        const ranges = cidrs
            .filter((c) => c.family === family)
            .map((c) => ({ start: c.value & ~hostMask(c), end: c.value | hostMask(c) }))
            .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
        let next = 0n;
        for (const r of ranges) {
            if (r.start > next) return false;
            if (r.end + 1n > next) next = r.end + 1n;
        }
        return next === 1n << BigInt(BITS[family]);
    });
}

/** True when the two CIDRs share an address: one's network address lies inside the other. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
    if (a.family !== b.family) return false;
    const inside = (outer: Cidr, inner: Cidr) => {
        const list = new BlockList();
        list.addSubnet(outer.address, outer.prefix, outer.family);
        return list.check(networkOf(inner).split("/")[0], inner.family);
    };
    return inside(a, b) || inside(b, a);
}

/** True for CIDRs that cover the whole address space (0.0.0.0/0, ::/0). */
export function isWorldCidr(cidr: string): boolean {
    return parseCidr(cidr)?.prefix === 0;
}

/** Like Terraform's cidrsubnet(): the `index`-th subnet with `newBits` more prefix bits. */
export function ipv4Subnet(cidr: string, newBits: number, index: number): string {
    const parsed = parseCidr(cidr);
    if (parsed?.family !== "ipv4") throw new Error(`not an IPv4 CIDR: ${cidr}`);
    const prefix = parsed.prefix + newBits;
    if (prefix > 32 || index >= 2 ** newBits) throw new Error(`${cidr} has no subnet #${index} of /${prefix}`);
    const base = parsed.value & ~hostMask(parsed);
    return `${formatValue(base + (BigInt(index) << BigInt(32 - prefix)), "ipv4")}/${prefix}`;
}

/**
 * Private and link-local ranges the NetworkPolicies' "world" excludes (platform/network/peers.ts): the pod, service
 * and node networks (all inside these), the instance metadata service (169.254.169.254) and anything else private a
 * cloud routes.
 */
export const NON_PUBLIC = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"];

const NON_PUBLIC_HOSTS = new BlockList();
for (const range of [...NON_PUBLIC, "127.0.0.0/8"]) {
    const cidr = parseCidr(range)!;
    NON_PUBLIC_HOSTS.addSubnet(cidr.address, cidr.prefix, cidr.family);
}

/**
 * True for a host that cannot be a public destination: an IPv4 literal in NON_PUBLIC or loopback, or a name
 * without a dot (a Service's short name or a search-domain name). Other names are resolved only at run time.
 */
export function isNonPublicHost(host: string): boolean {
    if (isIPv4(host)) return NON_PUBLIC_HOSTS.check(host, "ipv4");
    return isIP(host) === 0 && !host.includes(".");
}
