import * as yaml from "js-yaml";
import * as k8s from "./kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../config/catalog";
import { catalogRelease, tlsAnnotations } from "./release";
import { SYSTEM } from "./placement";
import { k8sSecret, randomSecret, secretEnv } from "./secrets";
import { RealmSync } from "./auth/realm-sync";

export const REALM = "geoplatform";

/**
 * Realm groups, the one vocabulary of authorization across the platform: apps map them to their roles
 * (Grafana roles, JupyterHub admins and allowed users, Argo service accounts, MinIO policies).
 */
export const REALM_GROUPS = { admins: "platform-admins", users: "data-scientists" } as const;

/** Token claim listing the user's realm groups by plain name (no leading "/"), in ID, access and userinfo tokens. */
export const GROUPS_CLAIM = "groups";

/** An OIDC client of the realm. Its secret is random; the realm file only holds a placeholder for it. */
export interface OidcClientSpec {
    clientId: string;
    redirectUris: string[];
    /** Namespace and Secret name where the consumer reads client-id/client-secret. */
    namespace: pulumi.Input<string>;
    secretName: string;
    /** A public client (no secret; e.g. a CLI or notebook that logs in with the device flow). Default false. */
    publicClient?: boolean;
    /** OAuth 2.0 Device Authorization Grant (RFC 8628), for clients without a browser redirect. Default false. */
    deviceAuthorizationGrant?: boolean;
    /**
     * Client ids of resource servers this client's access tokens are meant for too: added to the access token's `aud`
     * (Keycloak's oidc-audience-mapper), for a server that accepts only tokens naming its own client id there.
     */
    audiences?: string[];
}

/** The realm's first administrator, a member of platform-admins; its password is generated and set only when the user is created. */
export const REALM_ADMIN = "platform-admin";

export interface KeycloakArgs {
    namespace: pulumi.Input<string>;
    host: string;
    /** The auth host's issuer: always one whose certificates every OIDC client trusts (Let's Encrypt production, also in dev). */
    clusterIssuer: string;
    ingressClass: string;
    /** Traefik's release, which installs the Middleware CRD. */
    ingressRelease: pulumi.Resource;
    /** Sources allowed to reach the admin console and the master realm. */
    adminCidrs: string[];
    /** The realm administrator's email (Keycloak 26's user profile asks for one). */
    adminEmail: string;
    clients: OidcClientSpec[];
    database: {
        host: string;
        port: number;
        name: string;
        credentials: (secretName: string, namespace: pulumi.Input<string>, parent: pulumi.Resource) => k8s.core.v1.Secret;
        ready: pulumi.Resource;
    };
}

export const envName = (clientId: string) => `GEOPLATFORM_CLIENT_${clientId.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_SECRET`;
export const REALM_ADMIN_PASSWORD_ENV = "GEOPLATFORM_REALM_ADMIN_PASSWORD";
/** keycloak-config-cli's substitution syntax (import.var-substitution, prefix `$(`, suffix `)`). */
const fromEnv = (name: string) => `$(env:${name})`;

/**
 * The realm as keycloak-config-cli applies it on every `up` (platform/auth/realm-sync.ts): no secret in it, only
 * `$(env:...)` placeholders the Job fills from Secrets.
 */
