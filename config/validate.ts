import { isIP } from "node:net";
import { checkBackup, checkRestore } from "./backup";
import { Checker, ConfigError } from "./checker";
import {
    ALERT_RECEIVER_PORTS,
    builtImages,
    DATA_DISK_FS_OVERHEAD_PERCENT,
    DEFAULT_IMAGE_REGISTRY,
    IMAGES,
    LONGHORN_SCHEDULING,
    OPENEO_STAC_COLLECTION,
} from "./catalog";
import { PROCESSING_TOLERATION } from "../platform/placement";
import { Cidr, cidrsOverlap, hasHostBits, isNonPublicHost, networkOf, parseCidr, worldCoveredBy } from "./net";
import { longhornFit, longhornVolumes, storageGroups } from "./storage";
import { bastionName, planNodes } from "../infra/node-plan";
import {
    AlertingConfig,
    AlertReceiver,
    APP_NAMES,
    AppName,
    AppsConfig,
    AwsConfig,
    CloudName,
    GeoplatformConfig,
    LONGHORN_DISK_LABEL,
    NODE_GROUP_LABEL,
    NodeGroupConfig,
    OpenStackConfig,
    PlatformConfig,
    PROCESSING_GROUP,
    StacCollection,
    Taint,
    TaintEffect,
} from "./types";

/** Raw config as read from a stack: `geoplatform:` prefix stripped, JSON values parsed. */
export type RawConfig = Record<string, unknown>;

const TOP_LEVEL_KEYS = [
    "cloud",
    "domain",
    "acmeEmail",
    "adminCidrs",
    "allowWorldAdminAccess",
    "k3sVersion",
    "nodeGroups",
    "platform",
    "apps",
    "openstack",
    "aws",
    "rollNodes",
    "backup",
    "restore",
    "imageRegistry",
] as const;
const NODE_GROUP_KEYS = ["role", "count", "size", "diskGb", "labels", "taints", "spot", "ingress", "dataDiskGb"] as const;
const OPENSTACK_KEYS = [
    "region",
    "imageId",
    // Removed (looked up "most recent" on every run); kept known so checkPinnedImages reports it with its own message.
    "image",
    "flavors",
    "externalNetwork",
    "availabilityZone",
    "networkCidr",
    "dnsNameservers",
    "sshUser",
    "bastionSize",
] as const;
// `amiLookup` is removed; kept known so checkPinnedImages reports it with its own message.
const AWS_KEYS = ["region", "ami", "amiLookup", "instanceTypes", "availabilityZones", "vpcCidr", "sshUser", "bastionSize"] as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const K3S_VERSION = /^v1\.\d+\.\d+\+k3s\d+$/;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const LABEL_PREFIX = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TAINT_EFFECTS: readonly TaintEffect[] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
/** Groups the platform layer places its shared services on. */
export const REQUIRED_GROUPS = ["system"] as const;
/** K3s' default pod and service networks (k3s-io/k3s pkg/cli/cmds/server.go); the program does not change them. */
export const K3S_CIDRS = { "pod (cluster-cidr)": "10.42.0.0/16", "service (service-cidr)": "10.43.0.0/16" } as const;

function isLabelKey(key: string): boolean {
    const parts = key.split("/");
    if (parts.length > 2) return false;
    const name = parts[parts.length - 1];
    const prefix = parts.length === 2 ? parts[0] : undefined;
    return LABEL_NAME.test(name) && (prefix === undefined || LABEL_PREFIX.test(prefix));
}

function isLabelValue(value: string): boolean {
    return value === "" || LABEL_NAME.test(value);
}

/** kubelet refuses to self-assign labels in these namespaces, so K3s would fail to register the node. */
function isReservedLabelKey(key: string): boolean {
    const prefix = key.includes("/") ? key.split("/")[0] : "";
    return /(^|\.)(kubernetes\.io|k8s\.io)$/.test(prefix);
}

function checkLabels(c: Checker, key: string, raw: unknown): Record<string, string> {
    const labels = c.stringMap(key, raw, { optional: true });
    for (const [k, v] of Object.entries(labels)) {
        if (!isLabelKey(k)) c.fail(`${key}`, k, "a Kubernetes label key ([prefix/]name, name up to 63 alphanumerics, '-', '_' or '.')");
        else if (k === NODE_GROUP_LABEL) c.fail(`${key}.${k}`, v, `no value: ${NODE_GROUP_LABEL} is set to the group name automatically`);
        else if (isReservedLabelKey(k)) c.fail(`${key}`, k, "a label key outside the kubernetes.io and k8s.io namespaces (kubelet rejects those)");
        if (!isLabelValue(v)) c.fail(`${key}.${k}`, v, "a Kubernetes label value (up to 63 alphanumerics, '-', '_' or '.')");
    }
    return labels;
}

function checkTaints(c: Checker, key: string, raw: unknown): Taint[] {
    return c.array(key, raw, { optional: true }).map((item, i) => {
        const t = c.object(`${key}[${i}]`, item);
        c.noUnknownKeys(`${key}[${i}]`, t, ["key", "value", "effect"]);
        const taintKey = c.string(`${key}[${i}].key`, t.key);
        if (taintKey && !isLabelKey(taintKey)) c.fail(`${key}[${i}].key`, taintKey, "a Kubernetes taint key ([prefix/]name)");
        const value = t.value === undefined ? "" : c.string(`${key}[${i}].value`, t.value, { fallback: "" });
        if (!isLabelValue(value)) c.fail(`${key}[${i}].value`, value, "a taint value (up to 63 alphanumerics, '-', '_' or '.')");
        const effect = c.oneOf(`${key}[${i}].effect`, t.effect, TAINT_EFFECTS);
        return { key: taintKey, value, effect };
    });
}

