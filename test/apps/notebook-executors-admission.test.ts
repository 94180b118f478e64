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
const spec = hubAdmissionPolicySpec("jupyterhub", objects.networkPolicies);
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

    it("refuses an older Pod Security version, and ConfigMap deletions in the hub's namespace", () => {
        const labels = ada.namespace.metadata.labels;
        const ns = (version: string) => ({ metadata: { name: "nbx-ada", labels: { ...labels, "pod-security.kubernetes.io/enforce-version": version } } });
        assert.strictEqual(refusals({ resource: "namespaces", object: ns("v1.22") }).length, 1);
        assert.strictEqual(refusals({ resource: "namespaces", operation: "UPDATE", object: ns("v1.22") }).length, 1);
        assert.deepStrictEqual(refusals({ resource: "namespaces", object: ns("latest") }), []);
        assert.strictEqual(refusals({ resource: "configmaps", namespace: "jupyterhub", operation: "DELETE" }).length, 1);
    });

    it("refuses NetworkPolicies other than the rendered ones, and their deletion", () => {
        const byName = (name: string) => structuredClone(ada.networkPolicies.find((p: any) => p.metadata.name === name));
        const refused = (object: any, operation = "UPDATE") => refusals({ resource: "networkpolicies", namespace: "nbx-ada", operation, object }).length === 1;
        const deny = byName("default-deny");
        deny.spec.policyTypes = ["Ingress"];
        assert.ok(refused(deny), "the default deny without Egress");
        const denyOpen = byName("default-deny");
        denyOpen.spec.egress = [{}];
        assert.ok(refused(denyOpen), "the default deny allowing all egress");
        const world = byName("egress-executors-to-world");
        world.spec.egress[0].to[0].ipBlock.except = [];
        assert.ok(refused(world), "the world policy reaching private ranges");
        const metadata = byName("egress-executors-to-world");
        metadata.spec.egress[0].to.push({ ipBlock: { cidr: "169.254.169.254/32" } });
        assert.ok(refused(metadata, "CREATE"), "the metadata server");
        const ports = byName("egress-executors-to-minio");
        ports.spec.egress[0].ports[0].endPort = 65535;
        assert.ok(refused(ports), "a port range");
        const anyPod = byName("egress-executors-to-minio");
        delete anyPod.spec.egress[0].to[0].podSelector;
        assert.ok(refused(anyPod), "every pod of minio");
        const elsewhere = byName("egress-executors-internal");
        elsewhere.spec.egress[0].to[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"] = "postgres";
        assert.ok(refused(elsewhere), "another namespace than its own");
        const allowAll = { ...byName("egress-executors-dns"), metadata: { ...byName("egress-executors-dns").metadata, name: "allow-all" } };
        assert.ok(refused(allowAll, "CREATE"), "a name not rendered");
        assert.ok(refused(null, "DELETE"), "deleting the default deny");
        // The bound that remains (docs/security.md): the username label is the object's own.
        const bob = byName("egress-executors-to-notebook");
        bob.metadata.labels["hub.jupyter.org/username"] = bob.spec.egress[0].to[0].podSelector.matchLabels["hub.jupyter.org/username"] = "bob";
        assert.deepStrictEqual(refusals({ resource: "networkpolicies", namespace: "nbx-ada", object: bob }), []);
        bob.metadata.labels["hub.jupyter.org/username"] = "ada";
        assert.ok(refused(bob), "a label other than the policy's own");
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