export function realmJson(clients: OidcClientSpec[], adminEmail: string): string {
    return JSON.stringify(
        {
            realm: REALM,
            enabled: true,
            sslRequired: "external",
            registrationAllowed: false,
            groups: Object.values(REALM_GROUPS).map((name) => ({ name })),
            users: [
                {
                    username: REALM_ADMIN,
                    enabled: true,
                    email: adminEmail,
                    emailVerified: true,
                    firstName: "Platform",
                    lastName: "Administrator",
                    groups: [REALM_GROUPS.admins],
                    // userLabel "initial": keycloak-config-cli sets it at creation only, never over a password changed since
                    // (adorsys/keycloak-config-cli v6.5.0 UserImportService USER_LABEL_FOR_INITIAL_CREDENTIAL).
                    credentials: [{ type: "password", userLabel: "initial", value: fromEnv(REALM_ADMIN_PASSWORD_ENV), temporary: false }],
                },
            ],
            clients: clients.map((c) => ({
                clientId: c.clientId,
                enabled: true,
                protocol: "openid-connect",
                publicClient: c.publicClient ?? false,
                standardFlowEnabled: true,
                directAccessGrantsEnabled: false,
                ...(c.publicClient ? {} : { secret: fromEnv(envName(c.clientId)) }),
                ...(c.deviceAuthorizationGrant ? { attributes: { "oauth2.device.authorization.grant.enabled": "true" } } : {}),
                redirectUris: c.redirectUris,
                webOrigins: ["+"],
                protocolMappers: [
                    {
                        name: GROUPS_CLAIM,
                        protocol: "openid-connect",
                        protocolMapper: "oidc-group-membership-mapper",
                        config: {
                            "full.path": "false",
                            "claim.name": GROUPS_CLAIM,
                            "id.token.claim": "true",
                            "access.token.claim": "true",
                            "userinfo.token.claim": "true",
                        },
                    },
                    // AudienceProtocolMapper (keycloak/keycloak services/.../oidc/mappers/AudienceProtocolMapper.java) adds
                    // `included.client.audience` to `aud`; access token only, the ID token stays the client's own.
                    ...(c.audiences ?? []).map((audience) => ({
                        name: `audience-${audience}`,
                        protocol: "openid-connect",
                        protocolMapper: "oidc-audience-mapper",
                        config: { "included.client.audience": audience, "id.token.claim": "false", "access.token.claim": "true" },
                    })),
                ],
            })),
        },
        null,
        2,
    );
}

/** Traefik ipAllowList Middleware in front of the admin console and the master realm. */
export const ADMIN_ALLOWLIST_MIDDLEWARE = "keycloak-admin-cidrs";
/** Paths of the admin console (and its REST API) and of the master realm, where the bootstrap administrator logs in. */
export const ADMIN_PATHS = ["/admin", "/realms/master"];

/**
 * Keycloak (keycloakx chart) on the shared PostgreSQL, with the `geoplatform`
 * realm reconciled by keycloak-config-cli on every change. Client secrets are
 * random: the reconciling Job gets them from a Secret, each consumer as a
 * Secret in its own namespace. The admin console and the master realm answer
 * only `adminCidrs`.
 */
export class Keycloak extends pulumi.ComponentResource {
    readonly issuerUrl: string;
    readonly release: k8s.helm.v3.Release;
    /** The realm exists and matches the program once this has completed (what an app that reads the issuer at start waits for). */
    readonly realmReady: pulumi.Resource;
    /** The master realm's bootstrap administrator (KC_BOOTSTRAP_ADMIN_USERNAME). */
    readonly adminUsername = "admin";
    readonly adminPassword: pulumi.Output<string>;
    /** The geoplatform realm's first administrator (member of platform-admins). */
    readonly realmAdminUsername = REALM_ADMIN;
    readonly realmAdminPassword: pulumi.Output<string>;
    /** Per client id, the consumer's Secret (consumers depend on it). */
    readonly clientSecrets: Record<string, k8s.core.v1.Secret> = {};

