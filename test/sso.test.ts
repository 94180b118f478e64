import * as assert from "assert";
import * as jmespath from "jmespath";
import { CHARTS, PLATFORM_IMAGES } from "../config/catalog";
import { NODE_GROUP_LABEL } from "../config/types";
import { validateConfig } from "../config/validate";
import { MINIO_OIDC_CLIENT } from "../platform/object-storage";
import { exposures } from "../policy/policies/ingress-authentication";
import { dependsTransitively } from "./harness/dependencies";
import { minioPolicyErrors } from "./harness/minio-policy";
import { SECRET_SENTINEL } from "./harness/mock-outputs";
import { chartOf } from "./harness/releases";
import { RecordedResource, runStack, sharedStackRuns, StackRun } from "./harness/run-stack";
import { rawGeoplatformConfig, STACKS } from "./harness/stack-config";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const MIDDLEWARE = "kubernetes:traefik.io/v1alpha1:Middleware";
const MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares";
const SSO_NS = CHARTS.oauth2Proxy.namespace;
const GATES = [`${SSO_NS}-oauth2-proxy@kubernetescrd`, `${SSO_NS}-admins-oauth2-proxy@kubernetescrd`];
/** UIs that log users in through OIDC themselves (openEO: its own OIDC provider, issue 16). */
const SELF_OIDC = ["jupyter", "argo", "grafana", "minio", "auth", "openeo"];

const byType = (run: StackRun, type: string) => run.resources.filter((r) => r.type === type);
const named = (run: StackRun, name: string) => run.resources.find((r) => r.name === name) as RecordedResource;
const release = (run: StackRun, chart: string) => byType(run, RELEASE).find((r) => chartOf(r) === chart) as RecordedResource;
const middleware = (run: StackRun, name: string) => byType(run, MIDDLEWARE).find((m) => m.inputs.metadata.name === name) as RecordedResource;
const realmOf = (run: StackRun) => JSON.parse(Object.values(named(run, "keycloak-realm").inputs.data)[0] as string);
const realmJob = (run: StackRun) => named(run, "keycloak-realm-sync");
const configOf = (stack: string) => validateConfig(rawGeoplatformConfig(stack), stack);

/** Every Ingress the stack creates, directly or through a Release's values, with its hosts and middleware refs. */
function allExposures(run: StackRun) {
    return run.resources.flatMap((r) =>
        exposures(r.type, r.inputs).map((e) => ({
            resource: r.name,
            ...e,
            middlewares: String(e.annotations[MIDDLEWARES] ?? "")
                .split(",")
                .map((m) => m.trim())
                .filter((m) => m),
        })),
    );
}

/**
 * The claims Keycloak puts in an access token that `client` gets for a user in `groups`, as far as the realm's
 * protocol mappers decide them: `azp` is the client, `aud` holds what the audience mappers add plus `account`
 * (the user's default roles include the account client's). Only mappers with access.token.claim "true" count.
 */
function accessTokenClaims(client: any, groups: string[]): Record<string, unknown> {
    const inAccessToken = (kind: string) => client.protocolMappers.filter((m: any) => m.protocolMapper === kind && m.config["access.token.claim"] === "true");
    const claims: Record<string, unknown> = { sub: "0b6e-user-id", azp: client.clientId };
    claims.aud = [...inAccessToken("oidc-audience-mapper").map((m: any) => m.config["included.client.audience"]), "account"];
    for (const m of inAccessToken("oidc-group-membership-mapper")) claims[m.config["claim.name"]] = groups;
    return claims;
}

/**
 * MinIO's answer to AssumeRoleWithWebIdentity without RoleArn, for a token with these (signature-checked) claims:
 * the claim-based provider's checks (minio/minio RELEASE.2024-12-18T13-15-44Z internal/config/identity/openid/jwt.go
 * Validate: `aud` must exist and hold the client id, else `azp` must; cmd/sts-handlers.go AssumeRoleWithSSO: the
 * claim must name at least one defined policy, `sub` is required). The policies applied, or MinIO's refusal.
 */
