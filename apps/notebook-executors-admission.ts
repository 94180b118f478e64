import { NOTEBOOK_EXECUTOR_NAMESPACE_LABEL, NOTEBOOK_EXECUTOR_NAMESPACE_PREFIX, podSecurityLabels } from "../platform/namespaces";
import { EXECUTOR_CLUSTER_ROLE, ExecutorObjects, USER_SERVICE_ACCOUNT_PREFIX } from "./notebook-executors";
import { renderedPolicyExpression } from "./notebook-executors-policy-cel";

// What the hub may do for the per-user executor namespaces (issue 15), least privilege. RBAC cannot restrict the
// names of objects being created, so a ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in
// Kubernetes 1.30; the stacks pin K3s v1.33) bounds the hub's ServiceAccount to its prefixes: a compromised hub can
// open executor namespaces and users' ServiceAccounts, never a namespace, binding or policy elsewhere.

/** The hub's ServiceAccount: z2jh 4.4.0 templates/_helpers-names.tpl hub-serviceaccount.fullname, "hub" with fullnameOverride "". */
export const HUB_SERVICE_ACCOUNT = "hub";
export const HUB_EXECUTORS_CLUSTER_ROLE = "geoplatform-jupyterhub-executor-namespaces";
export const HUB_SERVICE_ACCOUNTS_ROLE = "geoplatform-jupyterhub-user-service-accounts";
export const HUB_ADMISSION_POLICY = "geoplatform-jupyterhub-hub";

/**
 * Cluster-wide rights of the hub: create (and on upgrade, relabel) executor namespaces, bind the executor
 * ClusterRole there (`bind` on that one ClusterRole passes RBAC's escalation check without holding its rights:
 * kubernetes pkg/registry/rbac/escalation_check.go BindingAuthorized), write their NetworkPolicies (replace on
 * upgrade), and delete a stopped server's executors. The admission policy below confines each to the prefixes.
 */
export const HUB_EXECUTORS_RULES = [
    { apiGroups: [""], resources: ["namespaces"], verbs: ["create", "patch"] },
    { apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings"], verbs: ["create"] },
    { apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["bind"], resourceNames: [EXECUTOR_CLUSTER_ROLE] },
    { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["create", "update"] },
    { apiGroups: [""], resources: ["pods", "configmaps"], verbs: ["deletecollection"] },
];
/** In the hub's namespace only: the users' ServiceAccounts. */
export const HUB_SERVICE_ACCOUNTS_RULES = [{ apiGroups: [""], resources: ["serviceaccounts"], verbs: ["create"] }];

const q = (s: string) => `'${s}'`;

/**
 * The policy's CEL validations, built from the same constants as the objects the hook creates. Each applies to one
 * resource (`request.resource.resource`); DELETE requests have no `object`, so only the namespace is checked there.
 */
export function hubAdmissionValidations(hubNamespace: string, policies: ExecutorObjects["networkPolicies"]): { expression: string; message: string }[] {
    const P = NOTEBOOK_EXECUTOR_NAMESPACE_PREFIX;
    const inExecutorNamespace = `request.namespace.startsWith(${q(P)})`;
    const labels = { ...podSecurityLabels("restricted"), ...NOTEBOOK_EXECUTOR_NAMESPACE_LABEL };
    // Pod Security's version defaults to latest; an older one would drop the newer restricted checks.
    const version = "pod-security.kubernetes.io/enforce-version";
    const hasLabels = [
        ...Object.entries(labels).map(([k, v]) => `${q(k)} in object.metadata.labels && object.metadata.labels[${q(k)}] == ${q(v)}`),
        `(!(${q(version)} in object.metadata.labels) || object.metadata.labels[${q(version)}] == 'latest')`,
    ].join(" && ");
    const only = (resource: string, condition: string) => `request.resource.resource != ${q(resource)} || (${condition})`;
    return [
        {
            expression: only("namespaces", `object.metadata.name.startsWith(${q(P)}) && has(object.metadata.labels) && ${hasLabels}`),
            message: `the hub may only create namespaces named ${P}<user>, labelled Pod Security restricted (version latest) and as notebook executors`,
        },
        {
            expression: only(
                "rolebindings",
                `${inExecutorNamespace} && object.roleRef.apiGroup == 'rbac.authorization.k8s.io' && object.roleRef.kind == 'ClusterRole' && ` +
                    `object.roleRef.name == ${q(EXECUTOR_CLUSTER_ROLE)} && has(object.subjects) && size(object.subjects) == 1 && ` +
                    `object.subjects.all(s, s.kind == 'ServiceAccount' && has(s.namespace) && s.namespace == ${q(hubNamespace)} && ` +
                    `s.name == ${q(USER_SERVICE_ACCOUNT_PREFIX)} + request.namespace.substring(${P.length}))`,
            ),
            message: `the hub may only bind ${EXECUTOR_CLUSTER_ROLE}, in ${P}<user>, to ${hubNamespace}'s ServiceAccount ${USER_SERVICE_ACCOUNT_PREFIX}<user>`,
        },
        {
            // The hook never deletes a policy (nor may RBAC): the default deny stays.
            expression: only("networkpolicies", `request.operation != 'DELETE' && ${inExecutorNamespace} && ${renderedPolicyExpression(policies)}`),
            message: `the hub may only write the rendered executor NetworkPolicies, in ${P}<user> namespaces`,
        },
        {
            expression: only(
                "serviceaccounts",
                `request.namespace == ${q(hubNamespace)} && object.metadata.name.startsWith(${q(USER_SERVICE_ACCOUNT_PREFIX)})`,
            ),
            message: `the hub may only create ServiceAccounts named ${USER_SERVICE_ACCOUNT_PREFIX}<user> in ${hubNamespace}`,
        },
        {
            // The hub's own namespace for pods: z2jh's Role lets KubeSpawner delete notebook pods there. No ConfigMap there is the hook's.
            expression: `!(request.resource.resource in ['pods', 'configmaps']) || ${inExecutorNamespace} || (request.resource.resource == 'pods' && request.namespace == ${q(hubNamespace)})`,
            message: `the hub may only delete pods in ${hubNamespace} and ${P}<user> namespaces, ConfigMaps in ${P}<user> namespaces only`,
        },
    ];
}

/** The ValidatingAdmissionPolicy's spec: only requests of the hub's ServiceAccount, refused (with its binding's Deny) when a validation fails. */
export function hubAdmissionPolicySpec(hubNamespace: string, policies: ExecutorObjects["networkPolicies"]) {
    const rule = (apiGroups: string[], resources: string[], operations: string[]) => ({ apiGroups, apiVersions: ["*"], resources, operations });
    return {
        failurePolicy: "Fail",
        matchConstraints: {
            resourceRules: [
                rule([""], ["namespaces", "serviceaccounts"], ["CREATE", "UPDATE"]),
                rule(["rbac.authorization.k8s.io"], ["rolebindings"], ["CREATE", "UPDATE"]),
                rule(["networking.k8s.io"], ["networkpolicies"], ["CREATE", "UPDATE", "DELETE"]),
                rule([""], ["pods", "configmaps"], ["DELETE"]),
            ],
        },
        matchConditions: [
            { name: "hub-only", expression: `request.userInfo.username == ${q(`system:serviceaccount:${hubNamespace}:${HUB_SERVICE_ACCOUNT}`)}` },
        ],
        validations: hubAdmissionValidations(hubNamespace, policies),
    };
}
