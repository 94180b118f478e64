import * as pulumi from "@pulumi/pulumi";

/**
 * cloud-init for the bastion: besides being the SSH jump host it forwards
 * 6443 to every server (TCP, TLS untouched), so the API has one public
 * endpoint while the servers stay private, and survives a server loss in HA.
 */
export function bastionUserData(serverIps: pulumi.Input<string>[]): pulumi.Output<string> {
    return pulumi.all(serverIps).apply((ips) => {
        const backends = ips.map((ip, i) => `        server server-${i + 1} ${ip}:6443 check`).join("\n");
        return `#cloud-config
package_update: true
packages:
  - haproxy
write_files:
  - path: /etc/haproxy/haproxy.cfg
    permissions: "0644"
    content: |
      global
        log /dev/log local0
        maxconn 4096
        # systemd starts haproxy as root; without these the proxy itself stays root
        # (this file replaces the package's default, which has them).
        user haproxy
        group haproxy
        chroot /var/lib/haproxy
      defaults
        mode tcp
        timeout connect 5s
        timeout client 1h
        timeout server 1h
      frontend kubernetes-api
        bind :6443
        default_backend k3s-servers
      backend k3s-servers
        option tcp-check
        balance roundrobin
${backends}
runcmd:
  - systemctl enable haproxy
  - systemctl restart haproxy
`;
    });
}
