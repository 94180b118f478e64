// Every Helm chart geoplatform installs, in one place: where it comes from,
// the pinned version, its namespace and the node group its pods run on.
// Bump versions here, deliberately, then regenerate the values types
// (`npm run charts && npm run charts:types`, docs/chart-values.md).

export type CatalogNodeGroup = "system" | "processing";

export interface ChartEntry {
    chart: string;
    /** https or oci repository. */
    repo: string;
    version: string;
    namespace: string;
    /** Node group of the component's own (control) pods. */
    nodeGroup: CatalogNodeGroup;
}

export const CHARTS = {
    traefik: { chart: "traefik", repo: "https://traefik.github.io/charts", version: "41.3.0", namespace: "traefik", nodeGroup: "system" },
    certManager: { chart: "cert-manager", repo: "https://charts.jetstack.io", version: "v1.21.1", namespace: "cert-manager", nodeGroup: "system" },
    longhorn: { chart: "longhorn", repo: "https://charts.longhorn.io", version: "1.12.1", namespace: "longhorn-system", nodeGroup: "system" },
    minio: { chart: "minio", repo: "https://charts.min.io/", version: "5.4.0", namespace: "minio", nodeGroup: "system" },
    cloudnativePg: {
        chart: "cloudnative-pg",
        repo: "https://cloudnative-pg.github.io/charts",
        version: "0.29.0",
        namespace: "cnpg-system",
        nodeGroup: "system",
    },
    keycloak: { chart: "keycloakx", repo: "https://codecentric.github.io/helm-charts", version: "7.1.11", namespace: "keycloak", nodeGroup: "system" },
    monitoring: {
        chart: "kube-prometheus-stack",
        repo: "https://prometheus-community.github.io/helm-charts",
        version: "88.5.3",
        namespace: "monitoring",
        nodeGroup: "system",
    },
    jupyterhub: { chart: "jupyterhub", repo: "https://jupyterhub.github.io/helm-chart/", version: "4.4.0", namespace: "jupyterhub", nodeGroup: "system" },
    sparkOperator: { chart: "spark-operator", repo: "https://kubeflow.github.io/spark-operator", version: "2.5.2", namespace: "spark", nodeGroup: "system" },
    // nodeGroup: ZooKeeper and the job tracker; the chart's driver and executors go to processing (apps/openeo/postrender.js).
    openeo: {
        chart: "sparkapplication",
        repo: "https://artifactory.vgt.vito.be/artifactory/helm-charts",
        version: "1.3.1",
        namespace: "openeo",
        nodeGroup: "system",
    },
    argoWorkflows: { chart: "argo-workflows", repo: "https://argoproj.github.io/argo-helm", version: "1.0.18", namespace: "argo", nodeGroup: "system" },
    // CNPG-I Barman Cloud plugin (app v0.13.0): installed in the operator's namespace, which is where the operator looks for plugins.
    barmanCloud: {
        chart: "plugin-barman-cloud",
        repo: "https://cloudnative-pg.github.io/charts",
        version: "0.7.0",
        namespace: "cnpg-system",
        nodeGroup: "system",
    },
    // Logs: Loki (grafana-community/helm-charts) stores them in object storage; Alloy collects them on every node.
    loki: { chart: "loki", repo: "https://grafana-community.github.io/helm-charts", version: "18.11.0", namespace: "logging", nodeGroup: "system" },
    alloy: { chart: "alloy", repo: "https://grafana.github.io/helm-charts", version: "1.11.1", namespace: "logging", nodeGroup: "system" },
    // AWS stacks with spot groups only: a DaemonSet on the spot nodes (platform/spot.ts), in kube-system with K3s's own agents.
    nodeTerminationHandler: {
        chart: "aws-node-termination-handler",
        repo: "oci://public.ecr.aws/aws-ec2/helm",
        version: "0.27.6",
        namespace: "kube-system",
        nodeGroup: "processing",
    },
    // Forward-auth in front of the UIs without a login of their own; beside Keycloak, in the SSO namespace.
    oauth2Proxy: { chart: "oauth2-proxy", repo: "https://oauth2-proxy.github.io/manifests", version: "10.7.0", namespace: "keycloak", nodeGroup: "system" },
} as const satisfies Record<string, ChartEntry>;

