import * as k8s from "./kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, PLATFORM_IMAGES } from "../config/catalog";
import { BackupConfig, PlatformConfig, RestoreConfig } from "../config/types";
import { BackupStore } from "../infra/types";
import { PostgresBackup } from "./backup/postgres";
import { catalogRelease } from "./release";
import { POSTGRES_NAMESPACE } from "./namespaces";
import { SYSTEM } from "./placement";
import { k8sSecret, randomSecret } from "./secrets";

export const CLUSTER = "geoplatform-pg";

/**
 * The Kubernetes provider treats a custom resource as ready once it exists, unless it carries `pulumi.com/waitFor`
 * (pulumi/pulumi-kubernetes provider/pkg/metadata/overrides.go, ReadyCondition). CNPG reports a Cluster's readiness as
 * condition `Ready` (cloudnative-pg api/v1/cluster_types.go, ConditionClusterReady) and a Database's as `status.applied`.
 */
const WAIT_FOR = { cluster: "condition=Ready", database: "jsonpath={.status.applied}=true" };

export interface DatabaseGrant {
    /** Database and owner role name. */
    name: string;
    password: pulumi.Output<string>;
}

export interface PostgresArgs {
    /** Namespaces of the operator and of the cluster. */
    operatorNamespace: pulumi.Input<string>;
    namespace: pulumi.Input<string>;
    settings: PlatformConfig["postgres"];
    databases: string[];
    /** Extensions the operator creates (as superuser) in a database. */
    extensions: Record<string, string[]>;
    storageClass: string;
    /** The release that creates the StorageClass: only the database volumes need it, not the operator. */
    storageReady: pulumi.Resource;
    /** Where base backups and WAL go: the stack's backup bucket, through the Barman Cloud plugin (platform/backup/postgres.ts). */
    backup: { store: BackupStore; settings: BackupConfig; restore?: RestoreConfig; certManager: pulumi.Resource };
}

/**
 * CloudNativePG: the operator, one `Cluster` on the system nodes, and a role
 * and `Database` per consumer. Role passwords are random and live in
 * basic-auth Secrets the operator reads; consumers get their own copy.
 */
export class Postgres extends pulumi.ComponentResource {
    readonly host = `${CLUSTER}-rw.${POSTGRES_NAMESPACE}.svc`;
    readonly port = 5432;
    readonly grants: Record<string, DatabaseGrant> = {};
    /** Per database, the `Database` resource: Pulumi counts it created once the operator applied it (see WAIT_FOR). */
    readonly databases: Record<string, pulumi.Resource> = {};

    constructor(name: string, args: PostgresArgs, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:Postgres", name, {}, opts);
        const operator = catalogRelease(
            "cloudnative-pg",
            CHARTS.cloudnativePg,
            args.operatorNamespace,
            { nodeSelector: SYSTEM, resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } } },
            { parent: this },
        );

        const roleSecrets = args.databases.map((db) => {
            const password = randomSecret(`postgres-${db}`, this).value;
            this.grants[db] = { name: db, password };
            return k8sSecret(
                `postgres-role-${db}`,
                { namespace: args.namespace, type: "kubernetes.io/basic-auth", data: { username: db, password } },
                { parent: this },
            );
        });
        const backup = new PostgresBackup(
            "postgres-backup",
            { ...args.backup, operatorNamespace: args.operatorNamespace, namespace: args.namespace, operator, cluster: CLUSTER },
            { parent: this },
        );

        const cluster = new k8s.apiextensions.CustomResource(
            CLUSTER,
            {
                apiVersion: "postgresql.cnpg.io/v1",
                kind: "Cluster",
                metadata: { name: CLUSTER, namespace: args.namespace, annotations: { "pulumi.com/waitFor": WAIT_FOR.cluster } },
                spec: {
                    instances: args.settings.instances,
                    // CNPG's PodDisruptionBudget keeps the primary's pod from being evicted: with a single instance that blocks the
                    // drain of its node, so every K3s upgrade of that node fails; single-instance clusters must not have it
                    // (cloudnative-pg v1.30.0 docs/src/kubernetes_upgrade.md; field `enablePDB`, default true, in chart 0.29.0's CRD).
                    enablePDB: args.settings.instances > 1,
                    imageName: `${PLATFORM_IMAGES.postgres.repository}:${PLATFORM_IMAGES.postgres.tag}`,
                    // CNPG takes parameters as strings.
                    postgresql: { parameters: { max_connections: String(args.settings.maxConnections) } },
                    storage: { storageClass: args.storageClass, size: `${args.settings.storageGb}Gi` },
                    affinity: { nodeSelector: SYSTEM, enablePodAntiAffinity: true, topologyKey: "kubernetes.io/hostname" },
                    resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "2Gi" } },
                    managed: {
                        roles: args.databases.map((db) => ({ name: db, ensure: "present", login: true, passwordSecret: { name: `postgres-role-${db}` } })),
                    },
                    // WAL archiving and base backups through the Barman Cloud plugin; on a restore, recovery from its object store.
                    ...backup.clusterSpec,
                },
            },
            // The Cluster kind exists once the operator release installed its CRDs; the first WAL archive needs the plugin and its
            // ObjectStore. `protect`: a plan that would delete or replace the database stops instead (docs/restore.md,
            // "What survives"). Bootstrap is read only when a cluster is created: switching a restore on later changes nothing.
            {
                parent: this,
                dependsOn: [operator, args.storageReady, ...roleSecrets, ...backup.ready],
                protect: true,
                ignoreChanges: ["spec.bootstrap"],
            },
        );

        for (const db of args.databases) {
            this.databases[db] = new k8s.apiextensions.CustomResource(
                `postgres-db-${db}`,
                {
                    apiVersion: "postgresql.cnpg.io/v1",
                    kind: "Database",
                    metadata: { name: db, namespace: args.namespace, annotations: { "pulumi.com/waitFor": WAIT_FOR.database } },
                    spec: {
                        name: db,
                        owner: db,
                        cluster: { name: CLUSTER },
                        ...(args.extensions[db]?.length ? { extensions: args.extensions[db].map((name) => ({ name, ensure: "present" })) } : {}),
                    },
                },
                { parent: this, dependsOn: [cluster] },
            );
        }
        if (args.settings.backupSchedule !== "") backup.schedule(args.settings.backupSchedule, cluster);
        this.registerOutputs({ host: this.host });
    }

    /** A basic-auth Secret (username/password) for `db` in a consumer's namespace. */
    credentials(secretName: string, namespace: pulumi.Input<string>, db: string, parent: pulumi.Resource): k8s.core.v1.Secret {
        const grant = this.grants[db];
        if (!grant) throw new Error(`PostgreSQL has no database ${db}`);
        return k8sSecret(secretName, { namespace, type: "kubernetes.io/basic-auth", data: { username: db, password: grant.password } }, { parent });
    }
}
