import { ipv4Subnet, NON_PUBLIC } from "../../config/net";
import { K3S_CIDRS } from "../../config/validate";
import { Addresses, Pods, PortSpec, within } from "./model";

// The endpoints that are not pods of a governed namespace, as K3s' network
// policy controller (kube-router's, k3s-io/k3s pkg/agent/netpol/netpol.go
// with cloudnativelabs/kube-router v2.6 pkg/controllers/netpol) sees them.
// docs/security.md ("How K3s enforces these policies") has the traces.

export const POD_CIDR = K3S_CIDRS["pod (cluster-cidr)"];
export const SERVICE_CIDR = K3S_CIDRS["service (service-cidr)"];

/** CoreDNS as K3s deploys it (k3s-io/k3s manifests/coredns.yaml): kube-system, `k8s-app: kube-dns`, container ports 53/udp, 53/tcp, 9153. */
export const KUBE_DNS: Pods = { namespace: "kube-system", pods: { matchLabels: { "k8s-app": "kube-dns" } } };
export const DNS_PORTS: PortSpec[] = [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
];

/**
 * The K3s API server, as a pod's egress reaches it: the `kubernetes` Service
 * (10.43.0.1:443) has the servers' node IPs on 6443 as endpoints, and
 * kube-proxy's DNAT (nat PREROUTING/OUTPUT) runs before kube-router's filter
 * chains, which therefore match the endpoint, never the VIP. Only the servers
 * listen on 6443 in the node network, so the node CIDR stands for their IPs
 * (which are only known once the VMs exist).
 */
export const apiServer = (nodeCidr: string): Addresses => ({ addresses: "the K3s API server (servers' node IPs)", cidrs: [nodeCidr] });
export const API_SERVER_PORTS: PortSpec[] = [{ protocol: "TCP", port: 6443 }];

/** Every node, by its node IP: the hostNetwork targets (kubelet 10250, node exporter 9100) that Prometheus scrapes. */
export const nodes = (nodeCidr: string): Addresses => ({ addresses: "the nodes (node IPs)", cidrs: [nodeCidr] });

/** The per-node pod subnets K3s allocates: kube-controller-manager's default node-cidr-mask-size of 24 in the /16 cluster CIDR. */
const NODE_SUBNET_BITS = 8;

/**
 * Processes on the nodes' host network (the API server calling admission webhooks, the kernel's NFS
 * client mounting a Longhorn RWX volume) reaching a pod on another node. kube-router accepts traffic
 * from the pod's own node outright (pod.go: `-m addrtype --src-type LOCAL -d <pod ip> -j ACCEPT`), but
 * from another node the packet leaves through flannel's VXLAN device, whose only address is the
 * network address of that node's pod subnet (flannel-io/flannel pkg/backend/vxlan/vxlan.go: a /32
 * "used as a source address for host to workload traffic"), and kube-proxy masquerades host-to-Service
 * traffic to that address too. So the hosts are exactly the .0 address of each node subnet, which no
 * pod gets (host-local IPAM hands out .2 and up; .1 is cni0's).
 */
export const HOST_TUNNEL_ADDRESSES: string[] = Array.from({ length: 2 ** NODE_SUBNET_BITS }, (_, i) =>
    ipv4Subnet(POD_CIDR, NODE_SUBNET_BITS, i).replace(/\/\d+$/, "/32"),
);
export const HOSTS: Addresses = { addresses: "the nodes' host network (API server, kubelet, kernel)", cidrs: HOST_TUNNEL_ADDRESSES };

/** Private and link-local ranges the world excludes (config/net.ts, shared with validation). */
export { NON_PUBLIC };

/**
 * Public addresses: ACME, Maven Central, GitHub, an external S3, and the platform's own public
 * hostnames (auth.<domain> for the OIDC back-channel), which resolve to the ingress nodes' public
 * addresses and come back in through Traefik's host ports. `nodeCidr` is excluded too when a
 * network uses public addresses for its nodes.
 */
export const world = (nodeCidr: string): Addresses => ({
    addresses: "the world (public addresses)",
    cidrs: ["0.0.0.0/0"],
    except: [...NON_PUBLIC, ...(NON_PUBLIC.some((range) => within(nodeCidr, range)) ? [] : [nodeCidr])],
});

/** Any source at all (clients on the internet, pods hairpinning through a public address): for Traefik's entry points. */
export const ANYWHERE: Addresses = { addresses: "anywhere", cidrs: ["0.0.0.0/0"] };
