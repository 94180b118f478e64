import { run } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { HUB_EXECUTORS_RULES, HUB_SERVICE_ACCOUNTS_RULES, hubAdmissionPolicySpec } from "../../apps/notebook-executors-admission";

// How the API server decides on one of the hub's requests: RBAC (the rules the program renders and z2jh's hub Role),
// then the ValidatingAdmissionPolicy (matchConstraints, matchConditions, then the CEL validations, evaluated by
// @bufbuild/cel with the strings extension Kubernetes registers too).

/** One API request of the hub, as the spawn hooks' stand-in client records it. */
export interface HubRequest {
    verb: "create" | "patch" | "update" | "delete" | "deletecollection" | "get" | "list";
    group: string;
    resource: string;
    /** "" for cluster-scoped objects. */
    namespace: string;
    name: string | null;
    /** The object admission sees: the body on create and update, the merged object on a patch, none on a delete. */
    object: any;
    username?: string;
}

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

/** z2jh 4.4.0 jupyterhub/templates/hub/rbac.yaml: the hub's Role in its own namespace. */
export const Z2JH_HUB_ROLE: Rule[] = [
    { apiGroups: [""], resources: ["pods", "persistentvolumeclaims", "secrets", "services"], verbs: ["get", "watch", "list", "create", "delete"] },
    { apiGroups: [""], resources: ["events"], verbs: ["get", "watch", "list"] },
];

const allows = (rules: Rule[], group: string, resource: string, verb: string, name?: string) =>
    rules.some(
        (r) =>
            r.apiGroups.includes(group) &&
            r.resources.includes(resource) &&
            r.verbs.includes(verb) &&
            (!r.resourceNames || (name !== undefined && r.resourceNames.includes(name))),
    );

/**
 * Whether RBAC lets the hub make the request: the ClusterRole anywhere, its Role and z2jh's in its own namespace. A
 * RoleBinding also needs `bind` on its roleRef (kubernetes pkg/registry/rbac/escalation_check.go BindingAuthorized).
 */
export function rbacAllows(r: HubRequest, hubNamespace: string): boolean {
    const own =
        r.namespace === hubNamespace && (allows(HUB_SERVICE_ACCOUNTS_RULES, r.group, r.resource, r.verb) || allows(Z2JH_HUB_ROLE, r.group, r.resource, r.verb));
    const allowed = own || allows(HUB_EXECUTORS_RULES, r.group, r.resource, r.verb);
    if (r.resource !== "rolebindings" || r.verb !== "create") return allowed;
    return allowed && allows(HUB_EXECUTORS_RULES, "rbac.authorization.k8s.io", "clusterroles", "bind", r.object.roleRef.name);
}

/** Admission's operation for a verb: patch and update are UPDATE, deletecollection one DELETE per object. */
const OPERATIONS: Record<string, string | undefined> = { create: "CREATE", patch: "UPDATE", update: "UPDATE", delete: "DELETE", deletecollection: "DELETE" };

/** The policy's decision: whether it applies (matchConstraints and matchConditions), and the messages of the validations that refuse. */
export function admission(spec: ReturnType<typeof hubAdmissionPolicySpec>, r: HubRequest): { matched: boolean; refusals: string[] } {
    const operation = OPERATIONS[r.verb];
    // Reads never reach admission.
    if (operation === undefined) return { matched: false, refusals: [] };
    const matched = spec.matchConstraints.resourceRules.some(
        (m) => m.apiGroups.includes(r.group) && m.resources.includes(r.resource) && m.operations.includes(operation),
    );
    const request = {
        resource: { group: r.group, resource: r.resource },
        namespace: r.namespace,
        operation,
        userInfo: { username: r.username ?? "system:serviceaccount:jupyterhub:hub" },
    };
    const vars = { request, object: operation === "DELETE" ? null : (r.object ?? null) };
    if (!matched || !spec.matchConditions.every((c) => run(c.expression, vars, { funcs: strings }) === true)) return { matched: false, refusals: [] };
    // An evaluation error refuses too (failurePolicy Fail).
    const passes = (expression: string) => {
        try {
            return run(expression, vars, { funcs: strings }) === true;
        } catch {
            return false;
        }
    };
    return { matched: true, refusals: spec.validations.filter((v) => !passes(v.expression)).map((v) => v.message) };
}
