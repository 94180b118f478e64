import * as assert from "assert";
import { execFileSync } from "child_process";
import { validateConfig } from "../../config/validate";
import { stsPreSpawnHook } from "../../apps/jupyterhub-sts";
import { executorsHook } from "../../apps/jupyterhub-executors-hook";
import { EXECUTOR_CLUSTER_ROLE, executorObjects } from "../../apps/notebook-executors";
import { rawGeoplatformConfig } from "../harness/stack-config";
import { hubAdmissionPolicySpec, HUB_EXECUTORS_RULES, HUB_SERVICE_ACCOUNTS_RULES } from "../../apps/notebook-executors-admission";
import { admission, HubRequest, rbacAllows } from "./hub-admission";

// The hub's spawn hooks as the chart runs them (the STS snippet, then the executors' one, in one extraConfig entry),
// under python3 with stand-ins: tornado's HTTP client answering as MinIO's STS, KubeSpawner's API clients answering
// as the API server does (409 on an existing name; 403 in the "forbidden" cases; every request recorded and checked
// against RBAC and the admission policy in the "lifecycle" case), and KubeSpawner's
// slugs as kubespawner 7.0.0 slugs.py computes them for these names (safe_slug with max_length=48; with
// is_valid_label for the pod label): "Ada.Lovelace" is no valid object name (hashed) but a valid label (kept).

