import * as assert from "assert";
import { execFileSync } from "child_process";
import { STS_DURATION_SECONDS, STS_SECRET_LABELS, STS_SECRET_SUFFIX, stsPreSpawnHook } from "../../apps/jupyterhub-sts";

// The hub's pre-spawn hook, run by python3 as the hub would run it (c.Spawner.pre_spawn_hook awaited with the
// spawner), against a stand-in for tornado's HTTP client that answers as MinIO's STS does, and a stand-in for
// KubeSpawner's CoreV1Api that answers as the API server does.

const HARNESS = String.raw`
import asyncio, json, sys, types
from urllib.parse import parse_qs

hook_source, case = sys.argv[1], sys.argv[2]
requests, warnings, k8s = [], [], []
ANSWERS = {
    "refused": (403, b"<Error><Code>AccessDenied</Code></Error>"),
    "starting": (503, b"<Error><Code>XMinioServerNotInitialized</Code></Error>"),
    "empty": (200, b'<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"></AssumeRoleWithWebIdentityResponse>'),
    "garbled": (200, b"<html>proxy error"),
}
OK = (200, b'<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>AKTMP</AccessKeyId><SecretAccessKey>SKTMP</SecretAccessKey><SessionToken>STTMP</SessionToken><Expiration>2026-12-02T12:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>')

class Response:
    def __init__(self, code, body): self.code, self.body = code, body

class HTTPRequest:
    def __init__(self, url, method, body, headers, request_timeout):
        self.url, self.method, self.body, self.headers = url, method, body, headers

class AsyncHTTPClient:
    async def fetch(self, request, raise_error=True):
        requests.append({"url": request.url, "method": request.method, "form": {k: v[0] for k, v in parse_qs(request.body).items()}})
        # With raise_error=False tornado still raises when no answer came (tornado 6.5 httpclient.py fetch).
        if case == "unreachable": raise ConnectionRefusedError(111, "Connection refused")
        if case == "timeout": raise HTTPTimeoutError("Timeout during request")
        return Response(*ANSWERS.get(case, OK))

class HTTPClientError(Exception):
    def __init__(self, code, message=None): self.code, self.message = code, message
    def __str__(self): return "HTTP %d: %s" % (self.code, self.message)

class HTTPTimeoutError(HTTPClientError):
    # simple_httpclient's timeout: code 599, str the message alone (as python3-tornado 6.2 shows; 6.5 keeps the class).
    def __init__(self, message): super().__init__(599, message)
    def __str__(self): return self.message

class HTTPError(Exception):
    # tornado.web.HTTPError's constructor and str (tornado 6.5 web.py).
    def __init__(self, status_code=500, log_message=None, *args):
        self.status_code, self.log_message, self.args = status_code, log_message, args
    def __str__(self): return "HTTP %d: (%s)" % (self.status_code, self.log_message % self.args)

class ApiException(Exception):
    def __init__(self, status): self.status = status

def module(name, **attrs):
    m = types.ModuleType(name); m.__dict__.update(attrs); sys.modules[name] = m
module("tornado"); module("tornado.httpclient", AsyncHTTPClient=AsyncHTTPClient, HTTPClientError=HTTPClientError, HTTPRequest=HTTPRequest); module("tornado.web", HTTPError=HTTPError)
module("kubernetes_asyncio"); module("kubernetes_asyncio.client"); module("kubernetes_asyncio.client.rest", ApiException=ApiException)

# KubeSpawner's CoreV1Api (kubernetes_asyncio): create_namespaced_secret(namespace, body), delete_namespaced_secret(name, namespace);
# the API server's answers: 409 on an existing name, 404 on a missing one, 403 where the Role does not allow it.
secrets = {("jupyterhub", "jupyter-ada-s3-credentials"): {"stale": True}} if case == "leftover" else {}
class CoreV1Api:
    async def create_namespaced_secret(self, namespace, body):
        k8s.append(["create", namespace, body["metadata"]["name"]])
        if case == "forbidden": raise ApiException(403)
        if (namespace, body["metadata"]["name"]) in secrets: raise ApiException(409)
        secrets[(namespace, body["metadata"]["name"])] = json.loads(json.dumps(body))
    async def delete_namespaced_secret(self, name, namespace):
        k8s.append(["delete", namespace, name])
        if secrets.pop((namespace, name), None) is None: raise ApiException(404)

class Log:
    def warning(self, *a): warnings.append(a[0] % a[1:])

class User:
    name = "ada"
    async def get_auth_state(self): return {} if case == "notoken" else {"access_token": "TOKEN-OF-ADA"}

shared = {"AWS_ENDPOINT_URL": "http://minio.minio.svc:9000"}
class Spawner:
    log, user, environment, api, namespace, pod_name = Log(), User(), shared, CoreV1Api(), "jupyterhub", "jupyter-ada"

c = types.SimpleNamespace(Spawner=types.SimpleNamespace())
exec(hook_source, {"c": c})
spawner, error = Spawner(), None
try:
    asyncio.run(c.Spawner.pre_spawn_hook(spawner))
except HTTPError as e:
    error = {"status": e.status_code, "jupyterhub_message": getattr(e, "jupyterhub_message", None), "str": str(e)}
after_spawn = {"/".join(k): v for k, v in secrets.items()}
if case == "stop":
    asyncio.run(c.Spawner.post_stop_hook(spawner))
    asyncio.run(c.Spawner.post_stop_hook(spawner))  # a second stop (Secret already gone) is not an error
print(json.dumps({"requests": requests, "warnings": warnings, "environment": spawner.environment, "shared": shared, "error": error,
                  "k8s": k8s, "secrets": after_spawn, "secretsAtEnd": {"/".join(k): v for k, v in secrets.items()}}))
`;

