import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../config/catalog";
import { prometheusReplicas } from "../config/storage";
import { AppName, GeoplatformConfig } from "../config/types";
import { ADMIN_SSO_MIDDLEWARE, callbackUris, middlewareRef, OAUTH2_PROXY_CLIENT, SsoGate } from "./auth/oauth2-proxy";
import { BackupStore } from "../infra/types";
import { LonghornBackupJobs } from "./backup/longhorn-jobs";
import { LonghornRestore } from "./backup/longhorn-restore";
import { MinioMirror } from "./backup/minio-mirror";
import { CertManager } from "./cert-manager";
import { Ingress } from "./ingress";
import { K3sCluster } from "./k3s/types";
import { Keycloak, OidcClientSpec } from "./keycloak";
import { Longhorn } from "./longhorn";
import { Monitoring } from "./monitoring";
import { APP_NAMESPACES, Namespaces, POSTGRES_NAMESPACE, PROCESSING_APPS, PROCESSING_NAMESPACE } from "./namespaces";
import { NetworkPolicies, platformModel } from "./network";
import { MINIO_OIDC_CLIENT, ObjectStorage, S3User } from "./object-storage";
import { AlertReceivers, AlertRules, Dashboards, LOKI_BUCKET, LOKI_S3_SECRET, LOKI_S3_USER, Logs, Monitors } from "./observability";
import { Postgres } from "./postgres";
import { SpotTermination, spotGroups } from "./spot";
import { AppBinding, Platform } from "./types";

export { Platform } from "./types";

/**
 * What each app gets from the platform: its buckets by purpose, a database
 * (with the extensions it needs), an OIDC client. `issuerAtStart`: the app's
 * server reads the OIDC discovery document when it starts and exits if it
 * cannot, so it waits for Keycloak; the others only need their client Secret.
 */
const APP_NEEDS: Record<
    AppName,
    {
        buckets: Record<string, string>;
        database: boolean;
        extensions?: string[];
        oidc?: {
            host: string;
            callbackPath: string;
            issuerAtStart?: boolean;
            publicClient?: boolean;
            deviceAuthorizationGrant?: boolean;
            audiences?: string[];
        };
        /** The app lists all buckets before it uses its own (S3User.listAllBuckets). */
        listAllBuckets?: boolean;
        /** First DNS labels of the app's UIs without a login of their own: served behind the SSO gate (platform.sso). */
        sso?: string[];
    }
> = {
    // audiences: the hub trades its users' access tokens for MinIO STS credentials (apps/jupyterhub-sts.ts), which MinIO
    // grants only to tokens carrying its client id (platform/object-storage.ts MINIO_OIDC_CLIENT).
    jupyterhub: {
        buckets: { notebooks: "jupyterhub-notebooks" },
        database: true,
        oidc: { host: "jupyter", callbackPath: "/hub/oauth_callback", audiences: [MINIO_OIDC_CLIENT] },
    },
    // samples: the example data a seed Job uploads; results: what the example job writes (never the event-log bucket).
    spark: { buckets: { eventLogs: "spark-event-logs", samples: "spark-samples", results: "spark-results" }, database: false, sso: ["spark-history"] },
    // Users log in from the openEO Python client (device flow), which holds no secret: a public client.
    openeo: {
        buckets: { results: "openeo-results" },
        database: false,
        oidc: { host: "openeo", callbackPath: "/", publicClient: true, deviceAuthorizationGrant: true },
        // Before each batch job the driver lists all buckets to see that its own exists (openeo-geopyspark-driver backend.py).
        listAllBuckets: true,
    },
    // Geocube's schema needs these; PostGIS only a superuser may create, so the operator does, for all three.
    geocube: { buckets: { sources: "geocube-sources" }, database: true, extensions: ["postgis", "hstore", "btree_gist"] },
    argo: { buckets: { artifacts: "argo-artifacts" }, database: true, oidc: { host: "argo", callbackPath: "/oauth2/callback", issuerAtStart: true } },
};

/** MinIO's user that the backup mirror reads every bucket with. */
const MIRROR_USER = "backup-mirror";

export const platformHosts = (domain: string) => ({
    keycloak: `auth.${domain}`,
    grafana: `grafana.${domain}`,
    longhorn: `longhorn.${domain}`,
    minioConsole: `minio.${domain}`,
});

export interface PlatformArgs {
    config: GeoplatformConfig;
    cluster: K3sCluster;
    /** Public address written into Ingress status (an ingress node's). */
    ingressIp: pulumi.Input<string>;
    /** The stack's backup bucket, outside the cluster (infra layer): every backup goes there. */
    backup: BackupStore;
}

