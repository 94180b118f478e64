import * as assert from "assert";
import { HUB_EXECUTORS_RULES, HUB_SERVICE_ACCOUNTS_RULES, hubAdmissionPolicySpec } from "../../apps/notebook-executors-admission";
import { executorObjects, TOKENS } from "../../apps/notebook-executors";
import { validateConfig } from "../../config/validate";
import { rawGeoplatformConfig } from "../harness/stack-config";
import { admission } from "./hub-admission";

// The hub's admission policy, its CEL evaluated by @bufbuild/cel (a CEL evaluator; Kubernetes adds its own
// libraries, of which these expressions use the strings extension's substring, registered here as Kubernetes does)
// against requests shaped as the API server sends them (admission.k8s.io AdmissionRequest: resource, namespace,
// operation, object; object null on DELETE). First the objects the hook really creates, then what a compromised hub
// might try.

const objects = executorObjects(validateConfig(rawGeoplatformConfig("dev"), "dev"), "jupyterhub");
const spec = hubAdmissionPolicySpec("jupyterhub");
const fill = (value: unknown, names: Record<string, string>): any =>
    JSON.parse(JSON.stringify(value), (_k, v) => (typeof v === "string" && v in names ? names[v] : v));
const ada = fill(objects, { [TOKENS.namespace]: "nbx-ada", [TOKENS.serviceAccount]: "nb-ada", [TOKENS.usernameLabel]: "ada" });

interface Request {
    resource: string;
    namespace?: string;
    operation?: string;
    object?: any;
    username?: string;
}
const GROUPS: Record<string, string> = { rolebindings: "rbac.authorization.k8s.io", networkpolicies: "networking.k8s.io" };
const VERBS: Record<string, "create" | "update" | "delete"> = { CREATE: "create", UPDATE: "update", DELETE: "delete" };
/** The validations' messages that refuse the request: [] is admitted, or not matched by the policy at all. */
function refusals(r: Request): string[] {
    const verb = VERBS[r.operation ?? "CREATE"];
    const q = { verb, group: GROUPS[r.resource] ?? "", resource: r.resource, namespace: r.namespace ?? "", name: null, object: r.object, username: r.username };
    return admission(spec, q).refusals;
}
const matched = (resource: string, namespace: string, operation: string) =>
    admission(spec, { verb: VERBS[operation], group: GROUPS[resource] ?? "", resource, namespace, name: null, object: null }).matched;