function minioSts(claims: Record<string, unknown>, provider: { clientId: string; claimName: string }, policies: string[]): string[] | string {
    const values = (v: unknown) => (Array.isArray(v) ? v : typeof v === "string" ? v.split(",") : undefined);
    const aud = values(claims.aud);
    if (!aud) return "`aud` claim invalid";
    if (!aud.includes(provider.clientId) && !values(claims.azp)?.includes(provider.clientId)) return "`azp` claim invalid";
    const named = values(claims[provider.claimName]);
    if (!named) return `${provider.claimName} claim missing`;
    const defined = named.filter((p) => policies.includes(p));
    if (defined.length === 0) return "none of the given policies are defined";
    if (!claims.sub) return "`sub` claim missing";
    return defined;
}

/**
 * Whether MinIO's evaluation of `policy` allows `action` on `arn` for a user whose token says `preferred_username`,
 * with the request's condition values in `request` (e.g. `{ "s3:prefix": "ada/" }`). `*` wildcards; `${jwt:...}`
 * variables filled from the claims in resources and in condition values (minio/pkg v3.0.23 policy/resource.go Match,
 * policy/condition/stringfunc.go substitute); StringLike with no request value matches nothing (stringLikeFunc.eval).
 * Statements are taken in the chart's values form (`conditions`) or IAM's (`condition`).
 */
function allows(
    policy: any,
    action: string,
    arn: string,
    claims: Record<string, string> = { preferred_username: "ada" },
    request: Record<string, string> = {},
): boolean {
    const fill = (text: string) => text.replace(/\$\{jwt:(\w+)\}/g, (_, k) => claims[k]);
    const glob = (pattern: string) =>
        new RegExp(
            `^${pattern
                .split("*")
                .map((p) => p.replace(/[.?+^$()[\]{}|\\]/g, "\\$&"))
                .join(".*")}$`,
        );
    const conditionOf = (s: any): Record<string, Record<string, string[]>> =>
        s.condition ??
        Object.assign(
            {},
            ...(s.conditions ?? []).map((c: any) => Object.fromEntries(Object.entries(c).map(([op, members]) => [op, JSON.parse(`{${members}}`)]))),
        );
    const conditionHolds = (s: any) =>
        Object.entries(conditionOf(s)).every(([operator, keys]) => {
            assert.strictEqual(operator, "StringLike", "the evaluator models StringLike only");
            return Object.entries(keys).every(([key, values]) => request[key] !== undefined && values.some((v) => glob(fill(v)).test(request[key])));
        });
    // IAM evaluation: an explicit Deny wins over any Allow; a statement without resources (admin actions) matches any.
    const matches = (s: any) =>
        (s.actions as string[]).some((a) => glob(a).test(action)) &&
        (s.resources === undefined || (s.resources as string[]).some((r) => glob(fill(r)).test(arn))) &&
        conditionHolds(s);
    const statements = policy.statements.filter(matches);
    return statements.some((s: any) => (s.effect ?? "Allow") === "Allow") && !statements.some((s: any) => s.effect === "Deny");
}