/**
 * The shared services every workload needs, on the `system` nodes: ingress,
 * certificates, storage, object storage, PostgreSQL, Keycloak SSO and
 * monitoring, plus each enabled app's namespace and Secrets.
 */
export class PlatformLayer extends pulumi.ComponentResource {
    readonly platform: Platform;
    /** Every platform UI, by service. */
    readonly urls: Record<string, string>;
    /** The login name of each UI's built-in administrator. */
    readonly adminUsernames: Record<string, string>;
    /** The built-in administrators' passwords, as Pulumi secrets. */
    readonly secretOutputs: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:Platform", name, {}, { ...opts, providers: { kubernetes: args.cluster.provider } });
        const { config } = args;
        const apps = config.enabledApps;
        const hosts = platformHosts(config.domain);
        // Everything waits for the cluster being Ready; the namespaces carry that to every component.
        const namespaces = new Namespaces("namespaces", { apps, after: args.cluster.ready }, { parent: this });
        const ns = (namespace: string) => namespaces.ns(namespace);
        const child = { parent: this };
        // Default-deny in every namespace created above, plus the flows each component needs (platform/network/flows.ts).
        const nodeCidr = config.openstack?.networkCidr ?? config.aws?.vpcCidr;
        if (!nodeCidr) throw new Error(`cloud ${config.cloud} has no network CIDR: validation should have refused the stack`);
        const network = platformModel({ namespaces: Object.keys(namespaces.byName), apps, nodeCidr });
        new NetworkPolicies("network-policies", { model: network, ns }, child);

        const ingress = new Ingress("ingress", { namespace: ns(CHARTS.traefik.namespace), publicIp: args.ingressIp }, child);
        const certManager = new CertManager(
            "cert-manager",
            {
                namespace: ns(CHARTS.certManager.namespace),
                acmeEmail: config.acmeEmail,
                environment: config.platform.letsEncrypt,
                ingressClass: ingress.ingressClass,
            },
            child,
        );
        const tls = { clusterIssuer: certManager.clusterIssuer, ingressClass: ingress.ingressClass };

        const appUsers: S3User[] = apps.map((app) => ({
            name: app,
            buckets: Object.values(APP_NEEDS[app].buckets),
            listAllBuckets: APP_NEEDS[app].listAllBuckets,
        }));
        const mirrored = appUsers.flatMap((u) => u.buckets);
        const s3Users: S3User[] = [
            { name: LOKI_S3_USER, buckets: [LOKI_BUCKET] },
            ...appUsers,
            ...(mirrored.length > 0 ? [{ name: MIRROR_USER, buckets: mirrored, readOnly: true }] : []),
        ];
        // Every host behind the SSO gate: each gets oauth2-proxy's /oauth2/ routes and a redirect URI in its client.
        const gatedHosts = [hosts.longhorn, ...apps.flatMap((app) => APP_NEEDS[app].sso ?? []).map((label) => `${label}.${config.domain}`)];
        const oidcClients: OidcClientSpec[] = [
            {
                clientId: OAUTH2_PROXY_CLIENT,
                redirectUris: callbackUris(gatedHosts),
                namespace: ns(CHARTS.oauth2Proxy.namespace),
                secretName: "oauth2-proxy-oidc",
            },
            {
                clientId: "grafana",
                redirectUris: [`https://${hosts.grafana}/login/generic_oauth`],
                namespace: ns(CHARTS.monitoring.namespace),
                secretName: "grafana-oidc",
            },
            {
                clientId: MINIO_OIDC_CLIENT,
                redirectUris: [`https://${hosts.minioConsole}/oauth_callback`],
                namespace: ns(CHARTS.minio.namespace),
                secretName: "minio-oidc",
            },
            ...apps.flatMap((app) => {
                const oidc = APP_NEEDS[app].oidc;
                return oidc
                    ? [
                          {
                              clientId: app,
                              redirectUris: [`https://${oidc.host}.${config.domain}${oidc.callbackPath}`],
                              namespace: ns(APP_NAMESPACES[app]),
                              secretName: `${app}-oidc`,
                              publicClient: oidc.publicClient,
                              deviceAuthorizationGrant: oidc.deviceAuthorizationGrant,
                              audiences: oidc.audiences,
                          },
                      ]
                    : [];
            }),
        ];
        const issuerUrl = `https://${hosts.keycloak}/realms/geoplatform`;

