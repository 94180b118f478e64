import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { RestoreConfig, RestoreVolume } from "../../config/types";
import { BackupStore } from "../../infra/types";
import { longhornBackupSecret, longhornBackupTarget, STORAGE_CLASS } from "../longhorn";

/** Longhorn's CSI driver name: PersistentVolumes of Longhorn volumes name it (longhorn-manager v1.12.1 types.LonghornDriverName). */
export const LONGHORN_CSI_DRIVER = "driver.longhorn.io";
/** A second backup target for a restore from another bucket (Longhorn 1.12 syncs the Backup CRs of every BackupTarget). */
export const RESTORE_TARGET = "restore-source";
const RESTORE_SECRET = "longhorn-restore-s3";

/** Longhorn's backup URL of one backup: the target's URL with `backup` and `volume` (backupstore DecodeBackupURL reads both). */
export const longhornBackupUrl = (targetUrl: string, backup: string, volume: string) => `${targetUrl}?backup=${backup}&volume=${volume}`;

/**
 * `geoplatform:restore.longhorn`: each listed volume bound to the claim a workload will ask for, before that workload
 * exists. With `backup`, a Longhorn Volume restored from it (spec.fromBackup; the webhook looks the Backup up among the
 * synced ones, webhook/resources/volume/mutator.go); without, a volume that already exists (kept by reclaimPolicy
 * Retain). Then a PersistentVolume of that volume (Retain, pre-bound to the claim) and the claim itself, named as the
 * workload names it, so the workload mounts the restored data instead of provisioning an empty volume.
 */
export class LonghornRestore extends pulumi.ComponentResource {
    constructor(
        name: string,
        args: {
            namespace: pulumi.Input<string>;
            restore: RestoreConfig;
            store: BackupStore;
            replicas: number;
            release: pulumi.Resource;
            /** The namespaces the claims go into, by name. */
            ns: (namespace: string) => pulumi.Input<string>;
        },
        opts: pulumi.ComponentResourceOptions,
    ) {
        super("geoplatform:platform:LonghornRestore", name, {}, opts);
        const volumes = args.restore.longhorn?.volumes ?? [];
        const region = args.store.region;
        const source = args.restore.bucket;
        let targetUrl: pulumi.Output<string> = args.store.bucket.apply((b) => longhornBackupTarget(b, region));
        const waitFor: pulumi.Resource[] = [args.release];
        if (source && volumes.some((v) => v.backup)) {
            const secret = longhornBackupSecret(RESTORE_SECRET, args.namespace, args.store, this);
            targetUrl = pulumi.output(longhornBackupTarget(source, region));
            waitFor.push(
                new k8s.apiextensions.CustomResource(
                    RESTORE_TARGET,
                    {
                        apiVersion: "longhorn.io/v1beta2",
                        kind: "BackupTarget",
                        metadata: { name: RESTORE_TARGET, namespace: args.namespace },
                        spec: { backupTargetURL: targetUrl, credentialSecret: RESTORE_SECRET, pollInterval: "300s" },
                    },
                    { parent: this, dependsOn: [args.release, secret] },
                ),
            );
        }
        for (const v of volumes) this.bind(v, targetUrl, args, waitFor);
        this.registerOutputs({ volumes: volumes.map((v) => v.name) });
    }

    private bind(
        v: RestoreVolume,
        targetUrl: pulumi.Output<string>,
        args: { namespace: pulumi.Input<string>; replicas: number; ns: (n: string) => pulumi.Input<string> },
        waitFor: pulumi.Resource[],
    ) {
        const size = `${v.sizeGb}Gi`;
        const volume = v.backup
            ? [
                  new k8s.apiextensions.CustomResource(
                      `restore-${v.name}`,
                      {
                          apiVersion: "longhorn.io/v1beta2",
                          kind: "Volume",
                          metadata: { name: v.name, namespace: args.namespace },
                          spec: {
                              fromBackup: targetUrl.apply((url) => longhornBackupUrl(url, v.backup as string, v.sourceVolume as string)),
                              size: String(v.sizeGb * 1024 ** 3),
                              numberOfReplicas: args.replicas,
                              frontend: "blockdev",
                              accessMode: "rwo",
                              dataEngine: "v1",
                          },
                      },
                      // A restored volume holds data that exists nowhere else in the cluster.
                      { parent: this, dependsOn: waitFor, protect: true },
                  ),
              ]
            : [];
        const pv = new k8s.core.v1.PersistentVolume(
            `restore-${v.name}`,
            {
                metadata: { name: v.name },
                spec: {
                    capacity: { storage: size },
                    accessModes: ["ReadWriteOnce"],
                    persistentVolumeReclaimPolicy: "Retain",
                    storageClassName: STORAGE_CLASS,
                    claimRef: { namespace: v.claim.namespace, name: v.claim.name },
                    csi: { driver: LONGHORN_CSI_DRIVER, volumeHandle: v.name, fsType: "ext4" },
                },
            },
            { parent: this, dependsOn: [...waitFor, ...volume], protect: true },
        );
        new k8s.core.v1.PersistentVolumeClaim(
            `restore-${v.claim.namespace}-${v.claim.name}`,
            {
                // A claim a chart renders (MinIO's) carries the release's ownership metadata, which Helm 3 requires before
                // it takes over an existing object (helm v3 pkg/action/validate.go, existingResourceConflict).
                metadata: {
                    name: v.claim.name,
                    namespace: args.ns(v.claim.namespace),
                    ...(v.claim.release
                        ? {
                              labels: { "app.kubernetes.io/managed-by": "Helm" },
                              annotations: { "meta.helm.sh/release-name": v.claim.release, "meta.helm.sh/release-namespace": v.claim.namespace },
                          }
                        : {}),
                },
                spec: { accessModes: ["ReadWriteOnce"], storageClassName: STORAGE_CLASS, volumeName: v.name, resources: { requests: { storage: size } } },
            },
            // The claim binds at once; its consumer waits for the restore (a restoring volume attaches only when done).
            { parent: this, dependsOn: [pv], retainOnDelete: true },
        );
    }
}