describe("apps: the hub's admission policy for executor namespaces (CEL)", () => {
    it("admits everything the hook creates for a user", () => {
        assert.deepStrictEqual(refusals({ resource: "namespaces", object: ada.namespace }), []);
        assert.deepStrictEqual(refusals({ resource: "namespaces", operation: "UPDATE", object: ada.namespace }), []);
        assert.deepStrictEqual(refusals({ resource: "serviceaccounts", namespace: "jupyterhub", object: ada.serviceAccount }), []);
        assert.deepStrictEqual(refusals({ resource: "rolebindings", namespace: "nbx-ada", object: ada.roleBinding }), []);
        for (const p of ada.networkPolicies)
            assert.deepStrictEqual(refusals({ resource: "networkpolicies", namespace: "nbx-ada", object: p }), [], p.metadata.name);
        for (const resource of ["pods", "configmaps"]) assert.deepStrictEqual(refusals({ resource, namespace: "nbx-ada", operation: "DELETE" }), []);
        assert.deepStrictEqual(refusals({ resource: "pods", namespace: "jupyterhub", operation: "DELETE" }), [], "its notebook pods");
    });

    it("applies to every write the hub's own rights allow, in any namespace (matchConstraints)", () => {
        const OPERATIONS: Record<string, string[]> = { create: ["CREATE"], patch: ["UPDATE"], update: ["UPDATE"], deletecollection: ["DELETE"] };
        for (const rule of [...HUB_EXECUTORS_RULES, ...HUB_SERVICE_ACCOUNTS_RULES])
            for (const resource of rule.resources)
                for (const operation of rule.verbs.flatMap((v) => OPERATIONS[v] ?? []))
                    for (const namespace of ["nbx-ada", "jupyterhub", "kube-system"])
                        assert.ok(matched(resource, namespace, operation), `${operation} ${resource} in ${namespace}`);
        // What only matchConstraints catches: a ConfigMap of kube-system, a policy rewritten or deleted elsewhere.
        assert.ok(matched("configmaps", "kube-system", "DELETE") && matched("pods", "kube-system", "DELETE"));
        assert.ok(matched("networkpolicies", "minio", "UPDATE") && matched("networkpolicies", "minio", "DELETE"));
        assert.strictEqual(refusals({ resource: "networkpolicies", namespace: "minio", operation: "UPDATE", object: ada.networkPolicies[0] }).length, 1);
    });

    it("refuses namespaces without the prefix or without the restricted and executor labels", () => {
        const ns = (name: string, labels: Record<string, string> | undefined) => ({ metadata: { name, ...(labels ? { labels } : {}) } });
        const labels = ada.namespace.metadata.labels;
        assert.strictEqual(refusals({ resource: "namespaces", object: ns("kube-system", labels) }).length, 1);
        assert.strictEqual(refusals({ resource: "namespaces", object: ns("nbx-ada", undefined) }).length, 1);
        assert.strictEqual(
            refusals({ resource: "namespaces", object: ns("nbx-ada", { ...labels, "pod-security.kubernetes.io/enforce": "privileged" }) }).length,
            1,
        );
        const { ["geoplatform.io/notebook-executors"]: _marker, ...unmarked } = labels;
        assert.strictEqual(refusals({ resource: "namespaces", object: ns("nbx-ada", unmarked) }).length, 1);
    });

    it("refuses bindings of any other role, to any other subject, or outside an executor namespace", () => {
        const rb = (patch: Record<string, unknown>) => ({ ...ada.roleBinding, ...patch });
        const refused = (namespace: string, object: any) => refusals({ resource: "rolebindings", namespace, object }).length === 1;
        assert.ok(refused("jupyterhub", ada.roleBinding), "outside the prefix");
        assert.ok(refused("nbx-ada", rb({ roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" } })));
        assert.ok(refused("nbx-ada", rb({ roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "geoplatform-notebook-executors" } })));
        assert.ok(refused("nbx-bob", ada.roleBinding), "ada's account in bob's namespace");
        assert.ok(refused("nbx-ada", rb({ subjects: [{ kind: "ServiceAccount", name: "nb-ada", namespace: "kube-system" }] })));
        assert.ok(refused("nbx-ada", rb({ subjects: [{ kind: "User", name: "nb-ada" }] })));
        assert.ok(refused("nbx-ada", rb({ subjects: [...ada.roleBinding.subjects, { kind: "ServiceAccount", name: "nb-ada", namespace: "jupyterhub" }] })));
        assert.ok(refused("nbx-ada", rb({ subjects: undefined })));
    });

    it("refuses policies, accounts and deletions elsewhere, and leaves other users' requests alone", () => {
        assert.strictEqual(refusals({ resource: "networkpolicies", namespace: "minio", object: ada.networkPolicies[0] }).length, 1);
        assert.strictEqual(refusals({ resource: "networkpolicies", namespace: "minio", operation: "DELETE" }).length, 1);
        assert.strictEqual(refusals({ resource: "serviceaccounts", namespace: "jupyterhub", object: { metadata: { name: "hub" } } }).length, 1);
        assert.strictEqual(refusals({ resource: "serviceaccounts", namespace: "nbx-ada", object: ada.serviceAccount }).length, 1);
        assert.strictEqual(refusals({ resource: "pods", namespace: "postgres", operation: "DELETE" }).length, 1);
        assert.strictEqual(refusals({ resource: "configmaps", namespace: "kube-system", operation: "DELETE" }).length, 1);
        assert.deepStrictEqual(refusals({ resource: "namespaces", object: { metadata: { name: "x" } }, username: "kubernetes-admin" }), [], "not the hub");
    });
});
