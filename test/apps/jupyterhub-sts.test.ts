import * as assert from "assert";
import { execFileSync } from "child_process";
import { STS_DURATION_SECONDS, stsPreSpawnHook } from "../../apps/jupyterhub-sts";

// The hub's pre-spawn hook, run by python3 as the hub would run it (c.Spawner.pre_spawn_hook awaited with the
// spawner), against a stand-in for tornado's HTTP client that answers as MinIO's STS does.

const HARNESS = String.raw`
import asyncio, json, sys, types
from urllib.parse import parse_qs

hook_source, case = sys.argv[1], sys.argv[2]
requests, warnings = [], []
ANSWERS = {
    "ok": (200, b'<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>AKTMP</AccessKeyId><SecretAccessKey>SKTMP</SecretAccessKey><SessionToken>STTMP</SessionToken><Expiration>2026-12-02T12:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>'),
    "refused": (403, b"<Error><Code>AccessDenied</Code></Error>"),
    "notoken": (200, b""),
}

class Response:
    def __init__(self, code, body): self.code, self.body = code, body

class HTTPRequest:
    def __init__(self, url, method, body, headers, request_timeout):
        self.url, self.method, self.body, self.headers = url, method, body, headers

class AsyncHTTPClient:
    async def fetch(self, request, raise_error=True):
        requests.append({"url": request.url, "method": request.method, "form": {k: v[0] for k, v in parse_qs(request.body).items()}})
        return Response(*ANSWERS[case])

tornado = types.ModuleType("tornado"); httpclient = types.ModuleType("tornado.httpclient")
httpclient.AsyncHTTPClient, httpclient.HTTPRequest = AsyncHTTPClient, HTTPRequest
sys.modules["tornado"], sys.modules["tornado.httpclient"] = tornado, httpclient

class Log:
    def warning(self, *a): warnings.append(a[0] % a[1:])

class User:
    name = "ada"
    async def get_auth_state(self): return {} if case == "notoken" else {"access_token": "TOKEN-OF-ADA"}

shared = {"AWS_ENDPOINT_URL": "http://minio.minio.svc:9000"}
class Spawner:
    log, user, environment = Log(), User(), shared

c = types.SimpleNamespace(Spawner=types.SimpleNamespace())
exec(hook_source, {"c": c})
spawner = Spawner()
asyncio.run(c.Spawner.pre_spawn_hook(spawner))
print(json.dumps({"requests": requests, "warnings": warnings, "environment": spawner.environment, "shared": shared}))
`;

function runHook(kase: "ok" | "refused" | "notoken") {
    const out = execFileSync("python3", ["-c", HARNESS, stsPreSpawnHook("http://minio.minio.svc:9000"), kase], { encoding: "utf8" });
    return JSON.parse(out) as { requests: any[]; warnings: string[]; environment: Record<string, string>; shared: Record<string, string> };
}

describe("apps: JupyterHub per-user MinIO credentials (pre-spawn hook)", () => {
    it("trades the user's access token for temporary credentials and gives them to this server only", () => {
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
                },
            },
        ]);
        assert.deepStrictEqual(r.environment, {
            AWS_ENDPOINT_URL: "http://minio.minio.svc:9000",
            AWS_ACCESS_KEY_ID: "AKTMP",
            AWS_SECRET_ACCESS_KEY: "SKTMP",
            AWS_SESSION_TOKEN: "STTMP",
            AWS_CREDENTIALS_EXPIRATION: "2026-12-02T12:00:00Z",
        });
        assert.deepStrictEqual(r.shared, { AWS_ENDPOINT_URL: "http://minio.minio.svc:9000" }, "the configured (shared) environment is not touched");
        assert.deepStrictEqual(r.warnings, []);
    });

    it("spawns without credentials, saying why, when MinIO refuses the token", () => {
        const r = runHook("refused");
        assert.strictEqual(r.environment.AWS_ACCESS_KEY_ID, undefined);
        assert.match(r.warnings[0], /MinIO STS refused ada \(HTTP 403\)/);
    });

    it("spawns without credentials, saying why, when auth_state holds no access token", () => {
        const r = runHook("notoken");
        assert.deepStrictEqual(r.requests, []);
        assert.strictEqual(r.environment.AWS_ACCESS_KEY_ID, undefined);
        assert.match(r.warnings[0], /no access token in auth_state for ada/);
    });
});