export type ChartName = keyof typeof CHARTS;

/** Folder, at the project root, where `npm run charts` keeps the checked chart archives (gitignored). */
export const CHART_CACHE = ".charts";

/** A chart's archive in the cache, relative to the project root: `.charts/<chart>-<version>.tgz`, as `helm pull` names it. */
export function chartArchive(entry: ChartEntry): string {
    return `${CHART_CACHE}/${entry.chart}-${entry.version}.tgz`;
}

export interface ImageEntry {
    repository: string;
    tag: string;
}

/** Images the platform sets explicitly (the charts' own defaults are pinned by the chart version). */
export const PLATFORM_IMAGES = {
    minio: { repository: "quay.io/minio/minio", tag: "RELEASE.2024-12-18T13-15-44Z" },
    minioClient: { repository: "quay.io/minio/mc", tag: "RELEASE.2024-11-21T17-21-54Z" },
    // CNPG's PostGIS image (Geocube needs PostGIS), `system` flavour: it ships Barman Cloud for the backups.
    postgres: { repository: "ghcr.io/cloudnative-pg/postgis", tag: "17.10-3.6.4-202608031108-system-bookworm" },
    keycloak: { repository: "quay.io/keycloak/keycloak", tag: "26.5.6" },
    // Built against the Keycloak 26.5 admin client (adorsys/keycloak-config-cli v6.5.0 .github/workflows/ci.yaml: tag <version>-<KEYCLOAK_VERSION>).
    keycloakConfigCli: { repository: "docker.io/adorsys/keycloak-config-cli", tag: "6.5.0-26.5.4" },
} as const satisfies Record<string, ImageEntry>;

/**
 * Default of `geoplatform:imageRegistry`: where the stack pulls the images this repository builds (notebook, Spark,
 * Geocube). The workflows push to ghcr.io/<lower-cased repository owner>; this default matches a repository owned by
 * `geoplatform`. Nothing is published there until those workflows have run: a fork sets imageRegistry to its own.
 */
export const DEFAULT_IMAGE_REGISTRY = "ghcr.io/geoplatform";

/**
 * Geocube's images, built by .github/workflows/geocube-images.yml from images/geocube/Dockerfile (the upstream
 * source at GEOCUBE_SQL.commit, v1.0.3) and pushed as <registry>/geoplatform-geocube-<component>:<tag>. The tag is
 * Geocube's version plus a build number of ours; a test checks the workflow and the Dockerfile agree with it.
 */
export const GEOCUBE_IMAGES = { registry: DEFAULT_IMAGE_REGISTRY, tag: "1.0.3-1" } as const;

/**
 * Images this repository builds (images/<name>/Dockerfile) and .github/workflows/images.yml publishes on every
 * release as <registry>/geoplatform-<name>:<release tag>. The tag follows package.json's version (a test checks),
 * and the workflow refuses a release tagged otherwise, so a release publishes the images that its own catalog pins.
 */
export const PROJECT_IMAGES = { registry: DEFAULT_IMAGE_REGISTRY, tag: "v0.1.0" } as const;

