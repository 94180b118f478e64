// The Longhorn volumes a stack asks for and whether its storage nodes can hold
// them, under Longhorn's scheduling rule (config/catalog.ts LONGHORN_SCHEDULING).

import { APP_VOLUMES_GB, DATA_DISK_FS_OVERHEAD_PERCENT, LONGHORN_SCHEDULING } from "./catalog";
import { GeoplatformConfig, LONGHORN_DISK_LABEL, NodeGroupConfig } from "./types";

/** Non-empty groups labelled for Longhorn replicas, in config order. */
export function storageGroups(nodeGroups: Record<string, NodeGroupConfig>): [string, NodeGroupConfig][] {
    return Object.entries(nodeGroups).filter(([, g]) => g.labels[LONGHORN_DISK_LABEL] === "true" && g.count > 0);
}

/**
 * Prometheus servers: two on stacks with two or more system nodes (each scrapes every target, so either alone
 * keeps alerting; Alertmanager deduplicates their alerts), one otherwise. Each has its own volume.
 */
export const prometheusReplicas = (config: GeoplatformConfig) => Math.min(config.nodeGroups.system.count, 2);

export interface LonghornVolume {
    name: string;
    sizeGb: number;
    /** Volumes of this size (one per PostgreSQL instance). */
    count: number;
}

/**
 * Every Longhorn volume the platform and the enabled apps create, as sized in
 * config. JupyterHub's per-user homes (APP_VOLUMES_GB.jupyterUser each) come on
 * top, one per user at first login.
 */
export function longhornVolumes(config: GeoplatformConfig): LonghornVolume[] {
    const p = config.platform;
    const apps = config.enabledApps;
    return [
        { name: "postgres", sizeGb: p.postgres.storageGb, count: p.postgres.instances },
        { name: "objectStorage", sizeGb: p.objectStorage.storageGb, count: 1 },
        { name: "prometheus", sizeGb: p.prometheus.storageGb, count: prometheusReplicas(config) },
        { name: "loki", sizeGb: p.logs.storageGb, count: p.logs.replicas },
        ...(apps.includes("geocube") ? [{ name: "geocube", sizeGb: config.apps.geocube.storageGb, count: 1 }] : []),
        ...(apps.includes("openeo") ? [{ name: "zookeeper", sizeGb: APP_VOLUMES_GB.zookeeper, count: 1 }] : []),
    ];
}

export interface LonghornFit {
    /** GiB of replicas each storage node must hold. */
    perNodeGb: number;
    /** Share of a data volume Longhorn schedules replicas on, filesystem overhead deducted. */
    usablePercent: number;
    usableGb: number;
    missingGb: number;
    /** Smallest data disk that holds perNodeGb. */
    minimumDiskGb: number;
}

/**
 * Replicas of one volume land on distinct nodes, so with as many replicas as
 * storage nodes each node holds every volume; with fewer, a node holds at
 * least its even share and at least the largest volume. A disk of size S
 * schedules up to (S - reserved) x overProvisioning%, and stays schedulable
 * while more than minimalAvailable% of S is free (ReplicaScheduler.IsSchedulableToDisk
 * in longhorn-manager v1.12.1): with thin volumes that fill up, the smaller
 * of the two bounds what a node can hold.
 */
export function longhornFit(config: GeoplatformConfig, diskGb: number): LonghornFit {
    const volumes = longhornVolumes(config);
    const nodes = storageGroups(config.nodeGroups).reduce((n, [, g]) => n + g.count, 0);
    const replicas = config.platform.longhornReplicas;
    const total = volumes.reduce((sum, v) => sum + v.sizeGb * v.count, 0);
    const largest = Math.max(...volumes.map((v) => v.sizeGb));
    const perNodeGb = replicas >= nodes ? total : Math.max(Math.ceil((total * replicas) / nodes), largest);
    const s = LONGHORN_SCHEDULING;
    const schedulable = Math.min(
        ((100 - s.storageReservedPercentageForDefaultDisk) * s.storageOverProvisioningPercentage) / 100,
        100 - s.storageMinimalAvailablePercentage,
    );
    // Longhorn sees the filesystem, slightly smaller than the volume.
    const usablePercent = Math.floor(schedulable * (100 - DATA_DISK_FS_OVERHEAD_PERCENT)) / 100;
    const usableGb = Math.floor((diskGb * usablePercent) / 100);
    return { perNodeGb, usablePercent, usableGb, missingGb: Math.max(0, perNodeGb - usableGb), minimumDiskGb: Math.ceil((perNodeGb * 100) / usablePercent) };
}
