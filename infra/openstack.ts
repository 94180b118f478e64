import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import { GeoplatformConfig, OpenStackConfig } from "../config/types";
import { bastionUserData } from "./bastion";
import { dataDiskUserData } from "./data-disk";
import { firewallRules, ruleResourceName, ruleSources, SecurityGroupName } from "./firewall";
import { GroupSequencer, ignoredChanges, replacedOnChanges } from "./lifecycle";
import { bastionName, planNodes, PlannedNode } from "./node-plan";
import { sshKey } from "./ssh-key";
import { CloudNode, CloudNodes } from "./types";

/**
 * The cluster's VMs on an OpenStack cloud (dev): one private network behind a
 * router, nodes with ports in the right security groups, floating IPs only on
 * the bastion and the ingress nodes.
 */
export class OpenStackCluster extends pulumi.ComponentResource {
    readonly clusterNodes: CloudNodes;

    constructor(name: string, config: GeoplatformConfig, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:infra:OpenStackCluster", name, {}, opts);
        const os = config.openstack as OpenStackConfig;
        const provider = new openstack.Provider(`${name}-openstack`, { region: os.region }, { parent: this });
        const child = { parent: this, provider };

        const externalNetwork = openstack.networking.getNetworkOutput({ name: os.externalNetwork, external: true }, child);

        const network = new openstack.networking.Network(`${name}-net`, { name: `${name}-net`, adminStateUp: true }, child);
        const subnet = new openstack.networking.Subnet(
            `${name}-subnet`,
            { name: `${name}-subnet`, networkId: network.id, cidr: os.networkCidr, ipVersion: 4, dnsNameservers: os.dnsNameservers },
            child,
        );
        const router = new openstack.networking.Router(`${name}-router`, { name: `${name}-router`, externalNetworkId: externalNetwork.id }, child);
        const routerInterface = new openstack.networking.RouterInterface(`${name}-router-if`, { routerId: router.id, subnetId: subnet.id }, child);

        const groups = this.securityGroups(name, config, child);
        const key = sshKey(name, { parent: this });
        const keypair = new openstack.compute.Keypair(`${name}-key`, { name: `${name}-key`, publicKey: key.publicKeyOpenssh }, child);

        const sequencer = new GroupSequencer();

        /** `edge` (bastion or ingress) marks the VMs that get a floating IP; the policy pack checks it. `group` is unset for the bastion. */
        const server = (
            vmName: string,
            role: string,
            sizeName: string,
            diskGb: number,
            securityGroups: SecurityGroupName[],
            edge?: "bastion" | "ingress",
            userData?: pulumi.Input<string>,
            group?: string,
        ) => {
            const port = new openstack.networking.Port(
                `${vmName}-port`,
                {
                    name: `${vmName}-port`,
                    networkId: network.id,
                    fixedIps: [{ subnetId: subnet.id }],
                    securityGroupIds: securityGroups.map((g) => groups[g].id),
                },
                child,
            );
            const instance = new openstack.compute.Instance(
                vmName,
                {
                    name: vmName,
                    flavorName: os.flavors[sizeName],
                    keyPair: keypair.name,
                    availabilityZone: os.availabilityZone,
                    networks: [{ port: port.id }],
                    // Boot from a volume so the disk size is ours to choose, not the flavor's.
                    blockDevices: [
                        { uuid: os.imageId, sourceType: "image", destinationType: "volume", volumeSize: diskGb, bootIndex: 0, deleteOnTermination: true },
                    ],
                    userData,
                    metadata: { "geoplatform-stack": pulumi.getStack(), "geoplatform-role": role },
                },
                {
                    ...child,
                    // Only the bastion's user data needs the internet at boot; nodes wait for egress at setup time.
                    dependsOn: [...(group ? [] : [routerInterface]), ...(group ? sequencer.after(group) : [])],
                    ignoreChanges: ignoredChanges("openstack", !group, config.rollNodes.includes(vmName)),
                    replaceOnChanges: replacedOnChanges("openstack", config.rollNodes.includes(vmName)),
                    // The port outlives the VM: Nova unbinds, not deletes, a port it was given (deallocate_for_instance
                    // in nova/network/neutron.py), and refuses to bind it to a second server while the first holds it.
                    // So a replacement deletes the old VM first, then boots the new one on the same port and address.
                    deleteBeforeReplace: true,
                },
            );
            if (group) sequencer.record(group, instance);
            const floatingIp = edge
                ? new openstack.networking.FloatingIp(
                      `${vmName}-fip`,
                      { pool: os.externalNetwork, portId: port.id, tags: [`geoplatform-edge=${edge}`] },
                      { ...child, dependsOn: [routerInterface] },
                  )
                : undefined;
            // The addresses belong to the port, which a replacement keeps; they carry no dependency on the VM, so a
            // replaced VM does not make the engine replace what only connects to its address (the forwarder's list, node configs).
            return { instance, privateIp: port.allFixedIps.apply((ips) => ips[0]), publicIp: floatingIp?.address };
        };

        const nodes: CloudNode[] = planNodes(config, pulumi.getStack()).map((n: PlannedNode) => {
            const sgs: SecurityGroupName[] = ["nodes"];
            if (n.spec.role === "server") sgs.push("servers");
            if (n.spec.ingress) sgs.push("ingress");
            // Longhorn's replicas live on a volume of their own, which outlives the VM: protect refuses any plan that would
            // replace or delete it, retainOnDelete keeps it in Cinder even once unprotected (docs/k3s.md, "Day 2").
            const dataDisk =
                n.spec.dataDiskGb > 0
                    ? new openstack.blockstorage.Volume(
                          `${n.name}-data`,
                          {
                              name: `${n.name}-data`,
                              size: n.spec.dataDiskGb,
                              // Growing dataDiskGb extends the volume in place, attached (Cinder extend, online).
                              enableOnlineResize: true,
                              metadata: { "geoplatform-stack": pulumi.getStack(), "geoplatform-node-group": n.group, "geoplatform-purpose": "longhorn" },
                          },
                          { ...child, protect: true, retainOnDelete: true },
                      )
                    : undefined;
            const userData = dataDisk ? dataDiskUserData("openstack", dataDisk.id) : undefined;
            const vm = server(n.name, n.spec.role, n.spec.size, n.spec.diskGb, sgs, n.spec.ingress ? "ingress" : undefined, userData, n.group);
            // A replaced VM (deleted first) gets the volume through a new attachment, made after the old one is gone.
            const attachment = dataDisk
                ? new openstack.compute.VolumeAttach(
                      `${n.name}-data`,
                      { instanceId: vm.instance.id, volumeId: dataDisk.id },
                      { ...child, deleteBeforeReplace: true },
                  )
                : undefined;
            return {
                name: n.name,
                group: n.group,
                role: n.spec.role,
                privateIp: vm.privateIp,
                publicIp: vm.publicIp,
                sshUser: os.sshUser,
                labels: n.labels,
                taints: n.taints,
                resource: vm.instance,
                instanceId: vm.instance.id,
                dataVolume: attachment,
            };
        });

        const bastion = server(bastionName(pulumi.getStack()), "bastion", os.bastionSize, 20, ["bastion"], "bastion", bastionUserData());
        const bastionIp = bastion.publicIp as pulumi.Output<string>;

        this.clusterNodes = {
            cloud: "openstack",
            nodes,
            bastion: { host: bastionIp, user: os.sshUser, port: 22 },
            forwarder: { resource: bastion.instance, instanceId: bastion.instance.id },
            apiEndpoint: bastionIp,
            // The bastion's port outlives it (deleted first, booted on the same port): a stable registration address.
            registrationAddress: bastion.privateIp,
            egress: [routerInterface],
            sshPrivateKey: pulumi.secret(key.privateKeyOpenssh),
        };
        this.registerOutputs({ bastionIp, nodeNames: nodes.map((n) => n.name) });
    }