function checkNodeGroup(c: Checker, cloud: CloudName | undefined, name: string, raw: unknown, sizes: Record<string, string>): NodeGroupConfig {
    const key = `nodeGroups.${name}`;
    const g = c.object(key, raw);
    c.noUnknownKeys(key, g, NODE_GROUP_KEYS);
    if (!DNS_LABEL.test(name) || name.length > 20) c.fail(key, name, "group names of lowercase letters, digits and '-', at most 20 characters");
    const role = c.oneOf(`${key}.role`, g.role, ["server", "agent"] as const);
    const count = c.integer(`${key}.count`, g.count, { min: 0, max: 50 });
    const size = c.string(`${key}.size`, g.size);
    if (size && Object.keys(sizes).length > 0 && !(size in sizes)) {
        c.fail(
            `${key}.size`,
            size,
            `a size defined in geoplatform:${cloud}.${cloud === "aws" ? "instanceTypes" : "flavors"} (${Object.keys(sizes).join(", ")})`,
        );
    }
    const diskGb = c.integer(`${key}.diskGb`, g.diskGb, { min: 20, max: 16384, fallback: 50 });
    const labels = checkLabels(c, `${key}.labels`, g.labels);
    const taints = checkTaints(c, `${key}.taints`, g.taints);
    const spot = c.boolean(`${key}.spot`, g.spot, false);
    if (spot && cloud !== undefined && cloud !== "aws") c.fail(`${key}.spot`, spot, "false: spot capacity exists on AWS only");
    if (spot && role === "server") c.fail(`${key}.spot`, spot, "false: a spot reclaim would take a control-plane member (and etcd quorum) away");
    const ingress = c.boolean(`${key}.ingress`, g.ingress, false);
    const dataDiskGb = c.integer(`${key}.dataDiskGb`, g.dataDiskGb, { min: 0, max: 16384, fallback: 0 });
    return { role, count, size, diskGb, labels, taints, spot, ingress, dataDiskGb };
}

function checkGroups(c: Checker, cloud: CloudName | undefined, raw: unknown, sizes: Record<string, string>): Record<string, NodeGroupConfig> {
    const obj = c.object("nodeGroups", raw);
    if (c.failed("nodeGroups")) return {};
    if (Object.keys(obj).length === 0) {
        c.fail("nodeGroups", obj, `a server group and the agent groups ${[...REQUIRED_GROUPS, PROCESSING_GROUP].join(" and ")} (see Pulumi.dev.yaml)`);
        return {};
    }
    const groups: Record<string, NodeGroupConfig> = {};
    for (const [name, g] of Object.entries(obj)) groups[name] = checkNodeGroup(c, cloud, name, g, sizes);
    // The checks across groups below skip what a group's own check already refused.
    const refused = (name: string, field: string) => c.failed(`nodeGroups.${name}.${field}`);

    for (const required of REQUIRED_GROUPS) {
        const g = groups[required];
        const key = `nodeGroups.${required}`;
        const why = "the platform's shared services run there";
        if (!g) c.fail(key, obj[required], `an agent group with count >= 1: ${why}`);
        else if (g.role !== "agent" && !refused(required, "role")) c.fail(`${key}.role`, g.role, `agent: ${why}`);
        else if (g.count < 1 && !refused(required, "count")) c.fail(`${key}.count`, g.count, `at least 1: ${why}`);
    }
    const servers = Object.entries(groups).filter(([name, g]) => g.role === "server" && !refused(name, "role"));
    if (servers.length > 1 || (servers.length === 0 && !Object.keys(groups).some((name) => refused(name, "role")))) {
        c.fail(
            "nodeGroups",
            servers.map(([n]) => n),
            "exactly one group with role: server",
        );
    } else if (servers.length === 1) {
        const [name, g] = servers[0];
        if ((g.count < 1 || g.count % 2 === 0) && !refused(name, "count")) {
            c.fail(`nodeGroups.${name}.count`, g.count, "an odd number of servers (1, 3, 5...) so etcd keeps quorum");
        }
    }
    const ingressGroups = Object.entries(groups).filter(([, g]) => g.ingress && g.count > 0);
    const ingressUnknown = REQUIRED_GROUPS.some((r) => !groups[r]) || Object.keys(groups).some((name) => refused(name, "ingress") || refused(name, "count"));
    if (ingressGroups.length === 0 && !ingressUnknown)
        c.fail("nodeGroups", "no group with ingress: true", "at least one non-empty group with ingress: true to receive HTTP(S)");
    for (const [name, g] of ingressGroups) {
        if (g.role === "server" && !refused(name, "role")) c.fail(`nodeGroups.${name}.ingress`, true, "false: keep public traffic off the control plane");
    }
    checkTaintsTolerated(c, groups);
    return groups;
}

/** A taint that keeps pods without a matching toleration off a node (PreferNoSchedule only discourages). */
const isHardTaint = (t: Taint) => t.effect === "NoSchedule" || t.effect === "NoExecute";

/**
 * The platform's charts place their services on `system` without tolerations, and tolerate on
 * `processing` exactly PROCESSING_TOLERATION (Longhorn's manager, so pods there can mount volumes,
 * and the node exporter): other hard taints leave those pods Pending.
 */
function checkTaintsTolerated(c: Checker, groups: Record<string, NodeGroupConfig>): void {
    const system = groups.system;
    if (system && system.taints.some(isHardTaint) && !c.failed("nodeGroups.system.taints")) {
        c.fail("nodeGroups.system.taints", system.taints, "no NoSchedule/NoExecute taints: the platform's shared services run on system and tolerate none");
    }
    const t = PROCESSING_TOLERATION;
    (groups[PROCESSING_GROUP]?.taints ?? []).forEach((taint, i) => {
        const key = `nodeGroups.${PROCESSING_GROUP}.taints[${i}]`;
        if (!isHardTaint(taint) || c.failed(key) || (taint.key === t.key && taint.value === t.value && taint.effect === t.effect)) return;
        c.fail(
            key,
            taint,
            `${t.key}=${t.value}:${t.effect}, the only taint the platform tolerates there (Longhorn's manager, node exporter: platform/placement.ts)`,
        );
    });
}

