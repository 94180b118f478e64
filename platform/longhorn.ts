import * as k8s from "./kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BACKUP_FOLDERS, CHARTS, LONGHORN_DATA_PATH, LONGHORN_SCHEDULING } from "../config/catalog";
import { BackupStore } from "../infra/types";
import { backupSecret } from "./backup/store";
import { catalogRelease, tlsAnnotations } from "./release";
import { PROCESSING_TOLERATION, SYSTEM } from "./placement";
import { HOST_TUNNEL_ADDRESSES } from "./network/peers";

export const STORAGE_CLASS = "longhorn";
const BACKUP_SECRET = "longhorn-backup-s3";
/** Takes the `system` pin of longhornManager.nodeSelector back off the manager DaemonSet; the hook Jobs keep it. */
export const LONGHORN_POSTRENDER = "platform/postrender/longhorn-manager.js";

export interface LonghornArgs {
    namespace: pulumi.Input<string>;
    replicas: number;
    host: string;
    clusterIssuer: string;
    ingressClass: string;
    /** The SSO gate's Middleware reference (router.middlewares annotation value): the UI has no login of its own. */
    ssoMiddleware: string;
    /** The stack's backup bucket (infra layer), outside the cluster: the default backup target. */
    backup: BackupStore;
}

/** Longhorn's S3 backup target URL for a bucket: `s3://<bucket>@<region>/<folder>/` (Longhorn wants the trailing slash). */
export const longhornBackupTarget = (bucket: string, region: string) => `s3://${bucket}@${region}/${BACKUP_FOLDERS.longhorn}/`;

/**
 * The backup target's credential Secret: the bucket's keys, and AWS_ENDPOINTS where the bucket is not AWS S3 (Longhorn's
 * S3 driver then addresses it by path; on AWS it resolves the regional endpoint itself, by virtual host).
 */
export const longhornBackupSecret = (name: string, namespace: pulumi.Input<string>, store: BackupStore, parent: pulumi.Resource) =>
    backupSecret(name, namespace, store, parent, store.pathStyle ? { AWS_ENDPOINTS: store.endpoint } : {});

/**
 * Longhorn, the cluster's only (default) StorageClass; K3s's local-path is
 * disabled. Replicas live on nodes labelled node.longhorn.io/create-default-disk
 * (the system group), while the node agents run on every node, processing
 * included, so pods there can mount volumes. Backups go to the stack's backup
 * bucket, outside the cluster (platform/backup/longhorn-jobs.ts schedules them).
 * The UI has no login of its own: the SSO gate (oauth2-proxy) guards it.
 */
export class Longhorn extends pulumi.ComponentResource {
    readonly storageClass = STORAGE_CLASS;
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: LonghornArgs, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:Longhorn", name, {}, opts);
        const namespace = args.namespace;
        const credentials = longhornBackupSecret(BACKUP_SECRET, namespace, args.backup, this);

        this.release = catalogRelease(
            "longhorn",
            CHARTS.longhorn,
            namespace,
            {
                // Retain: a deleted claim (a chart uninstalled, a namespace removed) leaves its volume and data in Longhorn, to
                // be bound to a new claim (docs/restore.md, "Re-binding a retained volume").
                persistence: { defaultClass: true, defaultClassReplicaCount: args.replicas, reclaimPolicy: "Retain" },
                // The chart's own policies (templates/network-policies/): ingress among Longhorn's pods restricted to its components, the
                // admission webhook (9501/9502) to the manager and the API server's source addresses; `type: k3s` adds the UI's ingress from
                // K3s's bundled Traefik in kube-system (disabled here: platform/network/flows.ts admits ours).
                networkPolicies: { enabled: true, type: "k3s", restrictInternalTraffic: true, kubeAPIServerSourceCIDRs: HOST_TUNNEL_ADDRESSES },
                defaultSettings: {
                    defaultReplicaCount: args.replicas,
                    createDefaultDiskLabeledNodes: true,
                    // The storage nodes' data volumes are mounted here; config validation sizes them with these rules.
                    defaultDataPath: `${LONGHORN_DATA_PATH}/`,
                    ...LONGHORN_SCHEDULING,
                    taintToleration: `${PROCESSING_TOLERATION.key}=${PROCESSING_TOLERATION.value}:${PROCESSING_TOLERATION.effect}`,
                },
                defaultBackupStore: {
                    backupTarget: args.backup.bucket.apply((b) => longhornBackupTarget(b, args.backup.region)),
                    backupTargetCredentialSecret: BACKUP_SECRET,
                },
                // The chart gives its hook Jobs (pre/post-upgrade, uninstall) the manager's nodeSelector and no key of their own:
                // pin it to system for them, and LONGHORN_POSTRENDER unpins the manager DaemonSet, which runs on every node.
                longhornManager: { tolerations: [PROCESSING_TOLERATION], nodeSelector: SYSTEM },
                longhornDriver: { nodeSelector: SYSTEM },
                longhornUI: { nodeSelector: SYSTEM, replicas: 1 },
                ingress: {
                    enabled: true,
                    ingressClassName: args.ingressClass,
                    host: args.host,
                    tls: true,
                    tlsSecret: "longhorn-ui-tls",
                    annotations: {
                        ...tlsAnnotations(args.clusterIssuer),
                        "traefik.ingress.kubernetes.io/router.middlewares": args.ssoMiddleware,
                    },
                },
            },
            { parent: this, dependsOn: [credentials] },
            "longhorn",
            LONGHORN_POSTRENDER,
        );

        this.registerOutputs({ storageClass: STORAGE_CLASS });
    }
}