        const longhorn = new Longhorn(
            "longhorn",
            {
                namespace: ns(CHARTS.longhorn.namespace),
                replicas: config.platform.longhornReplicas,
                host: hosts.longhorn,
                // Storage administration: platform-admins only.
                ssoMiddleware: middlewareRef(ADMIN_SSO_MIDDLEWARE),
                backup: args.backup,
                ...tls,
            },
            child,
        );
        new LonghornBackupJobs("longhorn-backup-jobs", { namespace: ns(CHARTS.longhorn.namespace), settings: config.backup, release: longhorn.release }, child);
        // geoplatform:restore.longhorn: the claims exist, bound to the restored volumes, before any workload asks for them.
        const storageReady: pulumi.Resource = config.restore?.longhorn
            ? new LonghornRestore(
                  "longhorn-restore",
                  {
                      namespace: ns(CHARTS.longhorn.namespace),
                      restore: config.restore,
                      store: args.backup,
                      replicas: config.platform.longhornReplicas,
                      release: longhorn.release,
                      ns: (namespace) => (namespaces.byName[namespace] ? ns(namespace) : namespace),
                  },
                  child,
              )
            : longhorn.release;

        const storage = new ObjectStorage(
            "object-storage",
            {
                namespace: ns(CHARTS.minio.namespace),
                users: s3Users,
                storageGb: config.platform.objectStorage.storageGb,
                storageClass: "longhorn",
                storageReady,
                consoleHost: hosts.minioConsole,
                oidc: { issuerUrl, secretName: "minio-oidc" },
                userPrefixBuckets: apps.includes("jupyterhub") ? [APP_NEEDS.jupyterhub.buckets.notebooks] : [],
                ...tls,
            },
            child,
        );
        if (mirrored.length > 0) {
            new MinioMirror(
                "minio-mirror",
                {
                    namespace: ns(CHARTS.minio.namespace),
                    source: { endpoint: storage.endpoint, user: MIRROR_USER, secretKey: storage.secretKey(MIRROR_USER) },
                    buckets: mirrored,
                    store: args.backup,
                    schedule: config.backup.minioMirrorCron,
                    ready: [storage.release],
                },
                child,
            );
        }

        const databases = ["keycloak", ...apps.filter((app) => APP_NEEDS[app].database)];
        const postgres = new Postgres(
            "postgres",
            {
                operatorNamespace: ns(CHARTS.cloudnativePg.namespace),
                namespace: ns(POSTGRES_NAMESPACE),
                settings: config.platform.postgres,
                databases,
                extensions: Object.fromEntries(apps.map((app) => [app, APP_NEEDS[app].extensions ?? []])),
                storageClass: longhorn.storageClass,
                storageReady,
                backup: { store: args.backup, settings: config.backup, restore: config.restore, certManager: certManager.release },
            },
            child,
        );

        const keycloak = new Keycloak(
            "keycloak",
            {
                namespace: ns(CHARTS.keycloak.namespace),
                host: hosts.keycloak,
                ingressRelease: ingress.release,
                adminCidrs: config.adminCidrs,
                adminEmail: config.acmeEmail,
                clients: oidcClients,
                database: {
                    host: postgres.host,
                    port: postgres.port,
                    name: "keycloak",
                    credentials: (secretName, namespace, parent) => postgres.credentials(secretName, namespace, "keycloak", parent),
                    ready: postgres.databases.keycloak,
                },
                ...tls,
                clusterIssuer: certManager.oidcIssuer,
            },
            child,
        );
        const ssoGate = new SsoGate(
            "sso-gate",
            {
                namespace: ns(CHARTS.oauth2Proxy.namespace),
                issuerUrl,
                ...tls,
                hosts: gatedHosts,
                client: { secretName: "oauth2-proxy-oidc", secret: keycloak.clientSecrets[OAUTH2_PROXY_CLIENT] },
                ingressRelease: ingress.release,
                realmReady: keycloak.realmReady,
            },
            child,
        );

        const receivers = new AlertReceivers("alert-receivers", { namespace: ns(CHARTS.monitoring.namespace), alerting: config.platform.alerting }, child);
        const monitoring = new Monitoring(
            "monitoring",
            {
                namespace: ns(CHARTS.monitoring.namespace),
                settings: config.platform.prometheus,
                alerting: config.platform.alerting,
                receivers: receivers.secret,
                alertmanagerReplicas: Math.min(config.nodeGroups.system.count, 3),
                prometheusReplicas: prometheusReplicas(config),
                storageClass: longhorn.storageClass,
                storageReady,
                host: hosts.grafana,
                oidc: { secretName: "grafana-oidc", secret: keycloak.clientSecrets.grafana, issuerUrl },
                ...tls,
            },
            child,
        );