    constructor(name: string, args: KeycloakArgs, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:Keycloak", name, {}, opts);
        const namespace = args.namespace;
        this.issuerUrl = `https://${args.host}/realms/${REALM}`;

        this.adminPassword = randomSecret("keycloak-admin", this).value;
        const admin = k8sSecret("keycloak-admin", { namespace, data: { username: this.adminUsername, password: this.adminPassword } }, { parent: this });
        const db = args.database.credentials("keycloak-db", namespace, this);

        const secrets: Record<string, pulumi.Output<string>> = {};
        for (const client of args.clients) {
            secrets[client.clientId] = randomSecret(`oidc-${client.clientId}`, this, 40).value;
            this.clientSecrets[client.clientId] = k8sSecret(
                client.secretName,
                { namespace: client.namespace, data: { "client-id": client.clientId, "client-secret": secrets[client.clientId] } },
                { parent: this },
            );
        }
        this.realmAdminPassword = randomSecret("keycloak-realm-admin", this).value;
        // Every value the realm file's placeholders name, and nothing else: the reconciling Job's environment.
        const realmEnv = k8sSecret(
            "keycloak-realm-env",
            {
                namespace,
                data: {
                    ...Object.fromEntries(args.clients.map((c) => [envName(c.clientId), secrets[c.clientId]])),
                    [REALM_ADMIN_PASSWORD_ENV]: this.realmAdminPassword,
                },
            },
            { parent: this },
        );

        const env = [
            secretEnv("KC_BOOTSTRAP_ADMIN_USERNAME", "keycloak-admin", "username"),
            secretEnv("KC_BOOTSTRAP_ADMIN_PASSWORD", "keycloak-admin", "password"),
            { name: "KC_HOSTNAME", value: `https://${args.host}` },
        ];
        const allowlist = new k8s.apiextensions.CustomResource(
            ADMIN_ALLOWLIST_MIDDLEWARE,
            {
                apiVersion: "traefik.io/v1alpha1",
                kind: "Middleware",
                metadata: { name: ADMIN_ALLOWLIST_MIDDLEWARE, namespace },
                // No ipStrategy: Traefik matches the connection's source address, which a client cannot forge with X-Forwarded-For.
                spec: { ipAllowList: { sourceRange: args.adminCidrs } },
            },
            { parent: this, dependsOn: [args.ingressRelease] },
        );

        this.release = catalogRelease(
            "keycloak",
            CHARTS.keycloak,
            namespace,
            {
                command: ["/opt/keycloak/bin/kc.sh", "start"],
                http: { relativePath: "/" },
                // The chart sets KC_PROXY_HEADERS, KC_HTTP_ENABLED and KC_HEALTH_ENABLED from these (templates/statefulset.yaml).
                // Traefik sends X-Forwarded-* headers, not RFC 7239 Forwarded (the chart's default mode); TLS ends at Traefik.
                proxy: { enabled: true, mode: "xforwarded", http: { enabled: true } },
                health: { enabled: true },
                // keycloakx takes these as YAML strings (templated by the chart).
                extraEnv: yaml.dump(env),
                database: {
                    vendor: "postgres",
                    hostname: args.database.host,
                    port: args.database.port,
                    database: args.database.name,
                    username: args.database.name,
                    existingSecret: "keycloak-db",
                    existingSecretKey: "password",
                },
                nodeSelector: SYSTEM,
                resources: { requests: { cpu: "250m", memory: "768Mi" }, limits: { memory: "1536Mi" } },
                ingress: {
                    enabled: true,
                    ingressClassName: args.ingressClass,
                    annotations: tlsAnnotations(args.clusterIssuer),
                    rules: [{ host: args.host, paths: [{ path: "/", pathType: "Prefix" }] }],
                    tls: [{ hosts: [args.host], secretName: "keycloak-tls" }],
                    // A second Ingress (templates/ingress.yaml `-console`) for the admin paths, same host, same TLS Secret (it
                    // inherits ingress.tls). Same issuer too: cert-manager's ingress-shim lets the first Ingress own the one
                    // Certificate and skips the other (pkg/controller/certificate-shim/sync.go); both live in this release.
                    // Traefik prefers the longer rule.
                    console: {
                        enabled: true,
                        ingressClassName: args.ingressClass,
                        annotations: {
                            ...tlsAnnotations(args.clusterIssuer),
                            "traefik.ingress.kubernetes.io/router.middlewares": `${CHARTS.keycloak.namespace}-${ADMIN_ALLOWLIST_MIDDLEWARE}@kubernetescrd`,
                        },
                        rules: [{ host: args.host, paths: ADMIN_PATHS.map((path) => ({ path, pathType: "Prefix" })) }],
                    },
                },
            },
            { parent: this, dependsOn: [admin, db, allowlist, args.database.ready] },
        );

        const sync = new RealmSync(
            "realm-sync",
            {
                namespace,
                realmFile: realmJson(args.clients, args.adminEmail),
                keycloakUrl: `http://keycloak-keycloakx-http.${CHARTS.keycloak.namespace}.svc.cluster.local`,
                adminSecret: "keycloak-admin",
                envSecrets: ["keycloak-realm-env"],
                dependsOn: [this.release, admin, realmEnv],
            },
            { parent: this },
        );
        this.realmReady = sync.job;
        this.registerOutputs({ issuerUrl: this.issuerUrl });
    }
}
