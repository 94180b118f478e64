import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../../config/catalog";
import { GROUPS_CLAIM, REALM_GROUPS } from "../keycloak";
import { SYSTEM } from "../placement";
import { catalogRelease, tlsAnnotations } from "../release";
import { k8sSecret, randomSecret, secretEnv } from "../secrets";

/** Traefik Middleware that lets in any member of a realm group (the shared contract: Ingresses reference `<ns>-oauth2-proxy@kubernetescrd`). */
export const SSO_MIDDLEWARE = "oauth2-proxy";
/** Same, for platform-admins only (named to end in `-oauth2-proxy`, which the ingress-authentication policy accepts). */
export const ADMIN_SSO_MIDDLEWARE = "admins-oauth2-proxy";
/** The realm client of oauth2-proxy. */
export const OAUTH2_PROXY_CLIENT = "oauth2-proxy";
/** oauth2-proxy's own routes (sign-in, callback) on every protected host; the default --proxy-prefix is /oauth2. */
export const OAUTH2_PREFIX = "/oauth2/";

const NAMESPACE = CHARTS.oauth2Proxy.namespace;
/** Release name = chart name, so the chart's fullname (and Service) is `oauth2-proxy`. */
const SERVICE = `http://oauth2-proxy.${NAMESPACE}.svc.cluster.local`;
const COOKIE_SECRET = "oauth2-proxy-cookie";

/** The router.middlewares annotation value for a Middleware of this namespace (Traefik's `<namespace>-<name>@kubernetescrd`). */
export const middlewareRef = (name: string) => `${NAMESPACE}-${name}@kubernetescrd`;

/** The Keycloak redirect URI of each protected host (oauth2-proxy derives it from X-Forwarded-Host when --redirect-url is unset). */
export const callbackUris = (hosts: string[]) => hosts.map((h) => `https://${h}${OAUTH2_PREFIX}callback`);

export interface SsoGateArgs {
    namespace: pulumi.Input<string>;
    issuerUrl: string;
    ingressClass: string;
    /** The stack's issuer, for the certificate of the gate's own routes (the gated hosts' names). */
    clusterIssuer: string;
    /** Every host whose Ingress uses one of the middlewares: each gets oauth2-proxy's /oauth2/ routes and is a valid post-login redirect. */
    hosts: string[];
    /** The realm client's Secret in this namespace (client-id, client-secret). */
    client: { secretName: string; secret: pulumi.Resource };
    /** Traefik's release, which installs the Middleware CRD. */
    ingressRelease: pulumi.Resource;
    /** oauth2-proxy reads the realm's discovery document at start and exits without it: the reconciled realm. */
    realmReady: pulumi.Resource;
}

/**
 * oauth2-proxy as Traefik forward auth (oauth2-proxy docs, configuration/integrations/traefik, "static upstream"):
 * Traefik's forwardAuth sends every request's headers to oauth2-proxy's `/`, whose upstream is a static 202.
 * Without a session oauth2-proxy answers 302 to Keycloak (--skip-provider-button), which Traefik passes to the
 * browser; with one, 202 and the X-Auth-Request-* headers, or 403 when `allowed_groups` (query) does not match
 * (oauthproxy.go Proxy and authOnlyAuthorize, v7.15.3). Cookies are host-only: the callback comes back to the
 * protected host's /oauth2/, routed to oauth2-proxy by its own Ingress.
 */
export class SsoGate extends pulumi.ComponentResource {
    readonly middleware = middlewareRef(SSO_MIDDLEWARE);
    readonly adminMiddleware = middlewareRef(ADMIN_SSO_MIDDLEWARE);
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: SsoGateArgs, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:SsoGate", name, {}, opts);
        const namespace = args.namespace;
        // 32 ASCII characters: oauth2-proxy takes a 16/24/32-byte secret as is (validation/cookie.go).
        const cookie = k8sSecret(
            COOKIE_SECRET,
            { namespace, data: { "cookie-secret": randomSecret("oauth2-proxy-cookie", this, 32).value } },
            { parent: this },
        );

        this.release = catalogRelease(
            "oauth2-proxy",
            CHARTS.oauth2Proxy,
            namespace,
            {
                config: {
                    existingSecret: args.client.secretName,
                    // The cookie secret comes from its own Secret (extraEnv), the client's from the realm's.
                    requiredSecretKeys: ["client-id", "client-secret"],
                    cookieName: "_geoplatform_sso",
                    emailDomains: ["*"],
                    upstreams: ["static://202"],
                },
                extraEnv: [secretEnv("OAUTH2_PROXY_COOKIE_SECRET", COOKIE_SECRET, "cookie-secret")],
                // Rendered as --key=value (templates/deployment.yaml); list flags take comma-separated values (pflag StringSlice).
                extraArgs: {
                    provider: "oidc",
                    "oidc-issuer-url": args.issuerUrl,
                    "oidc-groups-claim": GROUPS_CLAIM,
                    scope: "openid profile email",
                    "code-challenge-method": "S256",
                    // A realm account in neither group gets nothing behind the gate.
                    "allowed-group": Object.values(REALM_GROUPS).join(","),
                    // X-Forwarded-Host/-Uri (set by Traefik's forwardAuth) give the redirect back and the callback host.
                    "reverse-proxy": "true",
                    "skip-provider-button": "true",
                    // The forwardAuth check of oauth2-proxy's own routes (callback, sign-in): the path comes from X-Forwarded-Uri.
                    "skip-auth-route": `^${OAUTH2_PREFIX}`,
                    "whitelist-domain": args.hosts.join(","),
                    "set-xauthrequest": "true",
                    "cookie-secure": "true",
                    "cookie-samesite": "lax",
                    "cookie-expire": "12h",
                },
                nodeSelector: SYSTEM,
                resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                ingress: {
                    enabled: true,
                    className: args.ingressClass,
                    path: OAUTH2_PREFIX,
                    pathType: "Prefix",
                    hosts: args.hosts,
                    // The check lets /oauth2/ through (--skip-auth-route) and keeps every route of these hosts behind the same gate.
                    annotations: { ...tlsAnnotations(args.clusterIssuer), "traefik.ingress.kubernetes.io/router.middlewares": this.middleware },
                    // One certificate for all gated hosts: not a duplicate of any host's own (Let's Encrypt counts duplicates by the exact name set).
                    tls: [{ hosts: args.hosts, secretName: "oauth2-proxy-tls" }],
                },
            },
            { parent: this, dependsOn: [cookie, args.client.secret, args.realmReady] },
        );

        const forwardAuth = (middleware: string, query: string) =>
            new k8s.apiextensions.CustomResource(
                middleware,
                {
                    apiVersion: "traefik.io/v1alpha1",
                    kind: "Middleware",
                    metadata: { name: middleware, namespace },
                    spec: {
                        forwardAuth: {
                            address: `${SERVICE}/${query}`,
                            // Traefik replaces any client-sent X-Forwarded-* with the request's own (pkg/middlewares/auth/forward.go writeHeader).
                            trustForwardHeader: false,
                            // Stripped from the client's request and set from oauth2-proxy's answer: a client cannot claim an identity.
                            authResponseHeaders: ["X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Preferred-Username", "X-Auth-Request-Groups"],
                        },
                    },
                },
                { parent: this, dependsOn: [args.ingressRelease] },
            );
        forwardAuth(SSO_MIDDLEWARE, "");
        forwardAuth(ADMIN_SSO_MIDDLEWARE, `?allowed_groups=${REALM_GROUPS.admins}`);
        this.registerOutputs({ middleware: this.middleware, adminMiddleware: this.adminMiddleware });
    }
}