describe("single sign-on and roles", () => {
    const runOf = sharedStackRuns();

    for (const stack of STACKS) {
        describe(stack, () => {
            const run = () => runOf(stack);
            const domain = () => configOf(stack).domain;

            it("puts every Ingress without a login of its own behind the SSO gate, and only hosts the gate serves", () => {
                const gate = release(run(), "oauth2-proxy").inputs.values;
                const gated: string[] = [];
                for (const e of allExposures(run())) {
                    const uses = e.middlewares.filter((m) => GATES.includes(m));
                    for (const host of e.hosts) {
                        if (uses.length === 0) assert.ok(SELF_OIDC.includes(host.split(".")[0]), `${e.resource} serves ${host} with no login`);
                        else gated.push(host);
                    }
                }
                assert.deepStrictEqual([...new Set(gated)].sort(), [`longhorn.${domain()}`, `spark-history.${domain()}`]);
                // A host using the gate without oauth2-proxy's /oauth2/ route there would pass its own /oauth2/ paths unchecked (--skip-auth-route).
                assert.deepStrictEqual([...gate.ingress.hosts].sort(), [...new Set(gated)].sort());
                assert.deepStrictEqual(gate.extraArgs["whitelist-domain"].split(",").sort(), [...new Set(gated)].sort());
                assert.deepStrictEqual(gate.ingress.tls, [{ hosts: gate.ingress.hosts, secretName: "oauth2-proxy-tls" }]);
                const client = realmOf(run()).clients.find((c: any) => c.clientId === "oauth2-proxy");
                assert.deepStrictEqual(client.redirectUris.sort(), [...new Set(gated)].map((h) => `https://${h}/oauth2/callback`).sort());
            });

            it("lets platform-admins alone into Longhorn, any realm group into the Spark History Server", () => {
                const longhorn = release(run(), "longhorn").inputs.values.ingress.annotations[MIDDLEWARES];
                assert.strictEqual(longhorn, `${SSO_NS}-admins-oauth2-proxy@kubernetescrd`);
                const history = byType(run(), INGRESS).find((i) => i.inputs.metadata.name === "spark-history") as RecordedResource;
                assert.strictEqual(history.inputs.metadata.annotations[MIDDLEWARES], `${SSO_NS}-oauth2-proxy@kubernetescrd`);
                assert.strictEqual(
                    middleware(run(), "admins-oauth2-proxy").inputs.spec.forwardAuth.address,
                    `http://oauth2-proxy.${SSO_NS}.svc.cluster.local/?allowed_groups=platform-admins`,
                );
                assert.strictEqual(release(run(), "oauth2-proxy").inputs.values.extraArgs["allowed-group"], "platform-admins,data-scientists");
                assert.strictEqual(byType(run(), MIDDLEWARE).filter((m) => m.inputs.spec.basicAuth).length, 0, "no basic auth left");
            });

            it("wires oauth2-proxy as Traefik forward auth with its secrets in Secrets only", () => {
                for (const name of ["oauth2-proxy", "admins-oauth2-proxy"]) {
                    const m = middleware(run(), name);
                    assert.strictEqual(m.inputs.metadata.namespace, SSO_NS);
                    const fa = m.inputs.spec.forwardAuth;
                    // oauth2-proxy's `/` (static upstream 202) redirects to the login; /oauth2/auth would only answer 401.
                    assert.match(fa.address, new RegExp(`^http://oauth2-proxy\\.${SSO_NS}\\.svc\\.cluster\\.local/(\\?|$)`));
                    assert.strictEqual(fa.trustForwardHeader, false);
                    assert.ok(fa.authResponseHeaders.includes("X-Auth-Request-User") && fa.authResponseHeaders.includes("X-Auth-Request-Groups"));
                    assert.ok(dependsTransitively(run(), m, release(run(), "traefik")), "the Middleware CRD exists first");
                }
                const gate = release(run(), "oauth2-proxy");
                const values = gate.inputs.values;
                assert.strictEqual(gate.inputs.namespace, SSO_NS);
                assert.deepStrictEqual(values.nodeSelector, { [NODE_GROUP_LABEL]: "system" });
                assert.deepStrictEqual(values.config.upstreams, ["static://202"]);
                assert.strictEqual(values.extraArgs["reverse-proxy"], "true");
                assert.strictEqual(values.extraArgs["skip-provider-button"], "true");
                assert.strictEqual(values.extraArgs["oidc-groups-claim"], "groups");
                assert.strictEqual(values.extraArgs["oidc-issuer-url"], `https://auth.${domain()}/realms/geoplatform`);
                // Only oauth2-proxy's own routes skip the check, and they are exactly what its Ingress routes to it.
                assert.strictEqual(values.extraArgs["skip-auth-route"], `^${values.ingress.path}`);
                assert.strictEqual(values.ingress.path, "/oauth2/");
                assert.deepStrictEqual(values.ingress.annotations[MIDDLEWARES], `${SSO_NS}-oauth2-proxy@kubernetescrd`);
                // Secrets: the client's from the realm's client Secret, the cookie's from its own; none in values.
                assert.strictEqual(values.config.existingSecret, "oauth2-proxy-oidc");
                assert.deepStrictEqual(values.config.requiredSecretKeys, ["client-id", "client-secret"]);
                assert.ok(!("clientSecret" in values.config) && !("cookieSecret" in values.config));
                assert.deepStrictEqual(values.extraEnv, [
                    { name: "OAUTH2_PROXY_COOKIE_SECRET", valueFrom: { secretKeyRef: { name: "oauth2-proxy-cookie", key: "cookie-secret" } } },
                ]);
                assert.ok(!JSON.stringify(values).includes(SECRET_SENTINEL));
                const secret = (name: string) =>
                    byType(run(), "kubernetes:core/v1:Secret").find(
                        (s) => s.inputs.metadata.name === name && s.inputs.metadata.namespace === SSO_NS,
                    ) as RecordedResource;
                assert.deepStrictEqual(Object.keys(secret("oauth2-proxy-oidc").inputs.stringData).sort(), ["client-id", "client-secret"]);
                assert.ok(secret("oauth2-proxy-oidc").secretPaths.includes("stringData") && secret("oauth2-proxy-cookie").secretPaths.includes("stringData"));
                assert.ok(gate.dependencies.includes(secret("oauth2-proxy-oidc").urn) && gate.dependencies.includes(secret("oauth2-proxy-cookie").urn));
                // AES needs 16, 24 or 32 bytes (oauth2-proxy pkg/validation/cookie.go): 32 ASCII characters.
                const cookie = run().resources.find(
                    (r) => r.type === "random:index/randomPassword:RandomPassword" && r.name === "oauth2-proxy-cookie",
                ) as RecordedResource;
                assert.deepStrictEqual([cookie.inputs.length, cookie.inputs.special], [32, false]);
                // It reads the realm's discovery document at start: it waits for the reconciled realm.
                assert.ok(dependsTransitively(run(), gate, realmJob(run())));
            });

            it("reconciles the realm with keycloak-config-cli in a Job on system, restricted, admin credentials from a Secret", () => {
                const job = realmJob(run());
                const pod = job.inputs.spec.template.spec;
                const container = pod.containers[0];
                assert.match(job.inputs.metadata.name, /^keycloak-realm-sync-[0-9a-f]{10}$/);
                assert.strictEqual(job.inputs.metadata.namespace, CHARTS.keycloak.namespace);
                assert.strictEqual(job.inputs.metadata.annotations["pulumi.com/replaceUnready"], "true", "a failed sync is replaced by the next up");
                assert.deepStrictEqual(pod.nodeSelector, { [NODE_GROUP_LABEL]: "system" });
                assert.strictEqual(container.image, `docker.io/adorsys/keycloak-config-cli:${PLATFORM_IMAGES.keycloakConfigCli.tag}`);
                assert.match(PLATFORM_IMAGES.keycloakConfigCli.tag, /^\d+\.\d+\.\d+-26\.\d+\.\d+$/, "built for Keycloak 26");
                // Restricted Pod Security: non-root, RuntimeDefault seccomp, no escalation, no capabilities.
                assert.strictEqual(pod.securityContext.runAsNonRoot, true);
                assert.strictEqual(pod.securityContext.seccompProfile.type, "RuntimeDefault");
                assert.strictEqual(container.securityContext.allowPrivilegeEscalation, false);
                assert.deepStrictEqual(container.securityContext.capabilities.drop, ["ALL"]);
                const env = Object.fromEntries(container.env.map((e: any) => [e.name, e]));
                assert.deepStrictEqual(env.KEYCLOAK_PASSWORD.valueFrom, { secretKeyRef: { name: "keycloak-admin", key: "password" } });
                assert.deepStrictEqual(env.KEYCLOAK_USER.valueFrom, { secretKeyRef: { name: "keycloak-admin", key: "username" } });
                assert.strictEqual(env.IMPORT_VARSUBSTITUTION_ENABLED.value, "true");
                assert.strictEqual(env.KEYCLOAK_URL.value, `http://keycloak-keycloakx-http.${CHARTS.keycloak.namespace}.svc.cluster.local`);
                assert.ok(!JSON.stringify(job.inputs).includes(SECRET_SENTINEL));
                assert.ok(dependsTransitively(run(), job, release(run(), "keycloakx")));
                assert.ok(job.dependencies.includes(named(run(), "keycloak-realm").urn));
                // Keycloak no longer imports at start: the Job is the one writer of the realm.
                assert.deepStrictEqual(release(run(), "keycloakx").inputs.values.command, ["/opt/keycloak/bin/kc.sh", "start"]);
                // argo-server reads the discovery document at start: it waits for the realm, not only for Keycloak.
                const argo = byType(run(), RELEASE).find((r) => chartOf(r) === "argo-workflows") as RecordedResource;
                assert.ok(dependsTransitively(run(), argo, job));
            });

            it("creates the first platform-admin with a generated password, as a secret output, set once", () => {
                const realm = realmOf(run());
                const admin = realm.users.find((u: any) => u.username === "platform-admin");
                assert.deepStrictEqual(admin.groups, ["platform-admins"]);
                assert.deepStrictEqual(admin.credentials, [
                    { type: "password", userLabel: "initial", value: "$(env:GEOPLATFORM_REALM_ADMIN_PASSWORD)", temporary: false },
                ]);
                const realmEnv = named(run(), "keycloak-realm-env");
                assert.ok("GEOPLATFORM_REALM_ADMIN_PASSWORD" in realmEnv.inputs.stringData);
                assert.strictEqual(run().outputs.adminUsernames.realm, "platform-admin");
                assert.ok(run().secretOutputs.includes("realmAdminPassword"));
                assert.ok(!run().secretOutputs.includes("adminUsernames"), "the user name stays readable");
                assert.ok(!("longhornUiPassword" in run().outputs), "no shared Longhorn password any more");
            });

            it("maps realm groups to Grafana roles (Admin, Editor, none) on the groups claim", () => {
                const oauth = release(run(), "kube-prometheus-stack").inputs.values.grafana["grafana.ini"]["auth.generic_oauth"];
                assert.strictEqual(oauth.role_attribute_strict, true);
                // Grafana evaluates the path with JMESPath over the token's and userinfo's claims.
                const role = (groups: string[]) => jmespath.search({ groups }, oauth.role_attribute_path);
                assert.strictEqual(role(["platform-admins"]), "Admin");
                assert.strictEqual(role(["data-scientists", "platform-admins"]), "Admin");
                assert.strictEqual(role(["data-scientists"]), "Editor");
                assert.strictEqual(role(["someone-else"]), false, "no role: strict mode refuses the login");
                assert.strictEqual(role([]), false);
            });

            it("maps realm groups to MinIO policies of the same name through the groups claim", () => {
                const minio = release(run(), "minio").inputs.values;
                assert.strictEqual(minio.oidc.claimName, "groups");
                const policy = (name: string) => minio.policies.find((p: any) => p.name === name);
                assert.ok(policy("platform-admins").statements.some((s: any) => s.actions.includes("admin:*")));
                const users = policy("data-scientists").statements.flatMap((s: any) => s.resources);
                assert.ok(users.includes("arn:aws:s3:::jupyterhub-notebooks/${jwt:preferred_username}/*") && users.includes("arn:aws:s3:::spark-event-logs/*"));
                assert.ok(!users.includes("arn:aws:s3:::jupyterhub-notebooks/*"), "no bucket-wide read of the users' prefixes");
                assert.ok(!users.some((r: string) => /longhorn-backups|postgres-backups/.test(r)), "users do not touch the backups");
                assert.ok(!policy("data-scientists").statements.some((s: any) => s.effect !== "Deny" && s.actions.some((a: string) => a.startsWith("admin:"))));
                // Not even a service account of their own: it would copy the session's claims with no expiry.
                assert.ok(allows(policy("platform-admins"), "admin:CreateServiceAccount", ""));
                for (const action of ["admin:CreateServiceAccount", "admin:UpdateServiceAccount"]) {
                    assert.ok(
                        policy("data-scientists").statements.some((s: any) => s.effect === "Deny" && s.actions.includes(action)),
                        action,
                    );
                }
                // The realm no longer maps a `policy` user attribute (Keycloak 26's user profile drops undeclared ones).
                for (const c of realmOf(run()).clients) assert.ok(!c.protocolMappers.some((m: any) => m.name === "policy"), c.clientId);
            });

            it("issues notebook users MinIO credentials: the jupyterhub client's token passes MinIO's STS checks and maps to their groups' policies", () => {
                const minio = release(run(), "minio").inputs.values;
                // The one claim-based provider: a claim name and no role policy (the chart renders MINIO_IDENTITY_OPENID_* from these).
                assert.strictEqual(minio.oidc.enabled, true);
                assert.strictEqual(minio.oidc.rolePolicy, undefined);
                const clientId = named(run(), minio.oidc.existingClientSecretName).inputs.stringData[minio.oidc.existingClientIdKey];
                assert.strictEqual(clientId, MINIO_OIDC_CLIENT);
                const provider = { clientId, claimName: minio.oidc.claimName };
                const policies = minio.policies.map((p: any) => p.name);
                const client = (id: string) => realmOf(run()).clients.find((c: any) => c.clientId === id);

                assert.deepStrictEqual(minioSts(accessTokenClaims(client("jupyterhub"), ["data-scientists"]), provider, policies), ["data-scientists"]);
                assert.deepStrictEqual(minioSts(accessTokenClaims(client("jupyterhub"), ["platform-admins"]), provider, policies), ["platform-admins"]);
                assert.strictEqual(
                    minioSts(accessTokenClaims(client("jupyterhub"), ["someone-else"]), provider, policies),
                    "none of the given policies are defined",
                );
                // Clients that have no business with MinIO get nothing for their tokens.
                for (const other of ["grafana", "argo", "oauth2-proxy"]) {
                    if (client(other))
                        assert.strictEqual(minioSts(accessTokenClaims(client(other), ["data-scientists"]), provider, policies), "`azp` claim invalid", other);
                }

                // What the example notebook does with those credentials (apps/example-notebook.ts): read the samples, write its result.
                const users = minio.policies.find((p: any) => p.name === "data-scientists");
                const env = release(run(), "jupyterhub").inputs.values.singleuser.extraEnv;
                assert.ok(allows(users, "s3:ListBucket", `arn:aws:s3:::${env.SAMPLES_BUCKET}`));
                assert.ok(allows(users, "s3:GetObject", `arn:aws:s3:::${env.SAMPLES_BUCKET}/sedona-sample/points.csv`));
                assert.ok(allows(users, "s3:PutObject", `arn:aws:s3:::${env.NOTEBOOKS_BUCKET}/ada/sedona-counts/part-00000.parquet`));
                assert.ok(
                    allows(users, "s3:DeleteObject", `arn:aws:s3:::${env.NOTEBOOKS_BUCKET}/ada/sedona-counts/_SUCCESS`),
                    "overwrite mode deletes the old result",
                );
                assert.ok(!allows(users, "s3:GetObject", "arn:aws:s3:::loki-chunks/fake/chunk"), "not the platform's log bucket");
                // S3A's probes while writing: a HEAD of the bare parent, a listing under the output path.
                const notebooks = `arn:aws:s3:::${env.NOTEBOOKS_BUCKET}`;
                assert.ok(allows(users, "s3:GetObject", `${notebooks}/ada`), "mkdirs HEADs the parent");
                assert.ok(allows(users, "s3:ListBucket", notebooks, undefined, { "s3:prefix": "ada/sedona-counts/" }));
                assert.ok(!allows(users, "s3:ListBucket", notebooks, undefined, { "s3:prefix": "ada" }), "prefix `ada` would list `adam/`");
                assert.ok(!allows(users, "s3:ListBucket", notebooks, undefined, { "s3:prefix": "ad" }));
                assert.ok(!allows(users, "s3:PutObject", `${notebooks}/ada`), "an object named like the user would block the user's own directory");
                // Nobody else's prefix, to write, read or list; not the bucket's root listing either.
                assert.ok(!allows(users, "s3:PutObject", `${notebooks}/grace/sedona-counts/part-00000.parquet`));
                assert.ok(!allows(users, "s3:GetObject", `${notebooks}/grace/sedona-counts/part-00000.parquet`), "not another user's files");
                assert.ok(!allows(users, "s3:GetObject", `${notebooks}/grace`));
                assert.ok(!allows(users, "s3:GetObject", `${notebooks}/adam/x`), "a name that starts like the user's is another user");
                assert.ok(!allows(users, "s3:ListBucket", notebooks, undefined, { "s3:prefix": "grace/" }), "not another user's listing");
                assert.ok(!allows(users, "s3:ListBucket", notebooks, undefined, { "s3:prefix": "" }), "not the users' names");
                assert.ok(!allows(users, "s3:ListBucket", notebooks), "not a listing without a prefix");
                assert.ok(!allows(users, "s3:ListBucketMultipartUploads", notebooks, undefined, { "s3:prefix": "grace/" }));
                assert.ok(allows(users, "s3:GetBucketLocation", notebooks), "the bucket's region, which carries no prefix");
                // The shared app buckets stay readable to every data scientist.
                assert.ok(allows(users, "s3:ListBucket", "arn:aws:s3:::spark-event-logs"));
                assert.ok(!allows(users, "s3:DeleteObject", `arn:aws:s3:::${env.SAMPLES_BUCKET}/sedona-sample/points.csv`));
                assert.ok(!allows(users, "s3:PutObject", "arn:aws:s3:::spark-event-logs/spark-123"));

                // Every notebook's credentials are limited by a session policy, the data-scientists one: MinIO grants the
                // intersection (cmd/sts-handlers.go populateSessionPolicy), so an admin's notebook holds no admin:* either.
                const hook: string = release(run(), "jupyterhub").inputs.values.hub.extraConfig["geoplatform-spawn-hooks"];
                const literal = /^_STS_SESSION_POLICY = (.+)$/m.exec(hook)?.[1];
                assert.ok(literal, "the hook carries a session policy");
                const session = JSON.parse(JSON.parse(literal));
                const sessionPolicy = {
                    statements: session.Statement.map((st: any) => ({
                        effect: st.Effect,
                        actions: st.Action,
                        resources: st.Resource,
                        condition: st.Condition,
                    })),
                };
                // The same statements as the group's policy the chart creates, conditions included.
                for (const request of [{}, { "s3:prefix": "ada/" }, { "s3:prefix": "grace/" }] as Record<string, string>[])
                    for (const [action, arn] of [
                        ["s3:ListBucket", notebooks],
                        ["s3:GetObject", `${notebooks}/grace/x`],
                        ["s3:PutObject", `${notebooks}/ada/x`],
                        ["s3:GetObject", `arn:aws:s3:::${env.SAMPLES_BUCKET}/sedona-sample/points.csv`],
                        ["admin:CreateServiceAccount", ""],
                    ])
                        assert.strictEqual(
                            allows(sessionPolicy, action, arn, undefined, request),
                            allows(users, action, arn, undefined, request),
                            `${action} ${arn} ${JSON.stringify(request)}`,
                        );
                assert.strictEqual(sessionPolicy.statements.length, users.statements.length);
                assert.deepStrictEqual(minioPolicyErrors(session), [], "MinIO parses the session policy (sts-handlers.go populateSessionPolicy)");
                const admins = minio.policies.find((p: any) => p.name === "platform-admins");
                const effective = (action: string, arn: string) => allows(admins, action, arn) && allows(sessionPolicy, action, arn);
                assert.ok(!effective("admin:CreateUser", ""), "an admin's notebook cannot administer MinIO");
                assert.ok(!effective("s3:DeleteObject", `arn:aws:s3:::${env.SAMPLES_BUCKET}/sedona-sample/points.csv`));
                assert.ok(effective("s3:PutObject", `arn:aws:s3:::${env.NOTEBOOKS_BUCKET}/ada/sedona-counts/part-00000.parquet`));
            });

            it("serves the admin console and the master realm only to adminCidrs", () => {
                const values = release(run(), "keycloakx").inputs.values;
                const console = values.ingress.console;
                assert.strictEqual(console.enabled, true);
                assert.deepStrictEqual(
                    console.rules[0].paths.map((p: any) => p.path),
                    ["/admin", "/realms/master"],
                );
                assert.strictEqual(console.rules[0].host, `auth.${domain()}`);
                assert.strictEqual(console.annotations[MIDDLEWARES], `${CHARTS.keycloak.namespace}-keycloak-admin-cidrs@kubernetescrd`);
                // Same Secret and issuer as the realm's Ingress: one Certificate for the host (no console.tls: it inherits ingress.tls).
                assert.strictEqual(console.tls, undefined);
                assert.strictEqual(console.annotations["cert-manager.io/cluster-issuer"], values.ingress.annotations["cert-manager.io/cluster-issuer"]);
                const allow = middleware(run(), "keycloak-admin-cidrs");
                assert.strictEqual(allow.inputs.metadata.namespace, CHARTS.keycloak.namespace);
                assert.deepStrictEqual(allow.inputs.spec.ipAllowList.sourceRange, configOf(stack).adminCidrs);
                // Source address of the connection, never a forwarded header a client can write.
                assert.strictEqual(allow.inputs.spec.ipAllowList.ipStrategy, undefined);
                assert.ok(release(run(), "keycloakx").dependencies.includes(allow.urn));
            });

            it("gives the OIDC host a certificate every OIDC client trusts (Let's Encrypt production), whatever the stack's issuer", () => {
                const issuerHost = `auth.${domain()}`;
                const tlsIssuers = allExposures(run())
                    .filter((e) => e.hosts.includes(issuerHost) && e.annotations["cert-manager.io/cluster-issuer"] !== undefined)
                    .map((e) => e.annotations["cert-manager.io/cluster-issuer"]);
                assert.deepStrictEqual([...new Set(tlsIssuers)], ["letsencrypt-production"]);
                // Every realm URL any consumer is given points at that host.
                const realmUrls = JSON.stringify(run().resources.map((r) => r.inputs)).match(/https:\/\/[a-z0-9.-]+\/realms\/[a-z]+/g) ?? [];
                assert.ok(realmUrls.length >= 5, `${realmUrls.length} realm URLs`);
                for (const url of realmUrls) assert.ok(url.startsWith(`https://${issuerHost}/realms/geoplatform`), url);
            });
        });
    }

    it("reruns the realm reconciliation when an app is enabled later, with that app's client", async () => {
        const before = await runStack("dev", { "geoplatform:apps": { argo: { enabled: false } } });
        const after = runOf("dev");
        assert.ok(!realmOf(before).clients.some((c: any) => c.clientId === "argo"));
        assert.ok(realmOf(after).clients.some((c: any) => c.clientId === "argo"));
        // A new Job name: Pulumi replaces the Job, and the new one runs.
        assert.notStrictEqual(realmJob(before).inputs.metadata.name, realmJob(after).inputs.metadata.name);
        assert.ok("GEOPLATFORM_CLIENT_ARGO_SECRET" in named(after, "keycloak-realm-env").inputs.stringData);
        // The same realm gives the same Job: an unchanged `up` does not rerun it.
        const again = await runStack("dev", { "geoplatform:apps": { argo: { enabled: false } } });
        assert.strictEqual(realmJob(again).inputs.metadata.name, realmJob(before).inputs.metadata.name);
    });

    it("drops the Spark History Server's host from the gate when Spark is off", async () => {
        const run = await runStack("dev", { "geoplatform:apps": { spark: { enabled: false }, openeo: { enabled: false } } });
        const hosts = release(run, "oauth2-proxy").inputs.values.ingress.hosts;
        assert.deepStrictEqual(hosts, [`longhorn.${configOf("dev").domain}`]);
    });
});
