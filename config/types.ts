// The validated shape of a stack's `geoplatform:*` configuration.
// Pulumi.yaml documents every key; config/validate.ts enforces these types.

export type CloudName = "openstack" | "aws";
export type NodeRole = "server" | "agent";
export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

export interface Taint {
    key: string;
    value: string;
    effect: TaintEffect;
}

export interface NodeGroupConfig {
    /** `server` runs the K3s control plane (exactly one group); `agent` runs workloads. */
    role: NodeRole;
    /** Number of VMs. Odd for the server group, so etcd keeps quorum. */
    count: number;
    /** Symbolic size, mapped to a flavor (OpenStack) or instance type (AWS) by the cloud block. */
    size: string;
    /** Root disk size in GiB. */
    diskGb: number;
    /** Extra Kubernetes labels; `geoplatform.io/node-group=<group>` is always added. */
    labels: Record<string, string>;
    taints: Taint[];
    /** AWS agents only: run on spot capacity. */
    spot: boolean;
    /** Nodes that receive public HTTP(S): a public address and 80/443 open to the world. */
    ingress: boolean;
    /** Size (GiB) of each node's dedicated Longhorn data volume, mounted on Longhorn's data path; 0 for none. Storage groups only. */
    dataDiskGb: number;
}

export interface OpenStackConfig {
    region: string;
    /** Glance image id (a UUID): pinned, so a newly published image never replaces a running VM. */
    imageId: string;
    /** Size name → flavor name. */
    flavors: Record<string, string>;
    /** Name of the provider network that floating IPs come from. */
    externalNetwork: string;
    availabilityZone: string;
    networkCidr: string;
    dnsNameservers: string[];
    sshUser: string;
    /** Size (a key of `flavors`) of the bastion VM. */
    bastionSize: string;
}

export interface AwsConfig {
    region: string;
    /** AMI id, pinned: a newly published AMI never replaces a running VM. */
    ami: string;
    /** Size name → EC2 instance type. */
    instanceTypes: Record<string, string>;
    availabilityZones: string[];
    vpcCidr: string;
    sshUser: string;
    bastionSize: string;
}

export interface PlatformConfig {
    /** Let's Encrypt environment of the Ingress certificates: staging while a stack is being set up. */
    letsEncrypt: "staging" | "production";
    /** Longhorn replicas per volume (and of its default StorageClass). */
    longhornReplicas: number;
    postgres: {
        instances: number;
        /** PostgreSQL max_connections; Geocube needs 1024. */
        maxConnections: number;
        storageGb: number;
        /** CloudNativePG six-field cron for base backups to object storage; empty for none. */
        backupSchedule: string;
    };
    objectStorage: { storageGb: number };
    prometheus: { retention: string; storageGb: number };
    /** Loki: how long logs are kept, its replicas (one per system node at most) and each replica's volume (WAL, index cache). */
    logs: { retention: string; replicas: number; storageGb: number };
    alerting: AlertingConfig;
}

/** One Alertmanager receiver: exactly one of e-mail, webhook (Matrix and chat bridges, incident tools) or Slack. */
export interface AlertReceiver {
    name: string;
    /** authPassword is a credential: set with `pulumi config set --secret --path`, it reaches Alertmanager as a Secret file. */
    email?: { to: string; from: string; smarthost: string; authUsername?: string; authPassword?: string; requireTls: boolean };
    /** The URL is a credential (it often embeds a token). */
    webhook?: { url: string };
    /** The incoming-webhook URL is a credential. */
    slack?: { apiUrl: string; channel: string };
}

/** Where alerts go: every alert to defaultReceiver, critical ones to criticalReceiver too when set; Watchdog and InfoInhibitor nowhere. */
export interface AlertingConfig {
    receivers: AlertReceiver[];
    defaultReceiver: string;
    criticalReceiver?: string;
}

/** The geospatial workloads of the apps layer; each can be switched on or off per stack. */
export const APP_NAMES = ["jupyterhub", "spark", "openeo", "geocube", "argo"] as const;
export type AppName = (typeof APP_NAMES)[number];

/** Per-app settings (`geoplatform:apps.<app>`); images are `name:tag`, pinned, defaults in config/catalog.ts IMAGES. */
export interface AppsConfig {
    jupyterhub: { enabled: boolean; singleuserImage: string };
    spark: { enabled: boolean; image: string };
    openeo: { enabled: boolean; image: string; zookeeperImage: string };
    geocube: { enabled: boolean; apiserverImage: string; consolidaterImage: string; autoscalerImage: string; storageGb: number };
    argo: { enabled: boolean };
}

/** Node group the apps' batch and user pods run on (tainted; pods tolerate its taints). */
export const PROCESSING_GROUP = "processing";

export interface GeoplatformConfig {
    cloud: CloudName;
    /** Base DNS domain; every UI is served as <service>.<domain>. */
    domain: string;
    acmeEmail: string;
    /** CIDRs allowed to reach SSH (bastion) and the Kubernetes API. */
    adminCidrs: string[];
    /** Explicit override needed to accept 0.0.0.0/0 or ::/0 in adminCidrs. */
    allowWorldAdminAccess: boolean;
    k3sVersion: string;
    nodeGroups: Record<string, NodeGroupConfig>;
    platform: PlatformConfig;
    /** Apps switched on in this stack (`geoplatform:apps.<app>.enabled`). */
    enabledApps: AppName[];
    apps: AppsConfig;
    openstack?: OpenStackConfig;
    aws?: AwsConfig;
    /**
     * VMs (by name, e.g. `prod-control-plane-1`) whose image and user data are not ignored on this run, so a new image id
     * replaces exactly them: the deliberate image roll, one node per run (docs/k3s.md, "A new OS image").
     */
    rollNodes: string[];
}

/** Nodes with this label set to "true" hold Longhorn replicas (createDefaultDiskLabeledNodes): the storage nodes. */
export const LONGHORN_DISK_LABEL = "node.longhorn.io/create-default-disk";

/** Label every node carries, naming its group; workloads select on it. */
export const NODE_GROUP_LABEL = "geoplatform.io/node-group";
