import * as yaml from "js-yaml";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../config/catalog";
import { catalogRelease, tlsAnnotations } from "./release";
import { SYSTEM } from "./placement";
import { k8sSecret, randomSecret } from "./secrets";

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
}

export interface KeycloakArgs {
    namespace: pulumi.Input<string>;
    host: string;
    clusterIssuer: string;
    ingressClass: string;
    clients: OidcClientSpec[];
    database: {
        host: string;
        port: number;
        name: string;
        credentials: (secretName: string, namespace: pulumi.Input<string>, parent: pulumi.Resource) => k8s.core.v1.Secret;
        ready: pulumi.Resource;
    };
}

const envName = (clientId: string) => `GEOPLATFORM_CLIENT_${clientId.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_SECRET`;

/** The realm imported at first start (Keycloak skips the import once the realm exists). */
export function realmJson(clients: OidcClientSpec[]): string {
    return JSON.stringify(
        {
            realm: REALM,
            enabled: true,
            sslRequired: "external",
            registrationAllowed: false,
            groups: Object.values(REALM_GROUPS).map((name) => ({ name })),
            clients: clients.map((c) => ({
                clientId: c.clientId,
                enabled: true,
                protocol: "openid-connect",
                publicClient: c.publicClient ?? false,
                standardFlowEnabled: true,
                directAccessGrantsEnabled: false,
                // Keycloak substitutes ${ENV} placeholders at import: no secret in this file.
                ...(c.publicClient ? {} : { secret: `\${${envName(c.clientId)}}` }),
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
                    {
                        // MinIO's console reads its policy from this claim; other clients ignore it.
                        name: "policy",
                        protocol: "openid-connect",
                        protocolMapper: "oidc-usermodel-attribute-mapper",
                        config: {
                            "user.attribute": "policy",
                            "claim.name": "policy",
                            "jsonType.label": "String",
                            "id.token.claim": "true",
                            "access.token.claim": "true",
                            "userinfo.token.claim": "true",
                        },
                    },
                ],
            })),
        },
        null,
        2,
    );
}

/**
 * Keycloak (keycloakx chart) on the shared PostgreSQL, with the `geoplatform`
 * realm and one OIDC client per UI. Client secrets are random: Keycloak gets
 * them as environment variables from a Secret, each consumer as a Secret in
 * its own namespace.
 */
export class Keycloak extends pulumi.ComponentResource {
    readonly issuerUrl: string;
    readonly release: k8s.helm.v3.Release;
    /** The master realm's bootstrap administrator (KC_BOOTSTRAP_ADMIN_USERNAME). */
    readonly adminUsername = "admin";
    readonly adminPassword: pulumi.Output<string>;
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
        const clientEnv = k8sSecret(
            "keycloak-client-secrets",
            { namespace, data: Object.fromEntries(args.clients.map((c) => [envName(c.clientId), secrets[c.clientId]])) },
            { parent: this },
        );
        const realm = new k8s.core.v1.ConfigMap(
            "keycloak-realm",
            { metadata: { name: "keycloak-realm", namespace }, data: { [`${REALM}-realm.json`]: realmJson(args.clients) } },
            { parent: this },
        );

        const fromSecret = (env: string, secret: string, key: string) => ({ name: env, valueFrom: { secretKeyRef: { name: secret, key } } });
        const env = [
            fromSecret("KC_BOOTSTRAP_ADMIN_USERNAME", "keycloak-admin", "username"),
            fromSecret("KC_BOOTSTRAP_ADMIN_PASSWORD", "keycloak-admin", "password"),
            { name: "KC_HOSTNAME", value: `https://${args.host}` },
            ...args.clients.map((c) => fromSecret(envName(c.clientId), "keycloak-client-secrets", envName(c.clientId))),
        ];

        this.release = catalogRelease(
            "keycloak",
            CHARTS.keycloak,
            namespace,
            {
                command: ["/opt/keycloak/bin/kc.sh", "start", "--import-realm"],
                http: { relativePath: "/" },
                // The chart sets KC_PROXY_HEADERS, KC_HTTP_ENABLED and KC_HEALTH_ENABLED from these (templates/statefulset.yaml).
                // Traefik sends X-Forwarded-* headers, not RFC 7239 Forwarded (the chart's default mode); TLS ends at Traefik.
                proxy: { enabled: true, mode: "xforwarded", http: { enabled: true } },
                health: { enabled: true },
                // keycloakx takes these as YAML strings (templated by the chart).
                extraEnv: yaml.dump(env),
                extraVolumes: yaml.dump([{ name: "realm", configMap: { name: "keycloak-realm" } }]),
                extraVolumeMounts: yaml.dump([{ name: "realm", mountPath: "/opt/keycloak/data/import", readOnly: true }]),
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
                },
            },
            { parent: this, dependsOn: [admin, db, clientEnv, realm, args.database.ready] },
        );
        this.registerOutputs({ issuerUrl: this.issuerUrl });
    }
}