/**
 * Longhorn puts each replica of a volume on a different node (replica-soft-anti-affinity defaults
 * to false, longhorn/longhorn-manager types/setting.go; the platform keeps it), so a volume with
 * more replicas than storage nodes never becomes healthy.
 */
function checkLonghornReplicas(c: Checker, platform: PlatformConfig, groups: Record<string, NodeGroupConfig>): void {
    const names = Object.keys(groups);
    // Without its system group (where the storage usually is) the count says nothing new.
    if (
        names.length === 0 ||
        REQUIRED_GROUPS.some((r) => !groups[r]) ||
        c.failed("platform.longhornReplicas", ...names.flatMap((n) => [`nodeGroups.${n}.labels`, `nodeGroups.${n}.count`]))
    )
        return;
    const storage = storageGroups(groups);
    const nodes = storage.reduce((n, [, g]) => n + g.count, 0);
    if (nodes === 0) {
        c.fail(
            "nodeGroups",
            "no node labelled for Longhorn",
            `a non-empty group labelled ${LONGHORN_DISK_LABEL}: "true": Longhorn keeps replicas only there (createDefaultDiskLabeledNodes)`,
        );
    } else if (platform.longhornReplicas > nodes) {
        const where = storage.map(([name, g]) => `${name}: ${g.count}`).join(", ");
        c.fail(
            "platform.longhornReplicas",
            platform.longhornReplicas,
            `at most ${nodes}, the storage nodes (groups labelled ${LONGHORN_DISK_LABEL}: "true": ${where}); each replica needs its own node`,
        );
    }
}

/** A CIDR of the config, parsed by node:net: refused when malformed or carrying host bits. */
function checkCidr(c: Checker, key: string, cidr: string, expected: string): Cidr | undefined {
    if (!cidr) return undefined;
    const parsed = parseCidr(cidr);
    if (!parsed) c.fail(key, cidr, expected);
    else if (hasHostBits(parsed)) c.fail(key, cidr, `a network address without host bits: ${networkOf(parsed)}`);
    else return parsed;
    return undefined;
}

/** The node network must not share addresses with the pods' and Services' networks, or routing to one of them breaks. */
function checkNodeNetwork(c: Checker, key: string, cidr: string, expected: string): void {
    const parsed = checkCidr(c, key, cidr, expected);
    if (!parsed) return;
    const overlapped = Object.entries(K3S_CIDRS).filter(([, k3s]) => cidrsOverlap(parsed, parseCidr(k3s) as Cidr));
    if (overlapped.length > 0) {
        c.fail(key, cidr, `a network that does not overlap K3s' ${overlapped.map(([name, k3s]) => `${name} network ${k3s}`).join(" and ")}`);
    }
}

function checkAdminCidrs(c: Checker, raw: unknown, allowWorld: boolean): string[] {
    const adminCidrs = c.array("adminCidrs", raw, { minLength: 1 }).map((v, i) => {
        const cidr = c.string(`adminCidrs[${i}]`, v);
        const parsed = checkCidr(c, `adminCidrs[${i}]`, cidr, "a CIDR such as 203.0.113.0/24");
        if (parsed && parsed.prefix === 0 && !allowWorld) {
            c.fail(
                `adminCidrs[${i}]`,
                cidr,
                "a narrower CIDR: SSH and the Kubernetes API would be open to the world (set geoplatform:allowWorldAdminAccess: true to accept that)",
            );
        }
        return cidr;
    });
    if (!allowWorld && !c.failed("adminCidrs")) {
        const world = worldCoveredBy(adminCidrs.map((cidr) => parseCidr(cidr) as Cidr));
        if (world.length > 0) {
            const spaces = world.map((f) => (f === "ipv4" ? "IPv4 (0.0.0.0/0)" : "IPv6 (::/0)")).join(" and ");
            c.fail(
                "adminCidrs",
                adminCidrs,
                `CIDRs that together do not cover all of ${spaces}: SSH and the Kubernetes API would be open to the world (set geoplatform:allowWorldAdminAccess: true to accept that)`,
            );
        }
    }
    return adminCidrs;
}

// ---- Day 2: VM images pinned by id ----
// Both providers replace a VM when its image changes (aws_instance `ami` and the
// boot volume's `block_device.uuid` are ForceNew), so the image is an id written
// in the stack file, never a "most recent" lookup that moves when a vendor publishes.

const AMI_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkAmi(c: Checker, a: Record<string, unknown>): string {
    if (a.amiLookup !== undefined) {
        c.fail(
            "aws.amiLookup",
            a.amiLookup,
            "nothing: the newest-AMI lookup is removed; pin geoplatform:aws.ami to an id (aws ec2 describe-images ... --query 'Images[].ImageId')",
        );
    }
    return c.string("aws.ami", a.ami, {
        pattern: AMI_ID,
        expected: "a pinned AMI id (ami- and 8 or 17 hex digits, e.g. ami-0123456789abcdef0); a new image is rolled deliberately, see docs/k3s.md",
    });
}

function checkOpenStackImageId(c: Checker, o: Record<string, unknown>): string {
    if (o.image !== undefined) {
        c.fail(
            "openstack.image",
            o.image,
            "nothing: images are pinned by id; set geoplatform:openstack.imageId (openstack image show -f value -c id '<name>')",
        );
    }
    return c.string("openstack.imageId", o.imageId, {
        pattern: UUID,
        expected: "a pinned Glance image id (a lowercase UUID); a new image is rolled deliberately, see docs/k3s.md",
    });
}