const HARNESS = String.raw`
import asyncio, json, sys, types

hook_source, case = sys.argv[1], sys.argv[2]
calls, warnings, objects, requests = [], [], {}, []
SLUGS = {("ada", 48, "name"): "ada", ("ada", None, "label"): "ada",
         ("Ada.Lovelace", 48, "name"): "ada-lovelace---a99708eb", ("Ada.Lovelace", None, "label"): "Ada.Lovelace"}
def is_valid_label(s): raise AssertionError("a stand-in: never called")
def safe_slug(name, is_valid=None, max_length=None):
    return SLUGS[(name, max_length, "label" if is_valid is is_valid_label else "name")]

class ApiException(Exception):
    def __init__(self, status): self.status = status
class Response:
    def __init__(self, code, body): self.code, self.body = code, body
class HTTPRequest:
    def __init__(self, url, **kw): self.url = url
class AsyncHTTPClient:
    async def fetch(self, request, raise_error=True):
        calls.append(["sts"])
        return Response(200, b'<r xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>E</Expiration></Credentials></r>')
class HTTPError(Exception):
    def __init__(self, status_code=500, log_message=None, *args): self.status_code = status_code
class HTTPClientError(Exception): pass

def module(name, **attrs):
    m = types.ModuleType(name); m.__dict__.update(attrs); sys.modules[name] = m
module("tornado"); module("tornado.httpclient", AsyncHTTPClient=AsyncHTTPClient, HTTPClientError=HTTPClientError, HTTPRequest=HTTPRequest); module("tornado.web", HTTPError=HTTPError)
module("kubernetes_asyncio"); module("kubernetes_asyncio.client"); module("kubernetes_asyncio.client.rest", ApiException=ApiException)

# Every API request as admission sees it: verb, group, resource, namespace, name, object (the merged one on a patch).
GROUPS = {"rolebindings": "rbac.authorization.k8s.io", "networkpolicies": "networking.k8s.io"}
def request(verb, resource, namespace, name, obj=None):
    requests.append({"verb": verb, "group": GROUPS.get(resource, ""), "resource": resource, "namespace": namespace or "", "name": name,
                     "object": json.loads(json.dumps(obj)) if obj is not None else None})
def store(kind, namespace, body):
    key = "/".join([kind, namespace or "", body["metadata"]["name"]])
    calls.append(["create", key]); request("create", kind, namespace, body["metadata"]["name"], body)
    if case == "forbidden" and kind == "namespaces": raise ApiException(403)
    if case == "policy-forbidden" and kind == "networkpolicies" and body["metadata"]["name"] != "default-deny": raise ApiException(403)
    if key in objects: raise ApiException(409)
    objects[key] = json.loads(json.dumps(body))

class CoreV1Api:
    async def create_namespace(self, body): store("namespaces", None, body)
    async def patch_namespace(self, name, body):
        calls.append(["patch", "namespaces//" + name]); objects["namespaces//" + name]["metadata"]["labels"].update(body["metadata"]["labels"])
        request("patch", "namespaces", None, name, objects["namespaces//" + name])
    async def create_namespaced_service_account(self, namespace, body): store("serviceaccounts", namespace, body)
    async def create_namespaced_secret(self, namespace, body): store("secrets", namespace, body)
    async def delete_namespaced_secret(self, name, namespace):
        calls.append(["delete", "secrets/" + namespace + "/" + name]); objects.pop("secrets/" + namespace + "/" + name, None)
        request("delete", "secrets", namespace, name)
    async def delete_collection_namespaced_pod(self, namespace, label_selector=None):
        calls.append(["deletecollection", "pods/" + namespace]); request("deletecollection", "pods", namespace, None)
        if case == "stop-forbidden": raise ApiException(403)
        delete_collection("pods", namespace, label_selector)
    async def delete_collection_namespaced_config_map(self, namespace, label_selector=None):
        calls.append(["deletecollection", "configmaps/" + namespace]); request("deletecollection", "configmaps", namespace, None)
        delete_collection("configmaps", namespace, label_selector)
def delete_collection(kind, namespace, selector):
    # Equality selectors only ("k=v,..."), as Spark's label is one.
    wanted = dict(s.split("=", 1) for s in selector.split(",")) if selector else {}
    for key in [k for k, o in objects.items() if k.startswith(kind + "/" + namespace + "/")]:
        if wanted.items() <= objects[key]["metadata"].get("labels", {}).items(): objects.pop(key)
class RbacAuthorizationV1Api:
    async def create_namespaced_role_binding(self, namespace, body): store("rolebindings", namespace, body)
class NetworkingV1Api:
    async def create_namespaced_network_policy(self, namespace, body): store("networkpolicies", namespace, body)
    async def replace_namespaced_network_policy(self, name, namespace, body):
        calls.append(["replace", "networkpolicies/" + namespace + "/" + name]); objects["networkpolicies/" + namespace + "/" + name] = body
        request("update", "networkpolicies", namespace, name, body)
CLIENTS = {"RbacAuthorizationV1Api": RbacAuthorizationV1Api(), "NetworkingV1Api": NetworkingV1Api()}
module("kubespawner"); module("kubespawner.slugs", safe_slug=safe_slug, is_valid_label=is_valid_label)
module("kubespawner.clients", shared_client=lambda name: CLIENTS[name])

class Log:
    def warning(self, *a): warnings.append(a[0] % a[1:])
class User:
    def __init__(self, name): self.name = name
    async def get_auth_state(self): return {"access_token": "TOKEN"}
shared = {"AWS_ENDPOINT_URL": "http://minio"}
class Spawner:
    def __init__(self, name):
        self.log, self.user, self.environment, self.api, self.namespace = Log(), User(name), shared, CoreV1Api(), "jupyterhub"
        self.pod_name, self.service_account = "jupyter-" + name.lower(), None

c = types.SimpleNamespace(Spawner=types.SimpleNamespace())
exec(hook_source, {"c": c})
spawners, error = {}, None
users = ["ada", "Ada.Lovelace"] if case in ("two", "lifecycle") else ["ada"]
try:
    for name in users + (["ada"] if case == "again" else []):
        calls.append(["spawn", name]); spawners[name] = Spawner(name)
        asyncio.run(c.Spawner.pre_spawn_hook(spawners[name]))
        if case == "lifecycle":
            calls.append(["spawn", name]); asyncio.run(c.Spawner.pre_spawn_hook(spawners[name]))
            calls.append(["stop"]); asyncio.run(c.Spawner.post_stop_hook(spawners[name]))
    if case.startswith("stop"):
        # What the user's token may leave in the namespace: Spark's executors and ConfigMap, and any other pod.
        for key, labels in (("pods/nbx-ada/spark-exec-1", {"spark-role": "executor"}), ("pods/nbx-ada/by-hand", {}),
                            ("configmaps/nbx-ada/spark-exec-conf", {"spark-role": "executor"}), ("configmaps/nbx-ada/kube-root-ca.crt", {})):
            objects[key] = {"metadata": {"name": key.rsplit("/", 1)[1], "labels": labels}}
        calls.append(["stop"]); asyncio.run(c.Spawner.post_stop_hook(spawners["ada"]))
except HTTPError as e:
    error = {"status": e.status_code, "message": getattr(e, "jupyterhub_message", None)}
print(json.dumps({"calls": calls, "requests": requests, "warnings": warnings, "objects": objects, "error": error, "shared": shared,
                  "spawners": {n: {"service_account": s.service_account, "environment": s.environment} for n, s in spawners.items()}}))
`;

interface Run {
    calls: string[][];
    requests: HubRequest[];
    warnings: string[];
    objects: Record<string, any>;
    error: { status: number; message: string } | null;
    shared: Record<string, string>;
    spawners: Record<string, { service_account: string | null; environment: Record<string, any> }>;
}

