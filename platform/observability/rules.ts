import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../../config/catalog";
import { GeoplatformConfig } from "../../config/types";

// Baseline alerts beyond kube-prometheus-stack's own rules. Every metric is
// named as the exporting project names it at the pinned version; the source of
// each is on the rule (`source`) and in docs/operations.md. The chart's rules
// already cover nodes NotReady (KubeNodeNotReady), node disks filling
// (NodeFilesystemSpaceFillingUp, NodeFilesystemAlmostOutOfSpace) and volumes
// filling (KubePersistentVolumeFillingUp): test/charts pins that they exist.

export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    severity: "warning" | "critical";
    summary: string;
    /** Where the metric comes from (repository, path, tag). */
    source: string;
    /** Metric names the expression reads (checked against `expr` by the tests). */
    metrics: string[];
}

/** kube-state-metrics custom-resource metrics (kube-state-metrics v2.20.0 docs/metrics/extend/customresourcestate-metrics.md: prefix kube_customresource_). */
export const CUSTOM_RESOURCE_METRICS = {
    etcdSnapshotCreated: "kube_customresource_etcd_snapshot_creation_timestamp_seconds",
    etcdSnapshotError: "kube_customresource_etcd_snapshot_error_timestamp_seconds",
    longhornBackupCreated: "kube_customresource_longhorn_backup_created_timestamp_seconds",
} as const;

/**
 * kube-state-metrics' CustomResourceStateMetrics: K3s records each etcd
 * snapshot as a cluster-scoped ETCDSnapshotFile (k3s.cattle.io/v1; k3s-io/k3s
 * pkg/apis/k3s.cattle.io/v1/types.go: spec.nodeName, spec.s3, status.creationTime,
 * status.error.time), Longhorn each backup as a Backup (longhorn.io/v1beta2;
 * longhorn-manager v1.12.1 k8s/pkg/apis/longhorn/v1beta2/backup.go:
 * status.backupCreatedAt, status.state, status.volumeName). KSM turns RFC3339
 * timestamps into Unix seconds (pkg/customresourcestate/registry_factory.go toFloat64).
 */
export const CUSTOM_RESOURCE_STATE = {
    spec: {
        resources: [
            {
                groupVersionKind: { group: "k3s.cattle.io", version: "v1", kind: "ETCDSnapshotFile" },
                labelsFromPath: { name: ["metadata", "name"], node: ["spec", "nodeName"], bucket: ["spec", "s3", "bucket"] },
                metrics: [
                    {
                        name: "etcd_snapshot_creation_timestamp_seconds",
                        help: "When etcd took this K3s snapshot (status.creationTime)",
                        each: { type: "Gauge", gauge: { path: ["status", "creationTime"] } },
                    },
                    {
                        name: "etcd_snapshot_error_timestamp_seconds",
                        help: "When this K3s snapshot last failed (status.error.time)",
                        each: { type: "Gauge", gauge: { path: ["status", "error", "time"] } },
                    },
                ],
            },
            {
                groupVersionKind: { group: "longhorn.io", version: "v1beta2", kind: "Backup" },
                labelsFromPath: { name: ["metadata", "name"], volume: ["status", "volumeName"], state: ["status", "state"] },
                metrics: [
                    {
                        name: "longhorn_backup_created_timestamp_seconds",
                        help: "When Longhorn created this backup (status.backupCreatedAt)",
                        each: { type: "Gauge", gauge: { path: ["status", "backupCreatedAt"] } },
                    },
                ],
            },
        ],
    },
};

/** RBAC kube-state-metrics needs to list and watch those custom resources. */
export const CUSTOM_RESOURCE_RBAC = [
    { apiGroups: ["k3s.cattle.io"], resources: ["etcdsnapshotfiles"], verbs: ["list", "watch"] },
    { apiGroups: ["longhorn.io"], resources: ["backups"], verbs: ["list", "watch"] },
];

const HOUR = 3600;