function checkOpenStack(c: Checker, raw: unknown): OpenStackConfig | undefined {
    const o = c.object("openstack", raw);
    if (c.failed("openstack")) return undefined;
    c.noUnknownKeys("openstack", o, OPENSTACK_KEYS);
    const flavors = c.stringMap("openstack.flavors", o.flavors);
    const networkCidr = c.string("openstack.networkCidr", o.networkCidr, { fallback: "10.10.0.0/16" });
    checkNodeNetwork(c, "openstack.networkCidr", networkCidr, "an IPv4 CIDR such as 10.10.0.0/16");
    if (!c.failed("openstack.networkCidr") && parseCidr(networkCidr)?.family !== "ipv4")
        c.fail("openstack.networkCidr", networkCidr, "an IPv4 CIDR such as 10.10.0.0/16");
    const dns = c.array("openstack.dnsNameservers", o.dnsNameservers, { optional: true });
    const bastionSize = c.string("openstack.bastionSize", o.bastionSize);
    if (bastionSize && !(bastionSize in flavors))
        c.fail("openstack.bastionSize", bastionSize, `a key of geoplatform:openstack.flavors (${Object.keys(flavors).join(", ")})`);
    return {
        region: c.string("openstack.region", o.region),
        imageId: checkOpenStackImageId(c, o),
        flavors,
        externalNetwork: c.string("openstack.externalNetwork", o.externalNetwork),
        availabilityZone: c.string("openstack.availabilityZone", o.availabilityZone),
        networkCidr,
        dnsNameservers: dns.map((d, i) => {
            const address = c.string(`openstack.dnsNameservers[${i}]`, d);
            if (address && isIP(address) === 0) c.fail(`openstack.dnsNameservers[${i}]`, address, "an IP address such as 9.9.9.9");
            return address;
        }),
        sshUser: c.string("openstack.sshUser", o.sshUser, { fallback: "ubuntu" }),
        bastionSize,
    };
}

function checkAws(c: Checker, raw: unknown): AwsConfig | undefined {
    const a = c.object("aws", raw);
    if (c.failed("aws")) return undefined;
    c.noUnknownKeys("aws", a, AWS_KEYS);
    const region = c.string("aws.region", a.region, { pattern: /^[a-z]{2}(-[a-z]+)+-\d$/, expected: "an AWS region such as eu-central-1" });
    const zones = c.array("aws.availabilityZones", a.availabilityZones, { minLength: 1 }).map((z, i) => {
        const zone = c.string(`aws.availabilityZones[${i}]`, z);
        if (zone && region && !(zone.startsWith(region) && zone.length > region.length)) {
            c.fail(`aws.availabilityZones[${i}]`, zone, `a zone of region ${region} (e.g. ${region}a)`);
        }
        return zone;
    });
    if (zones.length > 8) c.fail("aws.availabilityZones", zones, "at most 8 zones");
    const vpcCidr = c.string("aws.vpcCidr", a.vpcCidr, { fallback: "10.20.0.0/16" });
    const vpc = parseCidr(vpcCidr);
    // AWS takes VPC blocks from /16 to /28; the subnet plan (infra/aws.ts) carves /20s.
    if (!vpc || vpc.family !== "ipv4" || vpc.prefix < 16 || vpc.prefix > 24) c.fail("aws.vpcCidr", vpcCidr, "an IPv4 CIDR from /16 to /24");
    else checkNodeNetwork(c, "aws.vpcCidr", vpcCidr, "an IPv4 CIDR from /16 to /24");
    const ami = checkAmi(c, a);
    const instanceTypes = c.stringMap("aws.instanceTypes", a.instanceTypes);
    const bastionSize = c.string("aws.bastionSize", a.bastionSize);
    if (bastionSize && !(bastionSize in instanceTypes))
        c.fail("aws.bastionSize", bastionSize, `a key of geoplatform:aws.instanceTypes (${Object.keys(instanceTypes).join(", ")})`);
    return {
        region,
        ami,
        instanceTypes,
        availabilityZones: zones,
        vpcCidr,
        sshUser: c.string("aws.sshUser", a.sshUser, { fallback: "ubuntu" }),
        bastionSize,
    };
}

const PLATFORM_KEYS = ["letsEncrypt", "longhornReplicas", "postgres", "objectStorage", "prometheus", "logs", "alerting"] as const;
const CNPG_CRON = /^(\S+\s+){5}\S+$/;
const DURATION = /^\d+[smhdwy]$/;

function checkPlatform(c: Checker, raw: unknown): PlatformConfig {
    const p = c.object("platform", raw, { optional: true });
    c.noUnknownKeys("platform", p, PLATFORM_KEYS);
    const pg = c.object("platform.postgres", p.postgres, { optional: true });
    c.noUnknownKeys("platform.postgres", pg, ["instances", "maxConnections", "storageGb", "backupSchedule"]);
    const s3 = c.object("platform.objectStorage", p.objectStorage, { optional: true });
    c.noUnknownKeys("platform.objectStorage", s3, ["storageGb"]);
    const prom = c.object("platform.prometheus", p.prometheus, { optional: true });
    c.noUnknownKeys("platform.prometheus", prom, ["retention", "storageGb"]);
    return {
        letsEncrypt: c.oneOf("platform.letsEncrypt", p.letsEncrypt, ["staging", "production"] as const, "staging"),
        longhornReplicas: c.integer("platform.longhornReplicas", p.longhornReplicas, { min: 1, max: 5, fallback: 1 }),
        postgres: {
            instances: c.integer("platform.postgres.instances", pg.instances, { min: 1, max: 9, fallback: 1 }),
            maxConnections: c.integer("platform.postgres.maxConnections", pg.maxConnections, { min: 100, max: 10000, fallback: 1024 }),
            storageGb: c.integer("platform.postgres.storageGb", pg.storageGb, { min: 1, fallback: 20 }),
            backupSchedule: c.string("platform.postgres.backupSchedule", pg.backupSchedule, {
                fallback: "",
                pattern: CNPG_CRON,
                expected: 'a six-field cron (seconds first) such as "0 0 2 * * *", or nothing for no backups',
            }),
        },
        objectStorage: { storageGb: c.integer("platform.objectStorage.storageGb", s3.storageGb, { min: 1, fallback: 50 }) },
        prometheus: {
            retention: c.string("platform.prometheus.retention", prom.retention, {
                fallback: "7d",
                pattern: DURATION,
                expected: "a Prometheus duration such as 15d",
            }),
            storageGb: c.integer("platform.prometheus.storageGb", prom.storageGb, { min: 1, fallback: 20 }),
        },
        logs: checkLogs(c, p.logs),
        alerting: checkAlerting(c, p.alerting),
    };
}