    private securityGroups(
        name: string,
        config: GeoplatformConfig,
        opts: pulumi.CustomResourceOptions,
    ): Record<SecurityGroupName, openstack.networking.SecGroup> {
        const names: SecurityGroupName[] = ["bastion", "nodes", "servers", "ingress"];
        const groups = Object.fromEntries(
            names.map((g) => [g, new openstack.networking.SecGroup(`${name}-sg-${g}`, { name: `${name}-${g}`, description: `geoplatform ${g}` }, opts)]),
        ) as Record<SecurityGroupName, openstack.networking.SecGroup>;

        for (const rule of firewallRules(config)) {
            for (const source of ruleSources(rule)) {
                new openstack.networking.SecGroupRule(
                    ruleResourceName(name, rule, source),
                    {
                        securityGroupId: groups[rule.group].id,
                        description: rule.description,
                        direction: "ingress",
                        ethertype: "cidr" in source && source.cidr.includes(":") ? "IPv6" : "IPv4",
                        protocol: rule.protocol,
                        portRangeMin: rule.fromPort,
                        portRangeMax: rule.toPort,
                        ...("cidr" in source ? { remoteIpPrefix: source.cidr } : { remoteGroupId: groups[source.group].id }),
                    },
                    opts,
                );
            }
        }
        return groups;
    }
}
