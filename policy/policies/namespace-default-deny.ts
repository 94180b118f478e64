import { StackValidationPolicy } from "@pulumi/policy";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

/** A policy that selects every pod of its namespace and allows nothing, in both directions. */
function isDefaultDeny(spec: Record<string, any> | undefined): boolean {
    if (!spec) return false;
    const selector = spec.podSelector ?? {};
    const selectsAll = Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
    const types: string[] = spec.policyTypes ?? [];
    return selectsAll && types.includes("Ingress") && types.includes("Egress") && !(spec.ingress ?? []).length && !(spec.egress ?? []).length;
}

/**
 * Pods of a namespace without a default-deny accept and send anything their selecting policies do not
 * cover (or everything, when none selects them): every namespace the program creates denies all first
 * and allows flows one by one (platform/network/).
 */
export const namespaceDefaultDeny: StackValidationPolicy = {
    name: "namespace-default-deny",
    description: "Every Namespace the stack creates has a NetworkPolicy selecting all its pods that denies all ingress and egress.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const namespaces = args.resources.filter((r) => r.type === NAMESPACE).map((r) => r.props.metadata?.name as string | undefined);
        if (namespaces.length === 0) args.notApplicable("the stack creates no Namespace");
        const denied = new Set(args.resources.filter((r) => r.type === NETWORK_POLICY && isDefaultDeny(r.props.spec)).map((r) => r.props.metadata?.namespace));
        for (const ns of namespaces) {
            if (ns === undefined || denied.has(ns)) continue;
            reportViolation(
                `Namespace ${ns} has no default-deny NetworkPolicy: add one selecting every pod (podSelector {}) with policyTypes [Ingress, Egress] and no rules, then allow each flow its pods need (platform/network/flows.ts).`,
            );
        }
    },
};
