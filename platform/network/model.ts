import { cidrsOverlap, parseCidr } from "../../config/net";

// The declarative model of the pod network: every namespace the platform
// creates denies all ingress and egress, and each allowed flow (from pods or
// addresses, to pods or addresses, on ports) becomes one NetworkPolicy on each
// side it governs: an egress policy in the source's namespace, an ingress
// policy in the destination's. One policy per flow and side, so a flow is
// allowed by exactly the policies named after it.

export type Labels = Record<string, string>;

export interface LabelSelector {
    matchLabels?: Labels;
    matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

/**
 * Pods of one namespace: every pod in it, or those `pods` selects. With `namespaces`, pods of every namespace that
 * selector matches (namespaces the program does not create, e.g. the hub's per-user ones): `namespace` then only
 * names them, and must be one of the model's external namespaces.
 */
export interface Pods {
    namespace: string;
    pods?: LabelSelector;
    namespaces?: LabelSelector;
}

/** Addresses outside the pod network (or the hosts' own addresses on it): IPv4 CIDRs, each minus the `except` CIDRs it contains. */
export interface Addresses {
    /** What these addresses are, for messages and docs (e.g. "the world", "the K3s servers"). */
    addresses: string;
    cidrs: string[];
    except?: string[];
}

export type Endpoint = Pods | Addresses;

export interface PortSpec {
    protocol: "TCP" | "UDP";
    port: number;
    /** Last port of a range starting at `port`. */
    endPort?: number;
}

export interface Flow {
    /** DNS-label name, unique in the model; the policies are `egress-<name>` and `ingress-<name>`. */
    name: string;
    from: Endpoint;
    to: Endpoint;
    /** Empty: every port and protocol. */
    ports: PortSpec[];
    /** Why the flow exists, briefly (docs/security.md lists the flows). */
    why: string;
    /** "egress": write the source's side only, and leave the destination's ingress to its own (a chart's) narrower policies. */
    only?: "egress";
}

export const isPods = (e: Endpoint): e is Pods => "namespace" in e;

/** The label the API server sets on every namespace (Kubernetes 1.21+), which namespace selectors match on. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export const DEFAULT_DENY = "default-deny";

/** A NetworkPolicy peer (networking.k8s.io/v1 NetworkPolicyPeer). */
export interface Peer {
    namespaceSelector?: LabelSelector;
    podSelector?: LabelSelector;
    ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicySpec {
    podSelector: LabelSelector;
    policyTypes: ("Ingress" | "Egress")[];
    ingress?: { from?: Peer[]; ports?: PortSpec[] }[];
    egress?: { to?: Peer[]; ports?: PortSpec[] }[];
}

export interface PolicySpec {
    namespace: string;
    name: string;
    spec: NetworkPolicySpec;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** TCP ports, for flows. */
export const tcp = (...ports: number[]): PortSpec[] => ports.map((port) => ({ protocol: "TCP", port }));

/**
 * The allowed flows of a cluster whose governed namespaces are `namespaces` (every namespace the
 * platform creates). Namespaces outside it (kube-system) have no policies of ours: a flow may go
 * to pods there (DNS), and only its egress side is written.
 */
export class NetworkModel {
    readonly flows: Flow[] = [];

    constructor(
        readonly namespaces: string[],
        /** Namespaces the platform does not create but flows may name (kube-system). */
        readonly external: string[],
    ) {}

    /** Adds an allowed flow; refuses a flow that could not be written as NetworkPolicies, with the reason. */
    allow(flow: Flow): this {
        const problem = this.problem(flow);
        if (problem) throw new Error(`network flow ${flow.name}: ${problem}`);
        this.flows.push(flow);
        return this;
    }

    private problem(flow: Flow): string | undefined {
        if (!NAME.test(flow.name) || flow.name.length > 55)
            return `the name must be a DNS label of at most 55 characters (it prefixes "ingress-"/"egress-"), not "${flow.name}"`;
        if (this.flows.some((f) => f.name === flow.name)) return "a flow of that name is already allowed";
        if (!isPods(flow.from) && !isPods(flow.to)) return "from and to are both addresses: no namespace of the platform would carry its policy";
        for (const end of [flow.from, flow.to]) {
            if (isPods(end) && !this.namespaces.includes(end.namespace) && !this.external.includes(end.namespace)) {
                return `namespace ${end.namespace} is neither created by the platform (${this.namespaces.join(", ")}) nor one of ${this.external.join(", ")}`;
            }
            if (!isPods(end) && end.cidrs.length === 0) return `${end.addresses} has no CIDRs`;
            if (isPods(end) && end.namespaces && this.namespaces.includes(end.namespace))
                return `${end.namespace} is governed: its pods are selected by its name, not by a namespace selector`;
        }
        if (isPods(flow.from) && !this.namespaces.includes(flow.from.namespace) && (!isPods(flow.to) || !this.namespaces.includes(flow.to.namespace))) {
            return "neither side is in a namespace the platform governs";
        }
        return undefined;
    }

    /** A default-deny per governed namespace, then each flow's egress and ingress policies. */
    policies(): PolicySpec[] {
        const governed = (e: Endpoint): e is Pods => isPods(e) && this.namespaces.includes(e.namespace);
        const out: PolicySpec[] = this.namespaces.map((namespace) => ({
            namespace,
            name: DEFAULT_DENY,
            spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        }));
        for (const flow of this.flows) {
            const ports = flow.ports.length ? { ports: flow.ports.map((p) => ({ ...p })) } : {};
            if (governed(flow.from)) {
                out.push({
                    namespace: flow.from.namespace,
                    name: `egress-${flow.name}`,
                    spec: { podSelector: selector(flow.from), policyTypes: ["Egress"], egress: [{ to: peers(flow.to), ...ports }] },
                });
            }
            if (governed(flow.to) && flow.only !== "egress") {
                out.push({
                    namespace: flow.to.namespace,
                    name: `ingress-${flow.name}`,
                    spec: { podSelector: selector(flow.to), policyTypes: ["Ingress"], ingress: [{ from: peers(flow.from), ...ports }] },
                });
            }
        }
        return out;
    }
}

const selector = (pods: Pods): LabelSelector => structuredClone(pods.pods ?? {});

function peers(end: Endpoint): Peer[] {
    if (isPods(end))
        return [
            { namespaceSelector: structuredClone(end.namespaces ?? { matchLabels: { [NAMESPACE_NAME_LABEL]: end.namespace } }), podSelector: selector(end) },
        ];
    return end.cidrs.map((cidr) => {
        const except = (end.except ?? []).filter((e) => e !== cidr && within(e, cidr));
        return { ipBlock: except.length ? { cidr, except } : { cidr } };
    });
}

/** True when CIDR `inner` lies inside `outer` (ipBlock.except entries must). */
export function within(inner: string, outer: string): boolean {
    const a = parseCidr(inner);
    const b = parseCidr(outer);
    if (!a || !b) throw new Error(`not a CIDR: ${a ? outer : inner}`);
    return a.prefix >= b.prefix && cidrsOverlap(a, b);
}
