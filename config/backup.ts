// Validation of `geoplatform:backup` and `geoplatform:restore` (docs/restore.md).

import { Checker } from "./checker";
import { BACKUP_DEFAULTS } from "./catalog";
import { BackupConfig, CloudName, RestoreConfig, RestoreVolume } from "./types";

const BACKUP_KEYS = [...Object.keys(BACKUP_DEFAULTS), "s3Endpoint", "s3Region", "external"];
const EXTERNAL_KEYS = ["endpoint", "region", "bucket", "accessKeyId", "secretAccessKey"];
/** Five-field cron (K3s' robfig/cron parser and Longhorn's RecurringJob take this form; CNPG's six-field one is elsewhere). */
const CRON5 = /^(\S+\s+){4}\S+$/;
/** Barman's recovery window: a number of days, weeks or months (plugin-barman-cloud v0.13.0 web/docs/retention.md). */
const BARMAN_RETENTION = /^[1-9]\d*[dwm]$/;
const HTTPS_URL = /^https:\/\/[a-z0-9.-]+(:\d+)?\/?$/;
/** S3 bucket names (AWS rules, which Swift s3api and RGW accept too). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Longhorn backup names (backup-<hex>, longhorn-manager v1.12.1 util.GenerateName) and K3s snapshot names. */
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
/** RFC 3339 with an explicit zone: what CNPG's recoveryTarget.targetTime accepts unambiguously. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

export function checkBackup(c: Checker, raw: unknown, cloud: CloudName | undefined): BackupConfig {
    const b = c.object("backup", raw, { optional: true });
    c.noUnknownKeys("backup", b, BACKUP_KEYS);
    const d = BACKUP_DEFAULTS;
    const cron = (key: keyof typeof d) =>
        c.string(`backup.${key}`, b[key], { fallback: d[key] as string, pattern: CRON5, expected: 'a five-field cron such as "0 3 * * *"' });
    const count = (key: keyof typeof d, max: number) => c.integer(`backup.${key}`, b[key], { min: 1, max, fallback: d[key] as number });
    const config: BackupConfig = {
        etcdSnapshotCron: cron("etcdSnapshotCron"),
        etcdSnapshotRetention: count("etcdSnapshotRetention", 500),
        longhornSnapshotCron: cron("longhornSnapshotCron"),
        // Longhorn caps a volume's snapshots at 250 (longhorn-manager v1.12.1 types/setting.go, snapshot-max-count).
        longhornSnapshotRetain: count("longhornSnapshotRetain", 100),
        longhornBackupCron: cron("longhornBackupCron"),
        longhornBackupRetain: count("longhornBackupRetain", 100),
        postgresRetention: c.string("backup.postgresRetention", b.postgresRetention, {
            fallback: d.postgresRetention,
            pattern: BARMAN_RETENTION,
            expected: "a recovery window in days, weeks or months such as 30d",
        }),
        postgresServerName: c.string("backup.postgresServerName", b.postgresServerName, {
            fallback: d.postgresServerName,
            pattern: DNS_LABEL,
            expected: "a lowercase name of letters, digits and '-'",
        }),
        minioMirrorCron: cron("minioMirrorCron"),
        noncurrentVersionDays: count("noncurrentVersionDays", 3650),
    };
    const onOpenStack = cloud === "openstack";
    const notHere = (key: string) => c.fail(`backup.${key}`, b[key], `nothing: only OpenStack stacks set it (AWS gets an S3 bucket of its own)`);
    if (b.external !== undefined) {
        if (cloud === "aws") notHere("external");
        else if (!onOpenStack) return config;
        else {
            const e = c.object("backup.external", b.external);
            c.noUnknownKeys("backup.external", e, EXTERNAL_KEYS);
            config.external = {
                endpoint: c.string("backup.external.endpoint", e.endpoint, { pattern: HTTPS_URL, expected: "an https:// S3 endpoint URL" }),
                region: c.string("backup.external.region", e.region),
                bucket: c.string("backup.external.bucket", e.bucket, { pattern: BUCKET, expected: "an S3 bucket name" }),
                accessKeyId: c.string("backup.external.accessKeyId", e.accessKeyId),
                secretAccessKey: c.string("backup.external.secretAccessKey", e.secretAccessKey, {
                    expected: "the bucket's secret key, set with pulumi config set --secret --path geoplatform:backup.external.secretAccessKey",
                }),
            };
            if (b.s3Endpoint !== undefined) c.fail("backup.s3Endpoint", b.s3Endpoint, "nothing when backup.external names the bucket");
        }
    } else if (onOpenStack) {
        config.s3Endpoint = c.string("backup.s3Endpoint", b.s3Endpoint, {
            pattern: HTTPS_URL,
            expected:
                "the https:// S3 endpoint of the cloud's object storage (Swift s3api or Ceph RGW), e.g. https://s3.waw3-2.cloudferro.com, or backup.external for a bucket elsewhere",
        });
        config.s3Region = c.string("backup.s3Region", b.s3Region, { fallback: "us-east-1" });
    } else if (cloud === "aws") {
        if (b.s3Endpoint !== undefined) notHere("s3Endpoint");
        if (b.s3Region !== undefined) notHere("s3Region");
    }
    return config;
}

function checkVolume(c: Checker, key: string, raw: unknown): RestoreVolume {
    const v = c.object(key, raw);
    c.noUnknownKeys(key, v, ["name", "backup", "sourceVolume", "sizeGb", "claim"]);
    const claim = c.object(`${key}.claim`, v.claim);
    c.noUnknownKeys(`${key}.claim`, claim, ["namespace", "name", "release"]);
    const volume: RestoreVolume = {
        name: c.string(`${key}.name`, v.name, { pattern: DNS_LABEL, expected: "a Longhorn volume name (lowercase letters, digits, '-')" }),
        sizeGb: c.integer(`${key}.sizeGb`, v.sizeGb, { min: 1, max: 16384 }),
        claim: {
            namespace: c.string(`${key}.claim.namespace`, claim.namespace, { pattern: DNS_LABEL, expected: "a namespace name" }),
            name: c.string(`${key}.claim.name`, claim.name, { pattern: NAME, expected: "a PersistentVolumeClaim name" }),
        },
    };
    if (claim.release !== undefined) {
        volume.claim.release = c.string(`${key}.claim.release`, claim.release, {
            pattern: DNS_LABEL,
            expected: "the name of the Helm release that renders the claim",
        });
    }
    if (v.backup !== undefined || v.sourceVolume !== undefined) {
        volume.backup = c.string(`${key}.backup`, v.backup, {
            pattern: /^backup-[a-z0-9]+$/,
            expected: "a Longhorn backup name (backup-...) with sourceVolume",
        });
        volume.sourceVolume = c.string(`${key}.sourceVolume`, v.sourceVolume, {
            pattern: NAME,
            expected: "the name of the volume the backup was taken of (its backup volume, e.g. pvc-...)",
        });
    }
    return volume;
}

/** `restore` is read only when present: a stack without it is not restoring. */
export function checkRestore(c: Checker, raw: unknown, backup: BackupConfig): RestoreConfig | undefined {
    if (raw === undefined) return undefined;
    const r = c.object("restore", raw);
    if (c.failed("restore")) return undefined;
    c.noUnknownKeys("restore", r, ["bucket", "k3s", "postgres", "longhorn"]);
    const restore: RestoreConfig = {};
    if (r.bucket !== undefined)
        restore.bucket = c.string("restore.bucket", r.bucket, { pattern: BUCKET, expected: "the S3 bucket name that holds the backups" });
    if (r.k3s !== undefined) {
        const k = c.object("restore.k3s", r.k3s);
        c.noUnknownKeys("restore.k3s", k, ["snapshot"]);
        restore.k3s = { snapshot: c.string("restore.k3s.snapshot", k.snapshot, { pattern: NAME, expected: "an etcd snapshot name (k3s etcd-snapshot ls)" }) };
    }
    if (r.postgres !== undefined) {
        const p = c.object("restore.postgres", r.postgres);
        c.noUnknownKeys("restore.postgres", p, ["serverName", "targetTime"]);
        const serverName = c.string("restore.postgres.serverName", p.serverName, {
            fallback: BACKUP_DEFAULTS.postgresServerName,
            pattern: DNS_LABEL,
            expected: "the Barman server name the backups were archived under",
        });
        restore.postgres = { serverName };
        if (p.targetTime !== undefined) {
            restore.postgres.targetTime = c.string("restore.postgres.targetTime", p.targetTime, {
                pattern: TIMESTAMP,
                expected: 'an RFC 3339 time with a zone, such as "2026-12-01T10:00:00Z"',
            });
        }
        // Barman refuses to archive into a server folder that already holds WAL: the recovered cluster needs a folder of its own.
        const sameBucket = restore.bucket === undefined;
        if (sameBucket && serverName === backup.postgresServerName && !c.failed("restore.postgres.serverName", "backup.postgresServerName")) {
            c.fail(
                "backup.postgresServerName",
                backup.postgresServerName,
                `a new name (e.g. ${serverName}-2) while restoring from ${serverName} in the same bucket: the recovered cluster must not archive into the folder it recovers from`,
            );
        }
    }
    if (r.longhorn !== undefined) {
        const l = c.object("restore.longhorn", r.longhorn);
        c.noUnknownKeys("restore.longhorn", l, ["volumes"]);
        const volumes = c.array("restore.longhorn.volumes", l.volumes, { minLength: 1 }).map((v, i) => checkVolume(c, `restore.longhorn.volumes[${i}]`, v));
        const seen = new Set<string>();
        volumes.forEach((v, i) => {
            const claim = `${v.claim.namespace}/${v.claim.name}`;
            if (seen.has(v.name) || seen.has(claim)) c.fail(`restore.longhorn.volumes[${i}]`, v.name, "each volume and each claim once");
            seen.add(v.name).add(claim);
        });
        restore.longhorn = { volumes };
    }
    if (Object.keys(restore).filter((k) => k !== "bucket").length === 0) c.fail("restore", r, "at least one of k3s, postgres, longhorn");
    return restore;
}