/** The images this repository builds, pulled from `registry` (`geoplatform:imageRegistry`). */
export function builtImages(registry: string) {
    return {
        /** Single-user notebook image (images/notebook): jupyterhub-singleuser of the hub's JupyterHub, PySpark, Sedona, the EO stack. */
        jupyterSingleuser: `${registry}/geoplatform-notebook:${PROJECT_IMAGES.tag}`,
        /** Spark with Sedona and S3A baked in (images/spark), for drivers, executors and the History Server. */
        spark: `${registry}/geoplatform-spark:${PROJECT_IMAGES.tag}`,
        // Geocube publishes no images (its docs say to build them): images/geocube builds them from the pinned source.
        geocubeApiserver: `${registry}/geoplatform-geocube-apiserver:${GEOCUBE_IMAGES.tag}`,
        geocubeConsolidater: `${registry}/geoplatform-geocube-consolidater:${GEOCUBE_IMAGES.tag}`,
        geocubeAutoscaler: `${registry}/geoplatform-geocube-autoscaler:${GEOCUBE_IMAGES.tag}`,
    };
}

/**
 * Container images of the apps' raw workloads and chart-configurable images:
 * defaults for the `geoplatform:apps.<app>.*Image` settings (those of builtImages follow `imageRegistry`). Always a pinned tag.
 */
export const IMAGES = {
    ...builtImages(DEFAULT_IMAGE_REGISTRY),
    /** openEO geotrellis backend (driver and batch jobs). */
    openeo: "eoepca/openeo-geotrellis-kube:2.0-beta2",
    zookeeper: "zookeeper:3.9.3",
    /** Fetches what an image lacks in an init container: Geocube's SQL (apps/geocube/schema.ts). */
    curl: "curlimages/curl:8.14.1",
} as const;

/**
 * Geocube's database schema and pgqueue table ship as SQL files in its source,
 * not in its images. The schema Job fetches them from the commit of the
 * release the images are built from and checks them by SHA-256.
 */
export const GEOCUBE_SQL = {
    commit: "38c7b0146f37ceca16f5d4453f0162d1e1f42346", // v1.0.3
    files: {
        "schema.sql": { path: "interface/database/pg/create.sql", sha256: "b248187ce37ce12a43e248eb8e89a6effe5d78ee4eaad70bac5d89ad6426d00f" },
        "pgqueue.sql": { path: "interface/messaging/pgqueue/create_table.sql", sha256: "f32fcb3b656a408db1fc3e55dc7d42ce6e5b74905a0618dce038f745985994c0" },
    },
} as const;

/**
 * The STAC collection openEO serves by default (`geoplatform:apps.openeo.stacCollection`): Sentinel-2 L2A in
 * Element 84's public Earth Search STAC API (v1), whose items carry Cloud-Optimized GeoTIFF assets under these keys.
 */
export const OPENEO_STAC_COLLECTION = {
    url: "https://earth-search.aws.element84.com/v1/collections/sentinel-2-l2a",
    bands: ["blue", "green", "red", "nir", "scl"],
} as const;

/**
 * The one Spark line of the platform, every piece traced at its pinned version (docs/workflows.md, "Notebooks and Spark"):
 * spark-operator 2.5.2 builds on apache/spark:4.0.4 (kubeflow/spark-operator v2.5.2 Dockerfile), so Spark 4.0 and its
 * only Scala, 2.13; Spark 4.0 ships Hadoop 3.4.1, whose hadoop-aws is built on AWS SDK v2 bundle 2.24.6; Sedona publishes
 * sedona-spark-shaded-4.0_2.13 from 1.8.0 on. images/spark and images/notebook build from these (tests compare them).
 */
export const SPARK_LINE = {
    spark: "4.0.3",
    scala: "2.13",
    hadoop: "3.4.1",
    awsSdkV2: "2.24.6",
    sedona: "1.9.0",
    geotoolsWrapper: "1.9.0-33.5",
    /** apache/spark:4.0.3-python3 is Ubuntu 22.04 (eclipse-temurin:17-jammy): Python 3.10. Driver and executors must share it. */
    python: "3.10",
    /** JupyterHub of z2jh 4.4.0's hub image (jupyterhub/zero-to-jupyterhub-k8s 4.4.0 images/hub/requirements.txt). */
    jupyterhub: "5.5.0",
} as const;