/** Loki deletes by whole index periods (24h, tsdb schema v13): a retention in days or weeks. */
const LOG_RETENTION = /^[1-9]\d*[dw]$/;

function checkLogs(c: Checker, raw: unknown): PlatformConfig["logs"] {
    const logs = c.object("platform.logs", raw, { optional: true });
    c.noUnknownKeys("platform.logs", logs, ["retention", "replicas", "storageGb"]);
    return {
        retention: c.string("platform.logs.retention", logs.retention, {
            fallback: "7d",
            pattern: LOG_RETENTION,
            expected: "whole days or weeks such as 14d or 4w (Loki deletes logs by 24h index periods)",
        }),
        replicas: c.integer("platform.logs.replicas", logs.replicas, { min: 1, max: 5, fallback: 1 }),
        storageGb: c.integer("platform.logs.storageGb", logs.storageGb, { min: 1, fallback: 10 }),
    };
}

const RECEIVER_KINDS = ["email", "webhook", "slack"] as const;
const HOST_PORT = /^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?:\d{1,5}$/;

/**
 * A receiver URL Alertmanager can reach: https on port 443 outside the cluster, the only web egress its NetworkPolicy
 * allows (an in-cluster Service or another port would time out silently). The URL is a secret: never echoed.
 */
function checkReceiverUrl(c: Checker, key: string, raw: string, what: string): void {
    let url: URL | undefined;
    try {
        url = new URL(raw);
    } catch {
        url = undefined;
    }
    if (!url || url.protocol !== "https:") {
        c.fail(key, "(secret)", what);
        return;
    }
    const port = url.port === "" ? ALERT_RECEIVER_PORTS.https : Number(url.port);
    if (port !== ALERT_RECEIVER_PORTS.https || isNonPublicHost(url.hostname) || /(\.svc|\.cluster\.local)$/.test(url.hostname)) {
        c.fail(key, "(secret)", `${what} to a public host on port ${ALERT_RECEIVER_PORTS.https}: Alertmanager's egress NetworkPolicy allows only that`);
    }
}

