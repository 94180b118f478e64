import * as pulumi from "@pulumi/pulumi";

// What a change to a VM's inputs does on each cloud, from the providers'
// source at the versions geoplatform runs (docs/k3s.md, "Day 2"):
// - @pulumi/aws 7.x bridges terraform-provider-aws, resource aws_instance
//   (internal/service/ec2/ec2_instance.go): ami, key_name, subnet_id,
//   availability_zone, associate_public_ip_address, private_ip,
//   instance_market_options, root_block_device.encrypted ... are ForceNew;
//   user_data is ForceNew only with user_data_replace_on_change, else it and
//   instance_type are changed in place by stopping and starting the instance.
// - @pulumi/openstack 3.15.2 bridges terraform-provider-openstack v1.54.1,
//   openstack_compute_instance_v2 (resource_openstack_compute_instance_v2.go):
//   user_data, key_pair, availability_zone, network (port included) and every
//   block_device field (the boot volume's image uuid and size) are ForceNew;
//   a flavor change is a Nova resize in place.

/**
 * Node inputs that would replace or stop a running VM and that a stack change can move (a new image id, a new key, a
 * zone list change, a group turned ingress, a new data-disk script, a new size, spot turned on or off). An in-place
 * size change stops and starts the VM with no cordon, drain or readiness wait, the next VM of the group as soon as the
 * cloud reports the previous one running (three servers: etcd without quorum). So the image, the user data, the size
 * and the market reach a VM only when it is listed in `geoplatform:rollNodes` (docs/k3s.md).
 */
export const AWS_NODE_IGNORED = [
    "ami",
    "keyName",
    "userData",
    "subnetId",
    "availabilityZone",
    "associatePublicIpAddress",
    "instanceType",
    "instanceMarketOptions",
];
/**
 * The bastion's user data only installs haproxy (its server list comes over SSH, platform/k3s), so it is ignored like a
 * node's: a bastion created with an older user data keeps running. Its `privateIp` is fixed and not ignored: it is the
 * registration address.
 */
export const AWS_BASTION_IGNORED = ["ami", "keyName", "subnetId", "availabilityZone", "userData", "instanceType"];
/** `blockDevices` holds the image id and the root disk size, both ForceNew; a `flavorName` change is a Nova resize (a reboot). */
export const OPENSTACK_NODE_IGNORED = ["blockDevices", "keyPair", "availabilityZone", "userData", "flavorName"];
export const OPENSTACK_BASTION_IGNORED = ["blockDevices", "keyPair", "availabilityZone", "userData", "flavorName"];

/**
 * What a roll lets through to a VM listed in `geoplatform:rollNodes`: its image (`ami`; OpenStack: `blockDevices`, which
 * holds the image id and the boot volume size), its user data, its size and (AWS) its market; REPLACED_WHEN_ROLLED
 * replace it. `pulumi up --replace` alone is not enough: the engine applies ignoreChanges to the goal state before it plans, so a forced replacement would boot the old image (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go, processIgnoreChanges; pulumi/pulumi#2657).
 */
export const ROLLED_FIELDS = {
    aws: ["ami", "userData", "instanceType", "instanceMarketOptions"],
    openstack: ["blockDevices", "userData", "flavorName"],
} as const;

/**
 * What a rolled VM is replaced for rather than changed in place (AWS stops and starts it for a new size or user data,
 * Nova resizes it): a replacement goes through the drained release (platform/k3s `<node>-k3s-release`), the removal of
 * its Node and a fresh install, like a new image; and cloud-init reads user data at a first boot only. OpenStack's
 * `userData` is ForceNew already.
 */
export const REPLACED_WHEN_ROLLED = { aws: ["instanceType", "userData"], openstack: ["flavorName"] } as const;

/** A VM's replaceOnChanges: REPLACED_WHEN_ROLLED while it is rolled, nothing otherwise (ignored then). */
export function replacedOnChanges(cloud: "aws" | "openstack", rolled: boolean): string[] {
    return rolled ? [...REPLACED_WHEN_ROLLED[cloud]] : [];
}

/** A VM's ignoreChanges: its cloud's list for nodes or the bastion, less ROLLED_FIELDS while it is being rolled. */
export function ignoredChanges(cloud: "aws" | "openstack", bastion: boolean, rolled: boolean): string[] {
    const all = cloud === "aws" ? (bastion ? AWS_BASTION_IGNORED : AWS_NODE_IGNORED) : bastion ? OPENSTACK_BASTION_IGNORED : OPENSTACK_NODE_IGNORED;
    const rolledFields: readonly string[] = ROLLED_FIELDS[cloud];
    return rolled ? all.filter((f) => !rolledFields.includes(f)) : all;
}

/**
 * Makes each VM of a group wait for the previous one: Pulumi starts a
 * resource's step only when its dependencies' steps are done, so a change
 * that reaches running VMs anyway (`pulumi up --replace`, a provider-side
 * replacement) comes to one VM of the group at a time, never the whole group
 * (all servers, all ingress nodes) at once. The price is that a group's VMs
 * are also created one after the other.
 */
export class GroupSequencer {
    private readonly last = new Map<string, pulumi.Resource>();

    /** dependsOn for the next VM of `group`. */
    after(group: string): pulumi.Resource[] {
        const previous = this.last.get(group);
        return previous ? [previous] : [];
    }

    record(group: string, vm: pulumi.Resource): void {
        this.last.set(group, vm);
    }
}