/** Jars the Spark image bakes into /opt/spark/jars (Maven Central coordinates), so no job resolves packages at submit time. */
export const SPARK_JARS = [
    `org.apache.sedona:sedona-spark-shaded-4.0_${SPARK_LINE.scala}:${SPARK_LINE.sedona}`,
    `org.datasyslab:geotools-wrapper:${SPARK_LINE.geotoolsWrapper}`,
    `org.apache.hadoop:hadoop-aws:${SPARK_LINE.hadoop}`,
    `software.amazon.awssdk:bundle:${SPARK_LINE.awsSdkV2}`,
] as const;

/**
 * Longhorn's replica scheduling settings, set explicitly on the release and
 * used by config validation to check that the stack's volumes fit the storage
 * nodes. Values are Longhorn 1.12.1's own defaults (longhorn/longhorn-manager
 * v1.12.1 types/setting.go); the rule they feed is ReplicaScheduler.IsSchedulableToDisk
 * (scheduler/replica_scheduler.go): a replica fits a disk while the scheduled
 * total stays within (max - reserved) x overProvisioning%, and the disk keeps
 * more than minimalAvailable% free. Replicas of one volume never share a node
 * (replicaSoftAntiAffinity false).
 */
export const LONGHORN_SCHEDULING = {
    storageReservedPercentageForDefaultDisk: 30,
    storageMinimalAvailablePercentage: 25,
    storageOverProvisioningPercentage: 100,
    replicaSoftAntiAffinity: false,
} as const;

/**
 * Share of a data volume that its filesystem keeps for itself: the volume is
 * formatted ext4 with no root reserve (-m 0) and one inode per MiB (-T largefile),
 * which leaves the journal (at most 1 GiB) and a small metadata share; 2% is a
 * margin, not a measurement.
 */
export const DATA_DISK_FS_OVERHEAD_PERCENT = 2;

/** Where Longhorn keeps its default disk on a node (its defaultDataPath); the dedicated data volume is mounted there. */
export const LONGHORN_DATA_PATH = "/var/lib/longhorn";

/** Fixed-size Longhorn volumes the apps ask for (GiB). */
export const APP_VOLUMES_GB = {
    /** openEO's single ZooKeeper member. */
    zookeeper: 5,
    /** Each JupyterHub user's home, created at first login: not counted in the capacity check (the user count is unknown). */
    jupyterUser: 10,
} as const;

/**
 * Defaults of `geoplatform:backup` (docs/restore.md). K3s' own defaults are a snapshot every 12 hours and 5 kept
 * (k3s-io/k3s pkg/cli/cmds/server.go, etcd-snapshot-schedule-cron, etcd-snapshot-retention); these keep a week at 6 hours.
 */
export const BACKUP_DEFAULTS = {
    etcdSnapshotCron: "0 */6 * * *",
    etcdSnapshotRetention: 28,
    longhornSnapshotCron: "0 * * * *",
    longhornSnapshotRetain: 24,
    longhornBackupCron: "0 3 * * *",
    longhornBackupRetain: 14,
    postgresRetention: "30d",
    postgresServerName: "geoplatform-pg",
    minioMirrorCron: "30 3 * * *",
    noncurrentVersionDays: 30,
} as const;

/** Folders of the backup bucket, one per kind of backup. */
export const BACKUP_FOLDERS = { etcd: "k3s-etcd", longhorn: "longhorn", postgres: "postgres", minio: "minio" } as const;

/**
 * The ports Alertmanager may reach outside the cluster (its egress NetworkPolicy, platform/network/flows.ts): HTTPS
 * for webhooks and Slack, SMTP submission (STARTTLS) and SMTPS for e-mail. Validation refuses receivers elsewhere,
 * whose notifications the policy would drop.
 */
export const ALERT_RECEIVER_PORTS = { https: 443, smtp: [587, 465] } as const;
