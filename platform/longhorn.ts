import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, LONGHORN_DATA_PATH, LONGHORN_SCHEDULING } from "../config/catalog";
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
    backup: {
        bucket: string;
        region: string;
        endpoint: string;
        credentials: (secretName: string, namespace: pulumi.Input<string>, parent: pulumi.Resource, extra: Record<string, string>) => k8s.core.v1.Secret;
    };
}

/**
 * Longhorn, the cluster's only (default) StorageClass; K3s's local-path is
 * disabled. Replicas live on nodes labelled node.longhorn.io/create-default-disk
 * (the system group), while the node agents run on every node, processing
 * included, so pods there can mount volumes. Backups go to object storage.
 * The UI has no login of its own: the SSO gate (oauth2-proxy) guards it.
 */
export class Longhorn extends pulumi.ComponentResource {
    readonly storageClass = STORAGE_CLASS;
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: LonghornArgs, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:Longhorn", name, {}, opts);
        const namespace = args.namespace;
        const backupSecret = args.backup.credentials(BACKUP_SECRET, namespace, this, { AWS_ENDPOINTS: args.backup.endpoint });

        this.release = catalogRelease(
            "longhorn",
            CHARTS.longhorn,
            namespace,
            {
                persistence: { defaultClass: true, defaultClassReplicaCount: args.replicas },
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
                    // Longhorn wants the trailing slash.
                    backupTarget: `s3://${args.backup.bucket}@${args.backup.region}/`,
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
            { parent: this, dependsOn: [backupSecret] },
            "longhorn",
            LONGHORN_POSTRENDER,
        );

        this.registerOutputs({ storageClass: STORAGE_CLASS });
    }
}