function checkReceiver(c: Checker, key: string, raw: unknown): AlertReceiver {
    const r = c.object(key, raw);
    c.noUnknownKeys(key, r, ["name", ...RECEIVER_KINDS]);
    const name = c.string(`${key}.name`, r.name, { pattern: DNS_LABEL, expected: "a receiver name of lowercase letters, digits and '-'" });
    if (name === "null") c.fail(`${key}.name`, name, 'another name: "null" is the receiver that drops Watchdog and InfoInhibitor');
    const kinds = RECEIVER_KINDS.filter((k) => r[k] !== undefined);
    if (kinds.length !== 1) {
        c.fail(key, kinds.length === 0 ? r : kinds, `exactly one of ${RECEIVER_KINDS.join(", ")} per receiver`);
        return { name };
    }
    const kind = kinds[0];
    const at = `${key}.${kind}`;
    const o = c.object(at, r[kind]);
    const credential = (field: string) =>
        c.string(`${at}.${field}`, o[field], {
            expected: `a non-empty string, set as a secret (pulumi config set --secret --path 'geoplatform:platform.${at.slice("platform.".length)}.${field}')`,
        });
    if (kind === "email") {
        c.noUnknownKeys(at, o, ["to", "from", "smarthost", "authUsername", "authPassword", "requireTls"]);
        const email = {
            to: c.string(`${at}.to`, o.to, { pattern: EMAIL, expected: "an e-mail address" }),
            from: c.string(`${at}.from`, o.from, { pattern: EMAIL, expected: "an e-mail address" }),
            smarthost: c.string(`${at}.smarthost`, o.smarthost, { pattern: HOST_PORT, expected: "an SMTP relay as host:port such as smtp.example.org:587" }),
            requireTls: c.boolean(`${at}.requireTls`, o.requireTls, true),
        } as NonNullable<AlertReceiver["email"]>;
        const smtpPorts: readonly number[] = ALERT_RECEIVER_PORTS.smtp;
        const [relayHost, relayPort] = (email.smarthost ?? "").split(":");
        if (email.smarthost && HOST_PORT.test(email.smarthost) && (!smtpPorts.includes(Number(relayPort)) || isNonPublicHost(relayHost))) {
            c.fail(
                `${at}.smarthost`,
                email.smarthost,
                `a public relay on port ${smtpPorts.join(" or ")}: Alertmanager's egress NetworkPolicy allows only those for e-mail`,
            );
        }
        if ((o.authUsername === undefined) !== (o.authPassword === undefined)) {
            const missing = o.authUsername === undefined ? "authUsername" : "authPassword";
            c.fail(`${at}.${missing}`, undefined, "authUsername and authPassword together, or neither for a relay without authentication");
        } else if (o.authUsername !== undefined) {
            email.authUsername = c.string(`${at}.authUsername`, o.authUsername);
            email.authPassword = credential("authPassword");
        }
        return { name, email };
    }
    if (kind === "webhook") {
        c.noUnknownKeys(at, o, ["url"]);
        const url = credential("url");
        if (url) checkReceiverUrl(c, `${at}.url`, url, "an https URL");
        return { name, webhook: { url } };
    }
    c.noUnknownKeys(at, o, ["apiUrl", "channel"]);
    const apiUrl = credential("apiUrl");
    if (apiUrl) checkReceiverUrl(c, `${at}.apiUrl`, apiUrl, "an https URL (a Slack incoming webhook)");
    return { name, slack: { apiUrl, channel: c.string(`${at}.channel`, o.channel, { pattern: /^[#@]\S+$/, expected: "a channel such as #alerts" }) } };
}

/** Receivers from stack config; with none, every alert would go to the chart's `null` receiver, i.e. nowhere. */
function checkAlerting(c: Checker, raw: unknown): AlertingConfig {
    const a = c.object("platform.alerting", raw);
    if (c.failed("platform.alerting")) return { receivers: [], defaultReceiver: "" };
    c.noUnknownKeys("platform.alerting", a, ["receivers", "defaultReceiver", "criticalReceiver"]);
    const receivers = c
        .array("platform.alerting.receivers", a.receivers, { minLength: 1 })
        .map((r, i) => checkReceiver(c, `platform.alerting.receivers[${i}]`, r));
    const names: string[] = [];
    receivers.forEach((r, i) => {
        if (r.name && names.includes(r.name)) c.fail(`platform.alerting.receivers[${i}].name`, r.name, "a name no other receiver has");
        names.push(r.name);
    });
    const refersToReceiver = (field: "defaultReceiver" | "criticalReceiver", optional: boolean): string | undefined => {
        const key = `platform.alerting.${field}`;
        if (optional && a[field] === undefined) return undefined;
        const name = c.string(key, a[field], { expected: `the name of a receiver (${names.join(", ")})` });
        if (name && !c.failed("platform.alerting.receivers") && !names.includes(name)) c.fail(key, name, `the name of a receiver (${names.join(", ")})`);
        return name;
    };
    const defaultReceiver = refersToReceiver("defaultReceiver", false) ?? "";
    const criticalReceiver = refersToReceiver("criticalReceiver", true);
    return { receivers, defaultReceiver, ...(criticalReceiver === undefined ? {} : { criticalReceiver }) };
}

/** Loki's replicas keep a hard anti-affinity by host (the chart's default): each needs its own system node. */
function checkLogReplicas(c: Checker, platform: PlatformConfig, groups: Record<string, NodeGroupConfig>): void {
    const system = groups.system;
    if (!system || c.failed("platform.logs.replicas", "nodeGroups.system.count")) return;
    if (platform.logs.replicas > system.count) {
        c.fail(
            "platform.logs.replicas",
            platform.logs.replicas,
            `at most ${system.count}, the system nodes: each Loki replica needs its own node (required pod anti-affinity by hostname)`,
        );
    }
}

/** `name:tag` (or `name@sha256:...`) with an explicit, non-`latest` tag. */
const PINNED_IMAGE = /^[a-z0-9]([a-z0-9._\/:-]*[a-z0-9])?(:(?!latest$)[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|@sha256:[a-f0-9]{64})$/;

/** A registry host (optional port) and path, lower case (ghcr.io refuses upper-case names), no tag, no trailing slash. */
const IMAGE_REGISTRY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)+$/;

/** Settings (besides `enabled`) each app accepts: key -> default image; the images this repository builds come from `registry`. */
function appImageSettings(registry: string): Record<AppName, Record<string, string>> {
    const built = builtImages(registry);
    return {
        jupyterhub: { singleuserImage: built.jupyterSingleuser },
        spark: { image: built.spark },
        openeo: { image: IMAGES.openeo, zookeeperImage: IMAGES.zookeeper },
        geocube: {
            apiserverImage: built.geocubeApiserver,
            consolidaterImage: built.geocubeConsolidater,
            autoscalerImage: built.geocubeAutoscaler,
        },
        argo: {},
    };
}

/** Size settings (GiB) some apps accept: key -> default. */
const APP_SIZE_SETTINGS: Partial<Record<AppName, Record<string, number>>> = {
    geocube: { storageGb: 100 },
};

/** `https://<host>/<path>/collections/<id>`: a collection of a STAC API, which openEO searches for items (load_stac). */
const STAC_COLLECTION_URL = /^https:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._~-]+)*\/collections\/[A-Za-z0-9._-]+$/;
const STAC_BAND = /^[A-Za-z0-9._-]{1,64}$/;

function checkStacCollection(c: Checker, key: string, raw: unknown): StacCollection {
    const obj = c.object(key, raw, { optional: true });
    c.noUnknownKeys(key, obj, ["url", "bands"]);
    const url = c.string(`${key}.url`, obj.url, {
        fallback: OPENEO_STAC_COLLECTION.url,
        pattern: STAC_COLLECTION_URL,
        expected: "the https URL of a STAC API collection, https://<api>/collections/<id>",
    });
    if (obj.bands === undefined) return { url, bands: [...OPENEO_STAC_COLLECTION.bands] };
    const bands = c
        .array(`${key}.bands`, obj.bands, { minLength: 1 })
        .map((b, i) =>
            c.string(`${key}.bands[${i}]`, b, { pattern: STAC_BAND, expected: "an asset key of the collection's items (letters, digits, '.', '_', '-')" }),
        );
    return { url, bands };
}

function checkApps(c: Checker, raw: unknown, rawRegistry: unknown, nodeGroups: Record<string, NodeGroupConfig>): { enabledApps: AppName[]; apps: AppsConfig } {
    const registry = c.string("imageRegistry", rawRegistry, {
        fallback: DEFAULT_IMAGE_REGISTRY,
        pattern: IMAGE_REGISTRY,
        expected: "a lower-case registry and path without tag or trailing slash, such as ghcr.io/<owner> (where .github/workflows push)",
    });
    const settingsOf = appImageSettings(c.failed("imageRegistry") ? DEFAULT_IMAGE_REGISTRY : registry);
    const obj = c.object("apps", raw, { optional: true });
    c.noUnknownKeys("apps", obj, APP_NAMES);
    const apps = Object.fromEntries(
        APP_NAMES.map((app) => {
            const key = `apps.${app}`;
            const settings = c.object(key, obj[app], { optional: true });
            const images = settingsOf[app];
            const sizes = APP_SIZE_SETTINGS[app] ?? {};
            const extra = app === "openeo" ? ["stacCollection"] : [];
            c.noUnknownKeys(key, settings, ["enabled", ...Object.keys(images), ...Object.keys(sizes), ...extra]);
            const checked: Record<string, unknown> = { enabled: c.boolean(`${key}.enabled`, settings.enabled, true) };
            for (const [name, fallback] of Object.entries(images)) {
                checked[name] = c.string(`${key}.${name}`, settings[name], {
                    fallback,
                    pattern: PINNED_IMAGE,
                    expected: "a container image with a pinned tag (name:tag, not latest) or digest",
                });
            }
            for (const [name, fallback] of Object.entries(sizes)) checked[name] = c.integer(`${key}.${name}`, settings[name], { min: 1, fallback });
            if (app === "openeo") checked.stacCollection = checkStacCollection(c, `${key}.stacCollection`, settings.stacCollection);
            return [app, checked];
        }),
    ) as unknown as AppsConfig;
    const enabledApps = APP_NAMES.filter((app) => apps[app].enabled);
    // openEO runs as a SparkApplication: it needs the operator (and its CRDs) the spark app installs.
    if (apps.openeo.enabled && !apps.spark.enabled) c.fail("apps.openeo.enabled", true, "false, or apps.spark.enabled true: openEO runs on the Spark operator");
    const processing = nodeGroups[PROCESSING_GROUP];
    if (
        enabledApps.length > 0 &&
        Object.keys(nodeGroups).length > 0 &&
        !c.failed(`nodeGroups.${PROCESSING_GROUP}.role`, `nodeGroups.${PROCESSING_GROUP}.count`, ...APP_NAMES.map((app) => `apps.${app}.enabled`))
    ) {
        const why = `the enabled apps (${enabledApps.join(", ")}) run their user and batch pods there`;
        const key = `nodeGroups.${PROCESSING_GROUP}`;
        if (!processing) c.fail(key, processing, `an agent group: ${why}`);
        else if (processing.role !== "agent") c.fail(`${key}.role`, processing.role, `agent: ${why}`);
        else if (processing.count < 1) c.fail(`${key}.count`, processing.count, `at least 1 node: ${why}`);
    }
    return { enabledApps, apps };
}

// ---- Day 2: Longhorn's storage nodes hold the stack's volumes ----
// Each storage node has a dedicated data volume (`dataDiskGb`); the volumes the
// stack asks for, times Longhorn's replica count, must fit those disks under
// Longhorn's own scheduling rule (config/catalog.ts LONGHORN_SCHEDULING), or
// their releases wait for a volume that Longhorn never places.

function checkLonghornStorage(c: Checker, config: GeoplatformConfig): void {
    const label = `${LONGHORN_DISK_LABEL}: "true"`;
    for (const [name, g] of Object.entries(config.nodeGroups)) {
        const storage = g.labels[LONGHORN_DISK_LABEL] === "true";
        if (storage && g.count > 0 && g.dataDiskGb === 0) {
            c.fail(
                `nodeGroups.${name}.dataDiskGb`,
                undefined,
                `the size (GiB) of the dedicated Longhorn data volume each node of this group gets (it is labelled ${label}); Longhorn would otherwise fill the root disk`,
            );
        } else if (!storage && g.dataDiskGb > 0) {
            c.fail(`nodeGroups.${name}.dataDiskGb`, g.dataDiskGb, `0: only groups labelled ${label} hold Longhorn replicas and get a data volume`);
        }
    }
    // checkLonghornReplicas has made sure there are at least as many storage nodes as replicas.
    const groups = storageGroups(config.nodeGroups);
    const nodes = groups.reduce((n, [, g]) => n + g.count, 0);
    const replicas = config.platform.longhornReplicas;
    if (groups.some(([, g]) => g.dataDiskGb === 0)) return;
    const volumes = longhornVolumes(config);
    const listed = volumes.map((v) => `${v.name} ${v.count > 1 ? `${v.count}x` : ""}${v.sizeGb}`).join(", ");
    for (const [name, g] of groups) {
        const fit = longhornFit(config, g.dataDiskGb);
        if (fit.missingGb > 0) {
            c.fail(
                `nodeGroups.${name}.dataDiskGb`,
                g.dataDiskGb,
                `at least ${fit.minimumDiskGb}: each storage node must hold ${fit.perNodeGb} GiB of replicas (${listed} GiB, ${replicas} replica(s) over ${nodes} storage node(s)), ` +
                    `Longhorn schedules ${fit.usablePercent}% of a data volume (${LONGHORN_SCHEDULING.storageReservedPercentageForDefaultDisk}% reserved, ${LONGHORN_SCHEDULING.storageMinimalAvailablePercentage}% kept free, ${DATA_DISK_FS_OVERHEAD_PERCENT}% filesystem), ` +
                    `which is ${fit.usableGb} GiB: ${fit.missingGb} GiB missing per node`,
            );
        }
    }
}

/**
 * `rollNodes`: names of VMs the program creates in this stack (`<stack>-<group>-<n>`, `<stack>-bastion`), each once. An
 * unknown name would roll nothing and hide the mistake. Servers: never the only one (its replacement boots with
 * `cluster-init` and nothing to join, a new empty cluster with a new CA, while the state still lists every Kubernetes
 * object). At most one VM per node group and run: servers, as etcd keeps quorum with one of three away, not two; any
 * group, as its VMs are replaced one after the other, the next before the previous runs K3s again (two ingress
 * nodes or two holders of Longhorn replicas out at once). Whether another server
 * already runs is not in the stack file: config/roll-guard.ts checks it against the last update. The first server and
 * the bastion only alone: the other VMs' drains before their replacement connect to the first server through the
 * bastion, with the connection stored in the state (docs/k3s.md, "The first server and the bastion roll alone").
 */
function checkRollNodes(c: Checker, raw: unknown, stack: string, nodeGroups: Record<string, NodeGroupConfig>): string[] {
    const list = c.array("rollNodes", raw, { optional: true });
    // Without valid groups the VM names are unknown.
    if (c.failed("nodeGroups")) return [];
    const planned = planNodes({ nodeGroups } as GeoplatformConfig, stack);
    const vms = [...planned.map((n) => n.name), bastionName(stack)];
    const servers = planned.filter((n) => n.spec.role === "server");
    // Why a VM must roll alone: every other VM's release (platform/k3s/index.ts `<node>-k3s-release`) connects through
    // the bastion to the first server.
    const hub = (name: string) =>
        name === bastionName(stack)
            ? "every node's drain before its replacement (<node>-k3s-release) connects through the bastion"
            : name === servers[0]?.name
              ? "every other VM's drain before its replacement (<node>-k3s-release) runs on the first server"
              : undefined;
    const listed = new Set(list.filter((item): item is string => typeof item === "string" && vms.includes(item)));
    const names: string[] = [];
    // The VM rolled in each node group so far.
    const rolledInGroup = new Map<string, { key: string; name: string }>();
    list.forEach((item, i) => {
        const key = `rollNodes[${i}]`;
        const name = c.string(key, item, { expected: "a VM name" });
        if (!name) return;
        const server = servers.find((n) => n.name === name);
        const group = planned.find((n) => n.name === name)?.group;
        const sameGroup = group ? rolledInGroup.get(group) : undefined;
        const others = [...listed].filter((n) => n !== name);
        const why = hub(name);
        if (!vms.includes(name)) c.fail(key, name, `the name of a VM of stack ${stack} (${vms.join(", ")})`);
        else if (names.includes(name)) c.fail(key, name, "each VM once");
        else if (server && servers.length === 1) {
            c.fail(
                key,
                name,
                `not the stack's only server: its replacement would start a new, empty cluster (cluster-init, nothing to join) and every Kubernetes object would be lost; ` +
                    `go to 3 servers first (nodeGroups.${server.group}.count: 3) and roll them one per run, or rebuild from an etcd snapshot with geoplatform:restore.k3s ` +
                    `(docs/restore.md, "The whole cluster into new VMs")`,
            );
        } else if (why && others.length > 0) {
            c.fail(
                key,
                name,
                `alone, in its own run (rollNodes also lists ${others.join(", ")}): ${why}, and a delete dials the connection stored ` +
                    `in the state, the old VM's address and host key; replaced in the same run, this VM is gone or changed when those drains ` +
                    `run, they fail, and every later up fails on them (docs/k3s.md, "The first server and the bastion roll alone"); ` +
                    `roll ${name} first, then the others`,
            );
        } else if (server && sameGroup) {
            c.fail(key, name, `one server per run (${sameGroup.key} is ${sameGroup.name}): etcd keeps quorum with one server away, not two`);
        } else if (sameGroup) {
            c.fail(
                key,
                name,
                `one VM of node group ${group} per run (${sameGroup.key} is ${sameGroup.name}): the group's VMs are replaced one after the other, ` +
                    `the next as soon as the previous VM exists, before it runs K3s again, so two of its nodes would be out at once`,
            );
        } else {
            if (group) rolledInGroup.set(group, { key, name });
            names.push(name);
        }
    });
    return names;
}

/** Validates raw stack config of stack `stack` (which names its VMs); throws one ConfigError that lists every problem. */
export function validateConfig(raw: RawConfig, stack: string): GeoplatformConfig {
    const c = new Checker();
    c.noUnknownKeys("", raw, TOP_LEVEL_KEYS);

    const cloud = c.oneOf("cloud", raw.cloud, ["openstack", "aws"] as const);
    // With no valid cloud, neither cloud block nor the sizes it defines can be checked.
    const known = c.failed("cloud") ? undefined : cloud;
    const openstack = known === "openstack" ? checkOpenStack(c, raw.openstack) : undefined;
    const aws = known === "aws" ? checkAws(c, raw.aws) : undefined;
    const sizes = openstack?.flavors ?? aws?.instanceTypes ?? {};

    const domain = c.string("domain", raw.domain, { pattern: DNS_NAME, expected: "a lowercase DNS name such as geo.example.org" });
    const acmeEmail = c.string("acmeEmail", raw.acmeEmail, { pattern: EMAIL, expected: "an e-mail address for Let's Encrypt notices" });
    const allowWorldAdminAccess = c.boolean("allowWorldAdminAccess", raw.allowWorldAdminAccess, false);
    const adminCidrs = checkAdminCidrs(c, raw.adminCidrs, allowWorldAdminAccess);
    const k3sVersion = c.string("k3sVersion", raw.k3sVersion, { pattern: K3S_VERSION, expected: "a pinned K3s release such as v1.33.5+k3s1" });
    const nodeGroups = checkGroups(c, known, raw.nodeGroups, sizes);
    const platform = checkPlatform(c, raw.platform);
    checkLonghornReplicas(c, platform, nodeGroups);
    checkLogReplicas(c, platform, nodeGroups);
    const { enabledApps, apps } = checkApps(c, raw.apps, raw.imageRegistry, nodeGroups);
    const rollNodes = checkRollNodes(c, raw.rollNodes, stack, nodeGroups);
    const backup = checkBackup(c, raw.backup, known);
    const restore = checkRestore(c, raw.restore, backup);

    if (c.problems.length > 0) throw new ConfigError(c.problems);
    const config: GeoplatformConfig = {
        cloud,
        domain,
        acmeEmail,
        adminCidrs,
        allowWorldAdminAccess,
        k3sVersion,
        nodeGroups,
        platform,
        enabledApps,
        apps,
        openstack,
        aws,
        rollNodes,
        backup,
        restore,
    };
    // Checks across keys, on a config whose every key is well-formed (no follow-on errors).
    checkLonghornStorage(c, config);
    if (c.problems.length > 0) throw new ConfigError(c.problems);
    return config;
}
