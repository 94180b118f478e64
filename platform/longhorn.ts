import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, LONGHORN_DATA_PATH, LONGHORN_SCHEDULING } from "../config/catalog";
import { catalogRelease, tlsAnnotations } from "./release";
import { PROCESSING_TOLERATION, SYSTEM } from "./placement";
import { k8sSecret, randomSecret } from "./secrets";
import { HOST_TUNNEL_ADDRESSES } from "./network/peers";

export const STORAGE_CLASS = "longhorn";
const BACKUP_SECRET = "longhorn-backup-s3";
const BASIC_AUTH_SECRET = "longhorn-ui-basic-auth";
const BASIC_AUTH_MIDDLEWARE = "longhorn-basic-auth";
/** Takes the `system` pin of longhornManager.nodeSelector back off the manager DaemonSet; the hook Jobs keep it. */
export const LONGHORN_POSTRENDER = "platform/postrender/longhorn-manager.js";

export interface LonghornArgs {
    namespace: pulumi.Input<string>;
    replicas: number;
    host: string;
    clusterIssuer: string;
    ingressClass: string;
    /** Traefik's release, which installs the Middleware CRD. */
    ingressRelease: pulumi.Resource;
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
 * The UI has no login of its own: Traefik basic auth guards it.
 */
export class Longhorn extends pulumi.ComponentResource {
    readonly storageClass = STORAGE_CLASS;
    readonly release: k8s.helm.v3.Release;
    /** The one user of the UI's basic-auth htpasswd. */
    readonly uiUsername = "admin";
    readonly uiPassword: pulumi.Output<string>;

    constructor(name: string, args: LonghornArgs, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:Longhorn", name, {}, opts);
        const namespace = args.namespace;
        const backupSecret = args.backup.credentials(BACKUP_SECRET, namespace, this, { AWS_ENDPOINTS: args.backup.endpoint });

        const ui = randomSecret("longhorn-ui", this);
        this.uiPassword = ui.value;
        // Traefik reads htpasswd lines; RandomPassword's bcrypt hash is one.
        const basicAuth = k8sSecret(BASIC_AUTH_SECRET, { namespace, data: { users: pulumi.interpolate`${this.uiUsername}:${ui.bcrypt}` } }, { parent: this });

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
                        "traefik.ingress.kubernetes.io/router.middlewares": `${CHARTS.longhorn.namespace}-${BASIC_AUTH_MIDDLEWARE}@kubernetescrd`,
                    },
                },
            },
            { parent: this, dependsOn: [backupSecret, basicAuth] },
            "longhorn",
            LONGHORN_POSTRENDER,
        );

        new k8s.apiextensions.CustomResource(
            BASIC_AUTH_MIDDLEWARE,
            {
                apiVersion: "traefik.io/v1alpha1",
                kind: "Middleware",
                metadata: { name: BASIC_AUTH_MIDDLEWARE, namespace },
                spec: { basicAuth: { secret: BASIC_AUTH_SECRET } },
            },
            { parent: this, dependsOn: [basicAuth, args.ingressRelease] },
        );
        this.registerOutputs({ storageClass: STORAGE_CLASS });
    }
}
