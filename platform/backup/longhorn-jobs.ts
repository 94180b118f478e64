import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BackupConfig } from "../../config/types";

/**
 * Longhorn's group of RecurringJobs that applies to every volume carrying no recurring-job label of its own: Longhorn
 * labels such a volume `recurring-job-group.longhorn.io/default: enabled` (longhorn/longhorn-manager v1.12.1
 * datastore/longhorn.go, the default-label step; controller/volume_controller.go matches jobs of group `default`).
 */
export const DEFAULT_GROUP = "default";

/**
 * Snapshots and backups of every Longhorn volume, on a schedule, each job keeping `retain` of its own
 * (RecurringJob longhorn.io/v1beta2, k8s/pkg/apis/longhorn/v1beta2/recurringjob.go: task, cron, retain,
 * concurrency, groups). The backups go to the default backup target, the stack's backup bucket.
 */
export class LonghornBackupJobs extends pulumi.ComponentResource {
    readonly jobs: k8s.apiextensions.CustomResource[];

    constructor(
        name: string,
        args: { namespace: pulumi.Input<string>; settings: BackupConfig; release: pulumi.Resource },
        opts: pulumi.ComponentResourceOptions,
    ) {
        super("geoplatform:platform:LonghornBackupJobs", name, {}, opts);
        const s = args.settings;
        const job = (jobName: string, task: "snapshot" | "backup", cron: string, retain: number) =>
            new k8s.apiextensions.CustomResource(
                jobName,
                {
                    apiVersion: "longhorn.io/v1beta2",
                    kind: "RecurringJob",
                    metadata: { name: jobName, namespace: args.namespace },
                    // Two volumes at a time: a backup reads the whole volume the first time, then only changed blocks.
                    spec: { name: jobName, task, cron, retain, concurrency: 2, groups: [DEFAULT_GROUP], labels: { "geoplatform.io/backup": task } },
                },
                // The RecurringJob kind exists once Longhorn's release installed its CRDs.
                { parent: this, dependsOn: [args.release] },
            );
        this.jobs = [
            job("snapshot-hourly", "snapshot", s.longhornSnapshotCron, s.longhornSnapshotRetain),
            job("backup-daily", "backup", s.longhornBackupCron, s.longhornBackupRetain),
        ];
        this.registerOutputs({ jobs: this.jobs.map((j) => j.metadata.name) });
    }
}
