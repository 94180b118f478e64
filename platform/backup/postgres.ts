import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BACKUP_FOLDERS, CHARTS } from "../../config/catalog";
import { BackupConfig, RestoreConfig } from "../../config/types";
import { BackupStore } from "../../infra/types";
import { SYSTEM } from "../placement";
import { catalogRelease } from "../release";
import { backupSecret } from "./store";

/** The plugin's name, as the Cluster, Backup and ScheduledBackup name it (plugin-barman-cloud v0.13.0 web/docs/usage.md). */
export const BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io";
export const OBJECT_STORE = "geoplatform-pg-backup";
export const RESTORE_OBJECT_STORE = "geoplatform-pg-restore-source";
/** The external cluster a recovery bootstraps from. */
export const RESTORE_SOURCE = "origin";
const SECRET = "postgres-backup-s3";

export interface PostgresBackupArgs {
    store: BackupStore;
    settings: BackupConfig;
    restore?: RestoreConfig;
    /** cert-manager's release: the plugin chart's Issuer and Certificates (templates/certificate-issuer.yaml, *-certificate.yaml). */
    certManager: pulumi.Resource;
    operatorNamespace: pulumi.Input<string>;
    namespace: pulumi.Input<string>;
    operator: pulumi.Resource;
    cluster: string;
}

/**
 * PostgreSQL's backups through CloudNativePG's Barman Cloud plugin (chart plugin-barman-cloud 0.7.0, plugin v0.13.0),
 * which replaces the in-tree `barmanObjectStore` that CNPG 1.31 removes: the plugin in the operator's namespace (the
 * operator finds plugins there, by the Service the chart labels `cnpg.io/pluginName`), an `ObjectStore` for the
 * backup bucket (WAL archive and base backups under postgres/<serverName>/), the Cluster's `spec.plugins` with
 * `isWALArchiver`, and a ScheduledBackup of method `plugin`. On a restore, a second ObjectStore for the bucket the
 * backups are in, and the Cluster bootstraps by `recovery` from it as external cluster `origin`.
 */
export class PostgresBackup extends pulumi.ComponentResource {
    /** What the Cluster's spec gets: plugins, and on a restore bootstrap.recovery and externalClusters. */
    readonly clusterSpec: Record<string, unknown>;
    /** What the Cluster waits for. */
    readonly ready: pulumi.Resource[];
    private readonly clusterName: string;
    private readonly namespace: pulumi.Input<string>;

    constructor(name: string, args: PostgresBackupArgs, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:PostgresBackup", name, {}, opts);
        this.clusterName = args.cluster;
        this.namespace = args.namespace;
        const s = args.settings;
        const plugin = catalogRelease(
            "plugin-barman-cloud",
            CHARTS.barmanCloud,
            args.operatorNamespace,
            { nodeSelector: SYSTEM, resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } } },
            { parent: this, dependsOn: [args.operator, args.certManager] },
        );
        const secret = backupSecret(SECRET, args.namespace, args.store, this);
        const objectStore = (storeName: string, bucket: pulumi.Input<string>, retention?: string) =>
            new k8s.apiextensions.CustomResource(
                storeName,
                {
                    apiVersion: "barmancloud.cnpg.io/v1",
                    kind: "ObjectStore",
                    metadata: { name: storeName, namespace: args.namespace },
                    spec: {
                        // The same schema as the in-tree barmanObjectStore; serverName stays empty (a Cluster parameter instead).
                        configuration: {
                            destinationPath: pulumi.interpolate`s3://${bucket}/${BACKUP_FOLDERS.postgres}/`,
                            endpointURL: args.store.endpoint,
                            s3Credentials: {
                                accessKeyId: { name: SECRET, key: "AWS_ACCESS_KEY_ID" },
                                secretAccessKey: { name: SECRET, key: "AWS_SECRET_ACCESS_KEY" },
                                region: { name: SECRET, key: "AWS_REGION" },
                            },
                            wal: { compression: "gzip", maxParallel: 2 },
                            data: { compression: "gzip" },
                        },
                        ...(retention ? { retentionPolicy: retention } : {}),
                        instanceSidecarConfiguration: { resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "512Mi" } } },
                    },
                },
                // The ObjectStore kind exists once the plugin's release installed its CRD.
                { parent: this, dependsOn: [plugin, secret] },
            );
        const own = objectStore(OBJECT_STORE, args.store.bucket, s.postgresRetention);
        this.ready = [plugin, own];
        const plugins = [{ name: BARMAN_PLUGIN, isWALArchiver: true, parameters: { barmanObjectName: OBJECT_STORE, serverName: s.postgresServerName } }];

        const recovery = args.restore?.postgres;
        if (recovery) {
            this.ready.push(objectStore(RESTORE_OBJECT_STORE, args.restore?.bucket ?? args.store.bucket));
            this.clusterSpec = {
                plugins,
                bootstrap: {
                    recovery: {
                        source: RESTORE_SOURCE,
                        ...(recovery.targetTime ? { recoveryTarget: { targetTime: recovery.targetTime } } : {}),
                    },
                },
                externalClusters: [
                    {
                        name: RESTORE_SOURCE,
                        plugin: { name: BARMAN_PLUGIN, parameters: { barmanObjectName: RESTORE_OBJECT_STORE, serverName: recovery.serverName } },
                    },
                ],
            };
        } else {
            this.clusterSpec = { plugins };
        }
        this.registerOutputs({ objectStore: OBJECT_STORE });
    }

    /**
     * Base backups on CNPG's six-field cron, the first one as soon as the ScheduledBackup exists (`immediate`), so WAL
     * archived from the start has a base backup to replay onto.
     */
    schedule(cron: string, cluster: pulumi.Resource): k8s.apiextensions.CustomResource {
        const name = `${this.clusterName}-daily`;
        return new k8s.apiextensions.CustomResource(
            name,
            {
                apiVersion: "postgresql.cnpg.io/v1",
                kind: "ScheduledBackup",
                metadata: { name, namespace: this.namespace },
                spec: {
                    schedule: cron,
                    immediate: true,
                    backupOwnerReference: "self",
                    cluster: { name: this.clusterName },
                    method: "plugin",
                    pluginConfiguration: { name: BARMAN_PLUGIN },
                },
            },
            { parent: this, dependsOn: [cluster] },
        );
    }
}