type Kase = "ok" | "refused" | "starting" | "unreachable" | "timeout" | "notoken" | "empty" | "garbled" | "leftover" | "forbidden" | "stop";
interface HookRun {
    requests: any[];
    warnings: string[];
    environment: Record<string, any>;
    shared: Record<string, string>;
    error: { status: number; jupyterhub_message: string | null; str: string } | null;
    k8s: string[][];
    secrets: Record<string, any>;
    secretsAtEnd: Record<string, any>;
}

function runHook(kase: Kase): HookRun {
    const out = execFileSync("python3", ["-c", HARNESS, stsPreSpawnHook("http://minio.minio.svc:9000", SESSION_POLICY), kase], { encoding: "utf8" });
    return JSON.parse(out) as HookRun;
}

const SECRET = "jupyter-ada" + STS_SECRET_SUFFIX;
const SESSION_POLICY = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::x/*"] }] });
const CREDENTIAL_VALUES = ["AKTMP", "SKTMP", "STTMP"];

describe("apps: JupyterHub per-user MinIO credentials (pre-spawn hook)", () => {
    it("trades the user's access token for temporary credentials, stores them in a Secret of this server, and refers to it", () => {
        const r = runHook("ok");
        assert.deepStrictEqual(r.requests, [
            {
                url: "http://minio.minio.svc:9000",
                method: "POST",
                form: {
                    Action: "AssumeRoleWithWebIdentity",
                    Version: "2011-06-15",
                    WebIdentityToken: "TOKEN-OF-ADA",
                    DurationSeconds: String(STS_DURATION_SECONDS),
                    Policy: SESSION_POLICY,
                },
            },
        ]);
        const ref = (key: string) => ({ valueFrom: { secretKeyRef: { name: SECRET, key } } });
        assert.deepStrictEqual(r.environment, {
            AWS_ENDPOINT_URL: "http://minio.minio.svc:9000",
            AWS_ACCESS_KEY_ID: ref("AWS_ACCESS_KEY_ID"),
            AWS_SECRET_ACCESS_KEY: ref("AWS_SECRET_ACCESS_KEY"),
            AWS_SESSION_TOKEN: ref("AWS_SESSION_TOKEN"),
            AWS_CREDENTIALS_EXPIRATION: "2026-12-02T12:00:00Z",
        });
        const env = JSON.stringify(r.environment);
        for (const v of CREDENTIAL_VALUES) assert.ok(!env.includes(v), `${v} is not in the pod's environment`);
        assert.deepStrictEqual(r.secrets, {
            [`jupyterhub/${SECRET}`]: {
                apiVersion: "v1",
                kind: "Secret",
                type: "Opaque",
                stringData: { AWS_ACCESS_KEY_ID: "AKTMP", AWS_SECRET_ACCESS_KEY: "SKTMP", AWS_SESSION_TOKEN: "STTMP" },
                metadata: { name: SECRET, labels: STS_SECRET_LABELS, annotations: { "hub.jupyter.org/username": "ada" } },
            },
        });
        assert.deepStrictEqual(r.k8s, [["create", "jupyterhub", SECRET]], "only the verbs z2jh 4.4.0's hub Role grants on secrets (create, delete)");
        assert.deepStrictEqual(r.shared, { AWS_ENDPOINT_URL: "http://minio.minio.svc:9000" }, "the configured (shared) environment is not touched");
        assert.deepStrictEqual(r.warnings, []);
        assert.strictEqual(r.error, null);
    });

    it("replaces a leftover Secret (hub died before the stop hook) by delete and create: the Role has no update or patch", () => {
        const r = runHook("leftover");
        assert.deepStrictEqual(r.k8s, [
            ["create", "jupyterhub", SECRET],
            ["delete", "jupyterhub", SECRET],
            ["create", "jupyterhub", SECRET],
        ]);
        assert.strictEqual(r.secrets[`jupyterhub/${SECRET}`].stringData.AWS_SECRET_ACCESS_KEY, "SKTMP");
        assert.strictEqual(r.error, null);
    });

    it("deletes the Secret when the server stops, and a second stop finds it gone without an error", () => {
        const r = runHook("stop");
        assert.deepStrictEqual(r.k8s, [
            ["create", "jupyterhub", SECRET],
            ["delete", "jupyterhub", SECRET],
            ["delete", "jupyterhub", SECRET],
        ]);
        assert.deepStrictEqual(r.secretsAtEnd, {});
    });

    it("fails the spawn with a message for the user when MinIO refuses the token", () => {
        const r = runHook("refused");
        assert.strictEqual(r.error?.status, 403);
        assert.match(r.error?.jupyterhub_message ?? "", /object store \(MinIO STS\) refused your login token \(HTTP 403\)/);
        assert.match(r.warnings[0], /MinIO STS refused ada \(HTTP 403\)/);
        assert.deepStrictEqual(r.k8s, [], "no Secret");
        assert.strictEqual(r.environment.AWS_ACCESS_KEY_ID, undefined);
    });

    it("fails the spawn asking the user to retry, not to check groups, when MinIO answers 5xx (starting, failing)", () => {
        const r = runHook("starting");
        assert.strictEqual(r.error?.status, 503);
        assert.match(r.error?.jupyterhub_message ?? "", /MinIO STS\) is not available \(HTTP 503\).*try again/);
        assert.match(r.warnings[0], /MinIO STS failed for ada \(HTTP 503\)/);
        assert.deepStrictEqual(r.k8s, [], "no Secret");
    });

    for (const [kase, logged] of [
        ["unreachable", "[Errno 111] Connection refused"],
        ["timeout", "Timeout during request"],
    ] as const) {
        it(`fails the spawn with a message for the user when MinIO's STS does not answer (${kase})`, () => {
            const r = runHook(kase);
            assert.strictEqual(r.error?.status, 503);
            assert.match(r.error?.jupyterhub_message ?? "", /object store \(MinIO STS\) did not answer.*try again/);
            assert.deepStrictEqual(r.warnings, [`MinIO STS unreachable for ada: ${logged}`]);
            assert.ok(!JSON.stringify(r.warnings).includes("TOKEN-OF-ADA"), "the token is not logged");
            assert.deepStrictEqual(r.k8s, [], "no Secret");
        });
    }

    for (const kase of ["empty", "garbled"] as const) {
        it(`fails the spawn when STS answers 200 without credentials (${kase})`, () => {
            const r = runHook(kase);
            assert.strictEqual(r.error?.status, 502);
            assert.match(r.error?.jupyterhub_message ?? "", /answered without credentials/);
            assert.deepStrictEqual(r.k8s, []);
        });
    }

    it("fails the spawn, asking the user to log in again, when auth_state holds no access token", () => {
        const r = runHook("notoken");
        assert.deepStrictEqual(r.requests, []);
        assert.strictEqual(r.error?.status, 403);
        assert.match(r.error?.jupyterhub_message ?? "", /no login token is stored for your account.*log in again/);
        assert.strictEqual(r.environment.AWS_ACCESS_KEY_ID, undefined);
    });

    it("fails the spawn when the Secret cannot be written, and logs no credential", () => {
        const r = runHook("forbidden");
        assert.strictEqual(r.error?.status, 500);
        assert.match(r.error?.jupyterhub_message ?? "", /could not store your object-store credentials/);
        assert.deepStrictEqual(r.warnings, [`cannot write Secret ${SECRET} for ada: 403`]);
        const logged = JSON.stringify([r.warnings, r.error]);
        for (const v of CREDENTIAL_VALUES) assert.ok(!logged.includes(v), `${v} is neither logged nor shown`);
        assert.strictEqual(r.environment.AWS_ACCESS_KEY_ID, undefined);
    });
});
