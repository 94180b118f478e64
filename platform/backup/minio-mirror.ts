import * as fs from "fs";
import * as path from "path";
import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BACKUP_FOLDERS, PLATFORM_IMAGES } from "../../config/catalog";
import { BackupStore } from "../../infra/types";
import { SYSTEM } from "../placement";
import { k8sSecret } from "../secrets";

const SCRIPT = "mirror-minio.sh";
const SECRET = "minio-mirror";
/** The mc image's user is root; the pod runs as this unprivileged one (Pod Security `restricted`). */
const UID = 1000;

/** The mirror script, next to this module in the source tree and in bin/. */
export function mirrorScript(): string {
    const candidates = [path.join(__dirname, "scripts", SCRIPT), path.resolve(__dirname, "../../../platform/backup/scripts", SCRIPT)];
    const found = candidates.find((file) => fs.existsSync(file));
    if (!found) throw new Error(`${SCRIPT} not found in ${candidates.join(" or ")}`);
    return fs.readFileSync(found, "utf8");
}

/**
 * mc's alias from the environment, `MC_HOST_<alias>=<scheme>://<key>:<secret>@<host>`: keys URL-encoded, since an AWS
 * secret key may hold `/` and `+` (minio/mc cmd/config.go, expandAlias from MC_HOST_).
 */
export const mcHost = (endpoint: string, accessKey: string, secretKey: string) => {
    const url = new URL(endpoint);
    return `${url.protocol}//${encodeURIComponent(accessKey)}:${encodeURIComponent(secretKey)}@${url.host}`;
};

export interface MinioMirrorArgs {
    namespace: pulumi.Input<string>;
    /** MinIO's in-cluster endpoint, and the key of a MinIO user that may read every bucket mirrored. */
    source: { endpoint: string; user: string; secretKey: pulumi.Output<string> };
    buckets: string[];
    store: BackupStore;
    schedule: string;
    /** MinIO's release, which creates the buckets and the user. */
    ready: pulumi.Resource[];
}

/**
 * MinIO's buckets (notebooks, event logs, results, sources, artifacts) copied into the backup bucket on a schedule:
 * a CronJob on the system nodes with the pinned mc image, Pod Security `restricted` (non-root, no privilege
 * escalation, all capabilities dropped, RuntimeDefault seccomp, read-only root), both aliases from one Secret.
 * MinIO stays (rather than the cloud's object store in prod) because the apps are configured for one in-cluster
 * S3 endpoint on both clouds and dev's OpenStack may offer none; docs/restore.md says how to restore a bucket.
 */
export class MinioMirror extends pulumi.ComponentResource {
    readonly cronJob: k8s.batch.v1.CronJob;

    constructor(name: string, args: MinioMirrorArgs, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:MinioMirror", name, {}, opts);
        const { store } = args;
        const secret = k8sSecret(
            SECRET,
            {
                namespace: args.namespace,
                data: {
                    MC_HOST_src: args.source.secretKey.apply((key) => mcHost(args.source.endpoint, args.source.user, key)),
                    MC_HOST_backup: pulumi.all([store.endpoint, store.accessKeyId, store.secretAccessKey]).apply(([e, a, k]) => mcHost(e, a, k)),
                },
            },
            { parent: this, dependsOn: store.ready },
        );
        const script = new k8s.core.v1.ConfigMap(
            `${name}-script`,
            { metadata: { name: `${name}-script`, namespace: args.namespace }, data: { [SCRIPT]: mirrorScript() } },
            { parent: this },
        );
        const drop = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };
        this.cronJob = new k8s.batch.v1.CronJob(
            name,
            {
                metadata: { name, namespace: args.namespace },
                spec: {
                    schedule: args.schedule,
                    // A mirror still running when the next is due is not doubled.
                    concurrencyPolicy: "Forbid",
                    successfulJobsHistoryLimit: 3,
                    failedJobsHistoryLimit: 3,
                    jobTemplate: {
                        spec: {
                            backoffLimit: 2,
                            // Bounded: a hung transfer fails the job (and shows as failed) instead of blocking every later run.
                            activeDeadlineSeconds: 6 * 3600,
                            template: {
                                metadata: { labels: { "app.kubernetes.io/name": "minio-mirror" } },
                                spec: {
                                    restartPolicy: "Never",
                                    nodeSelector: SYSTEM,
                                    automountServiceAccountToken: false,
                                    securityContext: { runAsNonRoot: true, runAsUser: UID, runAsGroup: UID, seccompProfile: { type: "RuntimeDefault" } },
                                    containers: [
                                        {
                                            name: "mirror",
                                            image: `${PLATFORM_IMAGES.minioClient.repository}:${PLATFORM_IMAGES.minioClient.tag}`,
                                            command: ["/bin/sh", `/scripts/${SCRIPT}`],
                                            env: [
                                                { name: "BUCKETS", value: args.buckets.join(" ") },
                                                { name: "DEST", value: pulumi.interpolate`backup/${store.bucket}/${BACKUP_FOLDERS.minio}` },
                                                // mc keeps its config (and session files) here: the only writable place.
                                                { name: "MC_CONFIG_DIR", value: "/tmp/.mc" },
                                            ],
                                            envFrom: [{ secretRef: { name: SECRET } }],
                                            resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                                            securityContext: drop,
                                            volumeMounts: [
                                                { name: "script", mountPath: "/scripts", readOnly: true },
                                                { name: "tmp", mountPath: "/tmp" },
                                            ],
                                        },
                                    ],
                                    volumes: [
                                        { name: "script", configMap: { name: `${name}-script` } },
                                        { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
                                    ],
                                },
                            },
                        },
                    },
                },
            },
            { parent: this, dependsOn: [secret, script, ...args.ready] },
        );
        this.registerOutputs({ cronJob: name });
    }
}
