import { BackupConfig } from "../../config/types";
import { BACKUP_FOLDERS } from "../../config/catalog";

/** Where and how often a server's embedded etcd is snapshotted: the stack's backup bucket (infra BackupStore). */
export interface EtcdBackup {
    /** The S3 endpoint as K3s takes it: host[:port], no scheme (TLS unless etcd-s3-insecure). */
    endpoint: string;
    region: string;
    bucket: string;
    accessKey: string;
    secretKey: string;
    schedule: BackupConfig["etcdSnapshotCron"];
    retention: number;
}

const yamlString = (value: string) => JSON.stringify(value);

/** K3s takes the endpoint without a scheme (k3s-io/k3s pkg/etcd/s3/s3.go: it builds the minio client from host and `insecure`). */
export const etcdS3Endpoint = (url: string) => url.replace(/^https:\/\//, "").replace(/\/$/, "");

/**
 * Server keys of /etc/rancher/k3s/config.yaml for scheduled snapshots to S3. The keys sit in the config file, mode 0600,
 * which reaches the node on the install script's stdin as a Pulumi secret, like the token: K3s' other place for them,
 * `etcd-s3-config-secret`, is a Secret read through the API server (pkg/etcd/s3/config_secret.go getConfigFromSecret
 * fails with ErrCoreNotReady before it runs), so it cannot serve a `cluster-reset` restore on a new VM.
 */
export function etcdBackupLines(b: EtcdBackup | undefined): string[] {
    if (!b) return [];
    return [
        `etcd-snapshot-schedule-cron: ${yamlString(b.schedule)}`,
        `etcd-snapshot-retention: ${b.retention}`,
        "etcd-snapshot-compress: true",
        "etcd-s3: true",
        `etcd-s3-endpoint: ${yamlString(b.endpoint)}`,
        `etcd-s3-region: ${yamlString(b.region)}`,
        `etcd-s3-bucket: ${yamlString(b.bucket)}`,
        `etcd-s3-folder: ${yamlString(BACKUP_FOLDERS.etcd)}`,
        `etcd-s3-access-key: ${yamlString(b.accessKey)}`,
        `etcd-s3-secret-key: ${yamlString(b.secretKey)}`,
    ];
}
