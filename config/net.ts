// IPv4/IPv6 CIDR helpers used by config validation and subnet planning.

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const IPV6_CIDR = /^[0-9a-fA-F:]+\/(\d{1,3})$/;

export function parseIpv4Cidr(cidr: string): { address: number; prefix: number } | undefined {
    const m = IPV4_CIDR.exec(cidr);
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    const address = octets.reduce((acc, o) => acc * 256 + o, 0);
    return { address, prefix };
}

export function isIpv6Cidr(cidr: string): boolean {
    const m = IPV6_CIDR.exec(cidr);
    return !!m && Number(m[1]) <= 128 && cidr.includes(":") && (cidr.split("::").length <= 2);
}

export function isCidr(cidr: string): boolean {
    return parseIpv4Cidr(cidr) !== undefined || isIpv6Cidr(cidr);
}

/** True for CIDRs that cover the whole address space (0.0.0.0/0, ::/0). */
export function isWorldCidr(cidr: string): boolean {
    return parseIpv4Cidr(cidr)?.prefix === 0 || (isIpv6Cidr(cidr) && cidr.endsWith("/0"));
}

function formatIpv4(address: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");
}

/** Like Terraform's cidrsubnet(): the `index`-th subnet with `newBits` more prefix bits. */
export function ipv4Subnet(cidr: string, newBits: number, index: number): string {
    const parsed = parseIpv4Cidr(cidr);
    if (!parsed) throw new Error(`not an IPv4 CIDR: ${cidr}`);
    const prefix = parsed.prefix + newBits;
    if (prefix > 32 || index >= 2 ** newBits) throw new Error(`${cidr} has no subnet #${index} of /${prefix}`);
    const base = parsed.address - (parsed.address % 2 ** (32 - parsed.prefix));
    return `${formatIpv4(base + index * 2 ** (32 - prefix))}/${prefix}`;
}