        // Logs, alert rules, monitors and dashboards: their custom resources need kube-prometheus-stack's CRDs.
        const observed = { monitoringReady: monitoring.release };
        new Logs(
            "logs",
            {
                namespace: ns(CHARTS.loki.namespace),
                settings: config.platform.logs,
                config,
                storageClass: longhorn.storageClass,
                objectStorage: {
                    endpoint: storage.endpoint,
                    region: storage.region,
                    credentials: storage.credentials(LOKI_S3_SECRET, ns(CHARTS.loki.namespace), LOKI_S3_USER, this),
                    ready: storage.release,
                },
                ...observed,
            },
            child,
        );
        new AlertRules("alert-rules", { namespace: ns(CHARTS.monitoring.namespace), config, ...observed }, child);
        new Monitors("monitors", { namespace: ns(CHARTS.monitoring.namespace), apps, ...observed }, child);
        new Dashboards("dashboards", { namespace: ns(CHARTS.monitoring.namespace), apps }, child);
        // Spot interruptions (AWS): drained by the node termination handler on the spot groups.
        if (spotGroups(config).length > 0) new SpotTermination("spot-termination", { config, groups: spotGroups(config), after: args.cluster.ready }, child);

        const bindings: Partial<Record<AppName, AppBinding>> = {};
        for (const app of apps) {
            const needs = APP_NEEDS[app];
            const namespace = APP_NAMESPACES[app];
            // MinIO's release provisions the app's S3 user and buckets.
            const ready: pulumi.Resource[] = [storage.release, storage.credentials(`${app}-s3`, ns(namespace), app, this)];
            if (PROCESSING_APPS.includes(app)) {
                // Same Secret name in the job namespace: the app's config names one Secret for both.
                ready.push(storage.credentials(`${app}-s3-processing`, ns(PROCESSING_NAMESPACE), app, this, {}, `${app}-s3`));
            }
            const binding: AppBinding = {
                namespace,
                objectStorage: {
                    endpoint: storage.endpoint,
                    region: storage.region,
                    buckets: needs.buckets,
                    secretName: `${app}-s3`,
                    userSessionPolicy: storage.notebookSessionPolicy,
                },
                ready,
            };
            if (needs.database) {
                ready.push(postgres.credentials(`${app}-db`, ns(namespace), app, this), postgres.databases[app]);
                binding.database = { host: postgres.host, port: postgres.port, database: app, username: app, secretName: `${app}-db` };
            }
            if (needs.oidc) {
                ready.push(keycloak.clientSecrets[app]);
                if (needs.oidc.issuerAtStart) ready.push(keycloak.realmReady);
                binding.oidc = {
                    issuerUrl,
                    authorizeUrl: `${issuerUrl}/protocol/openid-connect/auth`,
                    tokenUrl: `${issuerUrl}/protocol/openid-connect/token`,
                    userinfoUrl: `${issuerUrl}/protocol/openid-connect/userinfo`,
                    clientId: app,
                    secretName: `${app}-oidc`,
                };
            }
            bindings[app] = binding;
        }

        this.platform = {
            provider: args.cluster.provider,
            domain: config.domain,
            ingressClass: ingress.ingressClass,
            clusterIssuer: certManager.clusterIssuer,
            storageClass: longhorn.storageClass,
            processingNamespace: apps.some((app) => PROCESSING_APPS.includes(app)) ? PROCESSING_NAMESPACE : undefined,
            sso: { middleware: ssoGate.middleware, adminMiddleware: ssoGate.adminMiddleware, hosts: gatedHosts },
            apps: bindings,
        };
        this.urls = {
            keycloak: `https://${hosts.keycloak}`,
            keycloakAdminConsole: `https://${hosts.keycloak}/admin/master/console/`,
            grafana: `https://${hosts.grafana}`,
            longhorn: `https://${hosts.longhorn}`,
            minioConsole: `https://${hosts.minioConsole}`,
        };
        this.adminUsernames = {
            keycloak: keycloak.adminUsername,
            // The geoplatform realm's first platform-admin: SSO into every UI (Longhorn included) with it.
            realm: keycloak.realmAdminUsername,
            grafana: monitoring.grafanaAdminUsername,
            minioConsole: storage.rootUsername,
        };
        this.secretOutputs = {
            keycloakAdminPassword: keycloak.adminPassword,
            grafanaAdminPassword: monitoring.grafanaAdminPassword,
            realmAdminPassword: keycloak.realmAdminPassword,
            minioRootPassword: storage.rootPassword,
        };
        this.registerOutputs({ urls: [hosts.keycloak, hosts.grafana, hosts.longhorn, hosts.minioConsole] });
    }
}