const config = validateConfig(rawGeoplatformConfig("dev"), "dev");
const HOOKS = [stsPreSpawnHook("http://minio", "{}"), executorsHook(executorObjects(config, "jupyterhub"), "jupyterhub")].join("\n");
const runHooks = (kase: "two" | "again" | "lifecycle" | "forbidden" | "policy-forbidden" | "stop" | "stop-forbidden"): Run =>
    JSON.parse(execFileSync("python3", ["-c", HARNESS, HOOKS, kase], { encoding: "utf8" })) as Run;

describe("apps: JupyterHub per-user executor namespaces (spawn hooks)", () => {
    it("gives two users disjoint namespaces, ServiceAccounts, bindings and policies, and runs each pod as its own account", () => {
        const r = runHooks("two");
        assert.strictEqual(r.error, null);
        const of = (ns: string, sa: string) =>
            Object.keys(r.objects).filter((k) => k.includes(`/${ns}/`) || k === `namespaces//${ns}` || k === `serviceaccounts/jupyterhub/${sa}`);
        const ada = of("nbx-ada", "nb-ada");
        const lovelace = of("nbx-ada-lovelace---a99708eb", "nb-ada-lovelace---a99708eb");
        assert.deepStrictEqual(
            [...ada, ...lovelace].sort(),
            Object.keys(r.objects)
                .filter((k) => !k.startsWith("secrets/"))
                .sort(),
            "every object is one user's",
        );
        assert.ok(!ada.some((k) => lovelace.includes(k)), "disjoint");
        assert.ok(
            ada.includes("namespaces//nbx-ada") && ada.includes("serviceaccounts/jupyterhub/nb-ada") && ada.includes("rolebindings/nbx-ada/notebook-executors"),
        );
        assert.strictEqual(ada.filter((k) => k.startsWith("networkpolicies/")).length, executorObjects(config, "jupyterhub").networkPolicies.length);
        assert.deepStrictEqual(r.objects["rolebindings/nbx-ada-lovelace---a99708eb/notebook-executors"].subjects, [
            { kind: "ServiceAccount", name: "nb-ada-lovelace---a99708eb", namespace: "jupyterhub" },
        ]);
        assert.strictEqual(r.objects["rolebindings/nbx-ada/notebook-executors"].roleRef.name, EXECUTOR_CLUSTER_ROLE);
        // The executors' egress reaches their own user's notebook: KubeSpawner's label value, not the object slug.
        const toNotebook = r.objects["networkpolicies/nbx-ada-lovelace---a99708eb/egress-executors-to-notebook"].spec.egress[0].to[0];
        assert.deepStrictEqual(toNotebook.podSelector.matchLabels["hub.jupyter.org/username"], "Ada.Lovelace");
        assert.deepStrictEqual(r.objects["networkpolicies/nbx-ada/ingress-executors-internal"].spec.ingress[0].from[0].namespaceSelector, {
            matchLabels: { "kubernetes.io/metadata.name": "nbx-ada" },
        });
        assert.ok(!JSON.stringify(r.objects).includes("$("), "no placeholder left");
        assert.strictEqual(r.objects["namespaces//nbx-ada"].metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
        for (const [name, slug] of [
            ["ada", "ada"],
            ["Ada.Lovelace", "ada-lovelace---a99708eb"],
        ]) {
            assert.strictEqual(r.spawners[name].service_account, `nb-${slug}`);
            assert.strictEqual(r.spawners[name].environment.NOTEBOOK_EXECUTOR_NAMESPACE, `nbx-${slug}`);
            assert.ok(r.spawners[name].environment.AWS_ACCESS_KEY_ID.valueFrom, "the STS hook ran too");
        }
        assert.deepStrictEqual(r.shared, { AWS_ENDPOINT_URL: "http://minio" }, "the configured environment is not touched");
        const ada0 = r.calls.findIndex((c) => c[0] === "spawn" && c[1] === "ada");
        assert.strictEqual(r.calls[ada0 + 1][1], "namespaces//nbx-ada", "the namespace first");
        const creates = r.calls
            .slice(
                ada0,
                r.calls.findIndex((c, i) => i > ada0 && c[0] === "spawn"),
            )
            .filter((c) => c[0] === "create" && !c[1].startsWith("secrets/"));
        const policies = creates.filter((c) => c[1].startsWith("networkpolicies/"));
        assert.strictEqual(policies[0][1], "networkpolicies/nbx-ada/default-deny", "the default deny first");
        assert.strictEqual(creates.at(-2)?.[1], policies.at(-1)?.[1], "then the other policies");
        assert.strictEqual(creates.at(-1)?.[1], "rolebindings/nbx-ada/notebook-executors", "the binding last");
    });

    it("is idempotent: a second spawn finds everything (409), relabels the namespace and replaces the policies", () => {
        const r = runHooks("again");
        assert.strictEqual(r.error, null);
        const second = r.calls.slice(r.calls.map((c) => c[0]).lastIndexOf("spawn"));
        assert.deepStrictEqual(
            second.filter((c) => c[0] === "patch"),
            [["patch", "namespaces//nbx-ada"]],
        );
        assert.strictEqual(second.filter((c) => c[0] === "replace").length, executorObjects(config, "jupyterhub").networkPolicies.length);
        assert.strictEqual(r.spawners.ada.service_account, "nb-ada");
    });

    it("makes only requests that the hub's RBAC allows and its admission policy matches (where it should) and admits", () => {
        // Two users, each: spawn, spawn again (409s), stop.
        const r = runHooks("lifecycle");
        assert.strictEqual(r.error, null);
        assert.deepStrictEqual(r.warnings, []);
        const spec = hubAdmissionPolicySpec("jupyterhub", executorObjects(config, "jupyterhub").networkPolicies);
        const ours = [...HUB_EXECUTORS_RULES, ...HUB_SERVICE_ACCOUNTS_RULES];
        const verbs = new Set(r.requests.map((q) => `${q.verb} ${q.resource}`));
        for (const expected of [
            "create namespaces",
            "patch namespaces",
            "create rolebindings",
            "update networkpolicies",
            "deletecollection configmaps",
            "create secrets",
        ])
            assert.ok(verbs.has(expected), expected);
        for (const q of r.requests) {
            const what = `${q.verb} ${q.resource} ${q.namespace}/${q.name}`;
            assert.ok(rbacAllows(q, "jupyterhub"), `RBAC allows ${what}`);
            const decision = admission(spec, q);
            // The policy confines every right the program gives; z2jh's own Role (the STS Secrets) is z2jh's.
            const granted = ours.some((g) => g.resources.includes(q.resource) && g.verbs.includes(q.verb));
            if (granted) assert.ok(decision.matched, `the admission policy applies to ${what}`);
            assert.deepStrictEqual(decision.refusals, [], what);
        }
        assert.ok(!r.requests.some((q) => q.verb === "get" || q.verb === "list"), "the hook reads nothing");
        // And no right goes unused (bind is checked on each RoleBinding's creation).
        for (const rule of ours)
            for (const resource of rule.resources)
                for (const verb of rule.verbs.filter((v) => v !== "bind")) assert.ok(verbs.has(`${verb} ${resource}`), `${verb} ${resource} is used`);
    });

    it("fails the spawn with a message, before asking for credentials, when the namespace cannot be created", () => {
        const r = runHooks("forbidden");
        assert.deepStrictEqual(r.error, { status: 500, message: "the hub could not prepare your Spark executors' namespace; ask an admin" });
        assert.ok(!r.calls.some((c) => c[0] === "sts"), "no credentials were issued");
        assert.deepStrictEqual(r.warnings, ["cannot prepare executor namespace nbx-ada for ada: 403"]);
    });

    it("binds no account in a namespace whose policies could not all be written", () => {
        const r = runHooks("policy-forbidden");
        assert.strictEqual(r.error?.status, 500);
        assert.ok(!Object.keys(r.objects).some((k) => k.startsWith("rolebindings/")), "no RoleBinding");
        assert.ok("networkpolicies/nbx-ada/default-deny" in r.objects);
    });

    it("deletes every pod and ConfigMap of the stopped user's namespace, Spark's or not, and still removes the credentials", () => {
        const r = runHooks("stop");
        const stop = r.calls.slice(r.calls.findIndex((c) => c[0] === "stop") + 1);
        assert.deepStrictEqual(stop, [
            ["deletecollection", "pods/nbx-ada"],
            ["deletecollection", "configmaps/nbx-ada"],
            ["delete", "secrets/jupyterhub/jupyter-ada-s3-credentials"],
        ]);
        assert.deepStrictEqual(
            Object.keys(r.objects).filter((k) => k.startsWith("pods/") || k.startsWith("configmaps/")),
            [],
        );
        assert.deepStrictEqual(r.warnings, []);
    });

    it("logs a failed cleanup without failing the stop", () => {
        const r = runHooks("stop-forbidden");
        assert.strictEqual(r.error, null);
        assert.deepStrictEqual(r.warnings, ["cannot delete executor pods in nbx-ada: 403"]);
        assert.ok(r.calls.some((c) => c[0] === "delete" && c[1].startsWith("secrets/")));
    });
});