/** The baseline rules, by group; thresholds follow each stack's backup schedule where it has one. */
export function alertRules(config: GeoplatformConfig): Record<string, AlertRule[]> {
    const m = CUSTOM_RESOURCE_METRICS;
    const pgBackups = config.platform.postgres.backupSchedule !== "";
    // K3s takes an etcd snapshot every 12 hours by default (etcd-snapshot-schedule-cron "0 */12 * * *", k3s-flags.md); late after 2 missed.
    const etcdLate = 25 * HOUR;
    return {
        certificates: [
            {
                alert: "CertificateExpiresSoon",
                expr: "certmanager_certificate_expiration_timestamp_seconds - time() < 14 * 24 * 3600",
                for: "1h",
                severity: "warning",
                summary:
                    "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 14 days: cert-manager has not renewed it (renewal starts 30 days before)",
                source: "cert-manager/cert-manager v1.21.1 pkg/metrics/certificates.go",
                metrics: ["certmanager_certificate_expiration_timestamp_seconds"],
            },
            {
                alert: "CertificateExpiresVerySoon",
                expr: "certmanager_certificate_expiration_timestamp_seconds - time() < 3 * 24 * 3600",
                for: "10m",
                severity: "critical",
                summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires in less than 3 days",
                source: "cert-manager/cert-manager v1.21.1 pkg/metrics/certificates.go",
                metrics: ["certmanager_certificate_expiration_timestamp_seconds"],
            },
            {
                alert: "CertificateNotReady",
                expr: 'certmanager_certificate_ready_status{condition="False"} == 1',
                for: "1h",
                severity: "warning",
                summary: "Certificate {{ $labels.namespace }}/{{ $labels.name }} is not Ready: see `kubectl describe certificate` and its CertificateRequest",
                source: "cert-manager/cert-manager v1.21.1 pkg/metrics/certificates.go",
                metrics: ["certmanager_certificate_ready_status"],
            },
        ],
        backups: [
            {
                alert: "EtcdSnapshotFailed",
                expr: `${m.etcdSnapshotError} > 0 and time() - ${m.etcdSnapshotError} < 24 * 3600`,
                for: "0m",
                severity: "critical",
                summary: "K3s etcd snapshot {{ $labels.name }} on {{ $labels.node }} failed in the last 24 hours",
                source: "k3s-io/k3s pkg/apis/k3s.cattle.io/v1/types.go ETCDSnapshotStatus.Error, via kube-state-metrics custom resource state",
                metrics: [m.etcdSnapshotError],
            },
            {
                alert: "EtcdSnapshotLate",
                expr: `time() - max(${m.etcdSnapshotCreated}) > ${etcdLate} or absent(${m.etcdSnapshotCreated})`,
                for: "30m",
                severity: "critical",
                summary: "No K3s etcd snapshot in the last 25 hours (K3s takes one every 12 hours)",
                source: "k3s-io/k3s pkg/apis/k3s.cattle.io/v1/types.go ETCDSnapshotStatus.CreationTime, via kube-state-metrics custom resource state",
                metrics: [m.etcdSnapshotCreated],
            },
            {
                alert: "LonghornBackupFailed",
                // 4 = Error (longhorn-manager v1.12.1 metrics_collector/backup_collector.go getBackupStateValue).
                expr: "longhorn_backup_state == 4",
                for: "5m",
                severity: "critical",
                summary: "Longhorn backup {{ $labels.backup }} of volume {{ $labels.volume }} is in state Error",
                source: "longhorn/longhorn-manager v1.12.1 metrics_collector/backup_collector.go",
                metrics: ["longhorn_backup_state"],
            },
            {
                alert: "LonghornBackupLate",
                expr: `time() - max by (volume) (${m.longhornBackupCreated}{state="Completed"}) > 26 * 3600`,
                for: "30m",
                severity: "warning",
                summary: "Volume {{ $labels.volume }} has no completed Longhorn backup in the last 26 hours",
                source: "longhorn/longhorn-manager v1.12.1 k8s/pkg/apis/longhorn/v1beta2/backup.go BackupStatus.BackupCreatedAt, via kube-state-metrics custom resource state",
                metrics: [m.longhornBackupCreated],
            },
            ...(pgBackups
                ? [
                      {
                          alert: "PostgresBackupFailed",
                          // In-core Barman (deprecated in CNPG 1.26) and the barman-cloud plugin (metric name = plugin name with . and - as _).
                          expr:
                              "(cnpg_collector_last_failed_backup_timestamp > cnpg_collector_last_available_backup_timestamp) or " +
                              "(barman_cloud_cloudnative_pg_io_last_failed_backup_timestamp > barman_cloud_cloudnative_pg_io_last_available_backup_timestamp)",
                          for: "5m",
                          severity: "critical" as const,
                          summary: "The last PostgreSQL base backup of {{ $labels.namespace }}/{{ $labels.pod }} failed after the last good one",
                          source: "cloudnative-pg/cloudnative-pg v1.30.0 pkg/management/postgres/webserver/metricserver/pg_collector.go; cloudnative-pg/plugin-barman-cloud v0.7.0 internal/cnpgi/instance/metrics.go",
                          metrics: [
                              "cnpg_collector_last_failed_backup_timestamp",
                              "cnpg_collector_last_available_backup_timestamp",
                              "barman_cloud_cloudnative_pg_io_last_failed_backup_timestamp",
                              "barman_cloud_cloudnative_pg_io_last_available_backup_timestamp",
                          ],
                      },
                      {
                          alert: "PostgresBackupLate",
                          expr:
                              "time() - max by (namespace) (cnpg_collector_last_available_backup_timestamp > 0 or " +
                              "barman_cloud_cloudnative_pg_io_last_available_backup_timestamp > 0) > 26 * 3600",
                          for: "30m",
                          severity: "critical" as const,
                          summary: "No PostgreSQL base backup completed in the last 26 hours (daily schedule)",
                          source: "cloudnative-pg/cloudnative-pg v1.30.0 pkg/management/postgres/webserver/metricserver/pg_collector.go; cloudnative-pg/plugin-barman-cloud v0.7.0 internal/cnpgi/instance/metrics.go",
                          metrics: ["cnpg_collector_last_available_backup_timestamp", "barman_cloud_cloudnative_pg_io_last_available_backup_timestamp"],
                      },
                  ]
                : []),
        ],
        storage: [
            {
                alert: "LonghornVolumeDegraded",
                // One series per state, 1 for the current one (longhorn-manager v1.12.1 metrics_collector/volume_collector.go collectVolumeRobustness).
                expr: 'longhorn_volume_robustness{state="degraded"} == 1',
                for: "15m",
                severity: "warning",
                summary:
                    "Longhorn volume {{ $labels.volume }} (PVC {{ $labels.pvc_namespace }}/{{ $labels.pvc }}) runs with fewer healthy replicas than it should",
                source: "longhorn/longhorn-manager v1.12.1 metrics_collector/volume_collector.go",
                metrics: ["longhorn_volume_robustness"],
            },
            {
                alert: "LonghornVolumeFaulted",
                expr: 'longhorn_volume_robustness{state="faulted"} == 1',
                for: "2m",
                severity: "critical",
                summary: "Longhorn volume {{ $labels.volume }} (PVC {{ $labels.pvc_namespace }}/{{ $labels.pvc }}) has no healthy replica",
                source: "longhorn/longhorn-manager v1.12.1 metrics_collector/volume_collector.go",
                metrics: ["longhorn_volume_robustness"],
            },
            {
                alert: "LonghornDiskFilling",
                expr: "longhorn_disk_usage_bytes / longhorn_disk_capacity_bytes > 0.8",
                for: "30m",
                severity: "warning",
                summary:
                    "Longhorn disk {{ $labels.disk }} on {{ $labels.node }} is more than 80% full: replicas stop being scheduled at 75% (storageMinimalAvailablePercentage 25)",
                source: "longhorn/longhorn-manager v1.12.1 metrics_collector/disk_collector.go",
                metrics: ["longhorn_disk_usage_bytes", "longhorn_disk_capacity_bytes"],
            },
        ],
        nodes: [
            {
                alert: "SpotInterruption",
                // aws-node-termination-handler taints a node it drains for a spot interruption (v1.25.6 pkg/node/node.go SpotInterruptionTaint).
                expr: 'kube_node_spec_taint{key="aws-node-termination-handler/spot-itn"} == 1',
                for: "0m",
                severity: "warning",
                summary: "Spot node {{ $labels.node }} is being reclaimed by AWS: its pods are drained, batch jobs on it are interrupted",
                source: "aws/aws-node-termination-handler v1.25.6 pkg/node/node.go; kube-state-metrics kube_node_spec_taint",
                metrics: ["kube_node_spec_taint"],
            },
        ],
        services: [
            {
                alert: "KeycloakDown",
                // job: the keycloak ServiceMonitor's jobLabel (app.kubernetes.io/name of the keycloakx Service), so oauth2-proxy
                // or any other target in the namespace cannot mask Keycloak's absence.
                expr: `sum(kube_statefulset_status_replicas_ready{namespace="${CHARTS.keycloak.namespace}"}) < 1 or absent(up{namespace="${CHARTS.keycloak.namespace}", job="keycloakx"} == 1)`,
                for: "5m",
                severity: "critical",
                summary: "Keycloak has no ready replica or no scrapeable pod: nobody can log in to the platform's UIs",
                source: "kube-state-metrics kube_statefulset_status_replicas_ready; Prometheus up",
                metrics: ["kube_statefulset_status_replicas_ready", "up"],
            },
            {
                alert: "PostgresReplicationLag",
                // CNPG's default monitoring query pg_replication, column lag, in seconds (cloudnative-pg v1.30.0 config/manager/default-monitoring.yaml).
                expr: "cnpg_pg_replication_lag > 60",
                for: "5m",
                severity: "warning",
                summary: "PostgreSQL standby {{ $labels.pod }} is more than a minute behind the primary",
                source: "cloudnative-pg/cloudnative-pg v1.30.0 config/manager/default-monitoring.yaml",
                metrics: ["cnpg_pg_replication_lag"],
            },
            {
                alert: "LogShippingStopped",
                // absent(): with Loki down or unscraped the series is gone, and sum() of nothing is no sample at all.
                expr: "sum(rate(loki_distributor_lines_received_total[15m])) == 0 or absent(loki_distributor_lines_received_total)",
                for: "30m",
                severity: "warning",
                summary: "Loki received no log line for 30 minutes: Alloy or Loki is down (see the Alloy and Loki dashboards)",
                source: "grafana/loki pkg/distributor/distributor.go linesReceivedTotal",
                metrics: ["loki_distributor_lines_received_total"],
            },
        ],
    };
}

/** The PrometheusRule objects (in monitoring; Prometheus selects every rule, platform/monitoring.ts). */
export class AlertRules extends pulumi.ComponentResource {
    constructor(
        name: string,
        args: { namespace: pulumi.Input<string>; config: GeoplatformConfig; monitoringReady: pulumi.Resource },
        opts: pulumi.ComponentResourceOptions,
    ) {
        super("geoplatform:platform:AlertRules", name, {}, opts);
        const groups = Object.entries(alertRules(args.config)).map(([group, rules]) => ({
            name: `geoplatform.${group}`,
            rules: rules.map((r) => ({
                alert: r.alert,
                expr: r.expr,
                for: r.for,
                labels: { severity: r.severity },
                annotations: { summary: r.summary, runbook: "docs/operations.md, Alerts" },
            })),
        }));
        new k8s.apiextensions.CustomResource(
            "geoplatform-alerts",
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PrometheusRule",
                metadata: { name: "geoplatform-alerts", namespace: args.namespace },
                spec: { groups },
            },
            { parent: this, dependsOn: [args.monitoringReady] },
        );
        this.registerOutputs({});
    }
}
