import { parseCidr } from "../config/net";

/**
 * cloud-init for the bastion: the SSH jump host, and the API forwarder (haproxy). It only installs haproxy (as does
 * `configure-forwarder.sh` when this install gave up on an apt lock, docs/k3s.md "unattended-upgrades"): the
 * forwarder's configuration (its server list) is written over SSH by the K3s layer (platform/k3s, `configure-forwarder.sh`),
 * so a server that changes address never changes the bastion's user data, which cloud-init reads at first boot only and
 * which would replace the bastion.
 */
export function bastionUserData(): string {
    return `#cloud-config
package_update: true
packages:
  - haproxy
`;
}

/**
 * The forwarder's haproxy.cfg: 6443 to every server (TCP, TLS untouched), on every address of the bastion: its public
 * address is the API endpoint for admins, its private address the cluster's registration address (the `server` that
 * nodes join through, docs/k3s.md "Registration address"). Servers that do not answer the check are skipped.
 */
export function haproxyConfig(serverIps: string[]): string {
    const backends = serverIps.map((ip, i) => `  server server-${i + 1} ${ip}:6443 check`);
    return [
        "global",
        "  log /dev/log local0",
        "  maxconn 4096",
        "  # systemd starts haproxy as root; without these the proxy itself stays root",
        "  # (this file replaces the package's default, which has them).",
        "  user haproxy",
        "  group haproxy",
        "  chroot /var/lib/haproxy",
        "defaults",
        "  mode tcp",
        "  timeout connect 5s",
        "  timeout client 1h",
        "  timeout server 1h",
        "frontend kubernetes-api",
        "  bind :6443",
        "  default_backend k3s-servers",
        "backend k3s-servers",
        "  option tcp-check",
        "  balance roundrobin",
        ...backends,
        "",
    ].join("\n");
}

/**
 * The AWS bastion's fixed private address: the 11th address of the first public subnet (AWS reserves the first four
 * of every subnet and the last). Fixed, so the registration address survives a bastion replacement.
 */
export function awsBastionPrivateIp(publicSubnetCidr: string): string {
    const parsed = parseCidr(publicSubnetCidr);
    if (parsed?.family !== "ipv4") throw new Error(`not an IPv4 CIDR: ${publicSubnetCidr}`);
    const value = Number(parsed.value) + 10;
    return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join(".");
}
