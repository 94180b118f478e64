import { BlockList } from "node:net";
import { Labels, LabelSelector, NAMESPACE_NAME_LABEL, Peer, PortSpec } from "../../platform/network/model";

// A small evaluator of NetworkPolicy objects, with the semantics of the
// networking.k8s.io/v1 API as kube-router implements them (cloudnativelabs/
// kube-router v2.6 pkg/controllers/netpol): a pod is isolated for a direction
// once a policy of that type selects it, and then needs a rule of one of those
// policies that matches the peer and the port; ipBlocks match any address,
// pod IPs included; packets from the destination pod's own node are accepted
// before any policy (pod.go, `--src-type LOCAL`).

export interface PolicyObject {
    namespace: string;
    name: string;
    spec: {
        podSelector: LabelSelector;
        policyTypes?: string[];
        ingress?: { from?: Peer[]; ports?: PortSpec[] }[];
        egress?: { to?: Peer[]; ports?: PortSpec[] }[];
    };
}

/** A pod: namespace, labels and its IP (a pod subnet address, never a node subnet's .0). */
export interface PodEnd {
    namespace: string;
    labels: Labels;
    /** The namespace's labels besides its name label. */
    namespaceLabels?: Labels;
    ip?: string;
}
/** An address that is no pod; `localNode`: the destination pod's own node (kube-router accepts it outright). */
export interface IpEnd {
    ip: string;
    localNode?: boolean;
}
export type End = PodEnd | IpEnd;

export interface Verdict {
    allowed: boolean;
    /** Policies whose egress rules allow it, or "unrestricted" when no egress policy selects the source (or it is no pod). */
    egress: string[] | "unrestricted";
    ingress: string[] | "unrestricted";
}

const isPod = (e: End): e is PodEnd => "namespace" in e;
const DEFAULT_POD_IP = "10.42.7.23";

export function selects(selector: LabelSelector | undefined, labels: Labels): boolean {
    if (!selector) return true;
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
    for (const e of selector.matchExpressions ?? []) {
        const has = e.key in labels;
        const ok =
            e.operator === "Exists"
                ? has
                : e.operator === "DoesNotExist"
                  ? !has
                  : e.operator === "In"
                    ? has && (e.values ?? []).includes(labels[e.key])
                    : !has || !(e.values ?? []).includes(labels[e.key]);
        if (!ok) return false;
    }
    return true;
}

function inBlock(ip: string, block: { cidr: string; except?: string[] }): boolean {
    const list = (cidrs: string[]) => {
        const l = new BlockList();
        for (const c of cidrs) {
            const [a, p] = c.split("/");
            l.addSubnet(a, Number(p), "ipv4");
        }
        return l;
    };
    return list([block.cidr]).check(ip, "ipv4") && !list(block.except ?? []).check(ip, "ipv4");
}

/** Does `peer`, in a policy of namespace `policyNamespace`, match `end`? */
function peerMatches(peer: Peer, policyNamespace: string, end: End): boolean {
    if (peer.ipBlock) return inBlock(isPod(end) ? (end.ip ?? DEFAULT_POD_IP) : end.ip, peer.ipBlock);
    if (!isPod(end)) return false;
    const nsOk = peer.namespaceSelector
        ? selects(peer.namespaceSelector, { ...end.namespaceLabels, [NAMESPACE_NAME_LABEL]: end.namespace })
        : end.namespace === policyNamespace;
    return nsOk && selects(peer.podSelector, end.labels);
}

function portMatches(ports: PortSpec[] | undefined, port: number, protocol: string): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => (p.protocol ?? "TCP") === protocol && (p.port === undefined || (port >= p.port && port <= (p.endPort ?? p.port))));
}

function side(policies: PolicyObject[], type: "Ingress" | "Egress", self: End, other: End, port: number, protocol: string): string[] | "unrestricted" {
    if (!isPod(self)) return "unrestricted";
    const selecting = policies.filter(
        (p) => p.namespace === self.namespace && (p.spec.policyTypes ?? ["Ingress"]).includes(type) && selects(p.spec.podSelector, self.labels),
    );
    if (selecting.length === 0) return "unrestricted";
    return selecting
        .filter((p) =>
            (type === "Ingress"
                ? (p.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
                : (p.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }))
            ).some(
                (rule) =>
                    (!rule.peers || rule.peers.length === 0 || rule.peers.some((peer) => peerMatches(peer, p.namespace, other))) &&
                    portMatches(rule.ports, port, protocol),
            ),
        )
        .map((p) => `${p.namespace}/${p.name}`);
}

/** Would a packet from `from` to `to` on `port` pass the policies? */
export function evaluate(policies: PolicyObject[], from: End, to: End, port: number, protocol: "TCP" | "UDP" = "TCP"): Verdict {
    const egress = side(policies, "Egress", from, to, port, protocol);
    const ingress = !isPod(from) && from.localNode ? "unrestricted" : side(policies, "Ingress", to, from, port, protocol);
    const ok = (v: string[] | "unrestricted") => v === "unrestricted" || v.length > 0;
    return { allowed: ok(egress) && ok(ingress), egress, ingress };
}
