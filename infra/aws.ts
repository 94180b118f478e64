import * as pulumi from "@pulumi/pulumi";
// Only the modules used: the @pulumi/aws index loads all of its ~300 service
// modules, which costs 0.15-0.3 s at every preview.
import * as ebs from "@pulumi/aws/ebs";
import * as ec2 from "@pulumi/aws/ec2";
import { Provider as AwsProvider } from "@pulumi/aws/provider";
import { SecurityGroupEgressRule, SecurityGroupIngressRule } from "@pulumi/aws/vpc";
import { AwsConfig, GeoplatformConfig } from "../config/types";
import { ipv4Subnet } from "../config/net";
import { awsBastionPrivateIp, bastionUserData } from "./bastion";
import { AWS_DATA_DEVICE, dataDiskUserData } from "./data-disk";
import { firewallRules, ruleResourceName, ruleSources, SecurityGroupName } from "./firewall";
import { GroupSequencer, ignoredChanges, replacedOnChanges } from "./lifecycle";
import { bastionName, planNodes } from "./node-plan";
import { sshKey } from "./ssh-key";
import { CloudNode, CloudNodes } from "./types";

/**
 * The cluster's VMs on AWS (prod): a VPC with a public and a private subnet per
 * zone, one NAT gateway for the private nodes' egress, instances with IMDSv2
 * required and encrypted gp3 roots, spot capacity only where a group asks.
 */
export class AwsCluster extends pulumi.ComponentResource {
    readonly clusterNodes: CloudNodes;

    constructor(name: string, config: GeoplatformConfig, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:infra:AwsCluster", name, {}, opts);
        const cfg = config.aws as AwsConfig;
        const stack = pulumi.getStack();
        const tags = { "geoplatform:stack": stack };
        const provider = new AwsProvider(`${name}-aws`, { region: cfg.region, defaultTags: { tags } }, { parent: this });
        const child = { parent: this, provider };

        const vpc = new ec2.Vpc(
            `${name}-vpc`,
            { cidrBlock: cfg.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: `${name}-vpc` } },
            child,
        );
        const igw = new ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id }, child);
        const publicRoutes = new ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }] }, child);

        // Public subnets take the lower half of the VPC, private ones the upper half: /20s in a /16.
        const subnet = (kind: "public" | "private", zone: string, i: number, routeTable: ec2.RouteTable) => {
            const s = new ec2.Subnet(
                `${name}-${kind}-${zone}`,
                {
                    vpcId: vpc.id,
                    availabilityZone: zone,
                    cidrBlock: ipv4Subnet(cfg.vpcCidr, 4, (kind === "public" ? 0 : 8) + i),
                    mapPublicIpOnLaunch: false,
                    tags: { Name: `${name}-${kind}-${zone}` },
                },
                child,
            );
            new ec2.RouteTableAssociation(`${name}-${kind}-${zone}`, { subnetId: s.id, routeTableId: routeTable.id }, child);
            return s;
        };
        const publicSubnets = cfg.availabilityZones.map((zone, i) => subnet("public", zone, i, publicRoutes));
        // One NAT gateway keeps cost down; its zone failing cuts private nodes' egress, not the cluster.
        const natIp = new ec2.Eip(`${name}-nat`, { domain: "vpc" }, child);
        const nat = new ec2.NatGateway(`${name}-nat`, { subnetId: publicSubnets[0].id, allocationId: natIp.id }, { ...child, dependsOn: [igw] });
        const privateRoutes = new ec2.RouteTable(`${name}-private`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }] }, child);
        const privateSubnets = cfg.availabilityZones.map((zone, i) => subnet("private", zone, i, privateRoutes));

        const groups = this.securityGroups(name, config, vpc, child);
        const key = sshKey(name, { parent: this });
        const keyPair = new ec2.KeyPair(`${name}-key`, { keyName: `${name}-key`, publicKey: key.publicKeyOpenssh }, child);
        const sequencer = new GroupSequencer();

        const instance = (
            vmName: string,
            args: {
                size: string;
                diskGb: number;
                zoneIndex: number;
                publicIp: boolean;
                securityGroups: SecurityGroupName[];
                spot: boolean;
                tags: Record<string, string>;
                userData?: pulumi.Input<string>;
                privateIp?: string;
                bastion?: boolean;
                group?: string;
            },
        ) => {
            const zone = args.zoneIndex % cfg.availabilityZones.length;
            const vm = new ec2.Instance(
                vmName,
                {
                    ami: cfg.ami,
                    instanceType: cfg.instanceTypes[args.size],
                    keyName: keyPair.keyName,
                    subnetId: (args.publicIp ? publicSubnets : privateSubnets)[zone].id,
                    associatePublicIpAddress: args.publicIp,
                    privateIp: args.privateIp,
                    vpcSecurityGroupIds: args.securityGroups.map((g) => groups[g].id),
                    // Hop limit 1: a pod's packets cross one more hop than the node's, so no pod gets an IMDSv2 token and the node's role.
                    metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
                    rootBlockDevice: { volumeType: "gp3", volumeSize: args.diskGb, encrypted: true, deleteOnTermination: true },
                    instanceMarketOptions: args.spot
                        ? { marketType: "spot", spotOptions: { spotInstanceType: "one-time", instanceInterruptionBehavior: "terminate" } }
                        : undefined,
                    userData: args.userData,
                    // cloud-init reads user data on first boot only: a rolled bastion (rollNodes) is a new one.
                    userDataReplaceOnChange: args.bastion === true,
                    tags: { Name: vmName, ...args.tags },
                },
                {
                    ...child,
                    // Only the bastion's user data needs the internet at boot; nodes wait for egress at setup time.
                    dependsOn: [...(args.bastion ? [igw, publicRoutes] : []), ...(args.group ? sequencer.after(args.group) : [])],
                    ignoreChanges: ignoredChanges("aws", args.bastion === true, config.rollNodes.includes(vmName)),
                    replaceOnChanges: replacedOnChanges("aws", config.rollNodes.includes(vmName)),
                    // Delete first, as on OpenStack: a replacement created first (the engine's default, pulumi/pulumi
                    // pkg/resource/deploy/step_generator.go, continueStepsFromDiff) would join under the node name its
                    // predecessor's kubelet still holds until the end of the run; and the bastion's fixed private address
                    // cannot be on two instances. The node is drained before (platform/k3s, `<node>-k3s-release`).
                    deleteBeforeReplace: true,
                },
            );
            if (args.group) sequencer.record(args.group, vm);
            return vm;
        };

        // An ingress node's public address, which DNS points at: an Elastic IP of its own, so a replaced VM (a roll, a spot
        // type change) keeps it. protect and retainOnDelete keep the address in AWS across any plan; only its association
        // (every input ForceNew, terraform-provider-aws ec2_eip_association.go) is replaced with the VM, delete-first.
        const ingressIp = (vmName: string, group: string, vm: ec2.Instance) => {
            const eip = new ec2.Eip(
                `${vmName}-ip`,
                { domain: "vpc", tags: { Name: `${vmName}-ip`, "geoplatform:node-group": group, "geoplatform:edge": "ingress" } },
                { ...child, protect: true, retainOnDelete: true },
            );
            // An association needs the VPC's internet gateway attached (the aws.ec2.Eip docs: "EIP may require IGW to exist
            // prior to association"), and nothing else orders it after the gateway: a node VM does not wait for it.
            new ec2.EipAssociation(`${vmName}-ip`, { allocationId: eip.allocationId, instanceId: vm.id }, { ...child, dependsOn: [igw] });
            return eip.publicIp;
        };
        const nodes: CloudNode[] = planNodes(config, stack).map((n) => {
            const sgs: SecurityGroupName[] = ["nodes"];
            if (n.spec.role === "server") sgs.push("servers");
            if (n.spec.ingress) sgs.push("ingress");
            // Longhorn's replicas live on a volume of their own, which outlives the VM: protect refuses any plan that would
            // replace or delete it, retainOnDelete keeps it in AWS even once unprotected (docs/k3s.md, "Day 2").
            const dataDisk =
                n.spec.dataDiskGb > 0
                    ? new ebs.Volume(
                          `${n.name}-data`,
                          {
                              availabilityZone: cfg.availabilityZones[n.index % cfg.availabilityZones.length],
                              size: n.spec.dataDiskGb,
                              type: "gp3",
                              encrypted: true,
                              tags: { Name: `${n.name}-data`, "geoplatform:node-group": n.group, "geoplatform:purpose": "longhorn" },
                          },
                          { ...child, protect: true, retainOnDelete: true },
                      )
                    : undefined;
            const vm = instance(n.name, {
                size: n.spec.size,
                diskGb: n.spec.diskGb,
                zoneIndex: n.index,
                publicIp: n.spec.ingress,
                securityGroups: sgs,
                spot: n.spec.spot,
                group: n.group,
                tags: { "geoplatform:node-group": n.group, "geoplatform:role": n.spec.role, ...(n.spec.ingress ? { "geoplatform:edge": "ingress" } : {}) },
                userData: dataDisk ? dataDiskUserData("aws", dataDisk.id) : undefined,
            });
            // A replaced VM gets the volume through a new attachment: the old one goes first (the old VM stopped, so its
            // filesystem is clean), as an EBS volume attaches to one instance at a time.
            const attachment = dataDisk
                ? new ec2.VolumeAttachment(
                      `${n.name}-data`,
                      { deviceName: AWS_DATA_DEVICE, volumeId: dataDisk.id, instanceId: vm.id, stopInstanceBeforeDetaching: true },
                      { ...child, deleteBeforeReplace: true },
                  )
                : undefined;
            return {
                name: n.name,
                group: n.group,
                role: n.spec.role,
                privateIp: vm.privateIp,
                publicIp: n.spec.ingress ? ingressIp(n.name, n.group, vm) : undefined,
                sshUser: cfg.sshUser,
                labels: n.labels,
                taints: n.taints,
                resource: vm,
                instanceId: vm.id,
                dataVolume: attachment,
            };
        });

        // The registration address: fixed, so neither a replaced server nor a replaced bastion changes any node's config.
        const bastionPrivateIp = awsBastionPrivateIp(ipv4Subnet(cfg.vpcCidr, 4, 0));
        const bastion = instance(bastionName(stack), {
            size: cfg.bastionSize,
            diskGb: 20,
            zoneIndex: 0,
            publicIp: true,
            securityGroups: ["bastion"],
            spot: false,
            tags: { "geoplatform:role": "bastion", "geoplatform:edge": "bastion" },
            userData: bastionUserData(),
            privateIp: bastionPrivateIp,
            bastion: true,
        });
        // An Elastic IP keeps the API endpoint (and the kubeconfig's tls-san) stable across bastion replacement.
        const bastionIp = new ec2.Eip(`${name}-bastion`, { domain: "vpc", instance: bastion.id }, child).publicIp;

        this.clusterNodes = {
            cloud: "aws",
            nodes,
            bastion: { host: bastionIp, user: cfg.sshUser, port: 22 },
            forwarder: { resource: bastion, instanceId: bastion.id },
            apiEndpoint: bastionIp,
            // The configured value, not the instance's output: known in every preview, even while the bastion is replaced.
            registrationAddress: pulumi.output(bastionPrivateIp),
            egress: [nat, privateRoutes, igw],
            sshPrivateKey: pulumi.secret(key.privateKeyOpenssh),
        };
        this.registerOutputs({ bastionIp, nodeNames: nodes.map((n) => n.name) });
    }

    private securityGroups(
        name: string,
        config: GeoplatformConfig,
        vpc: ec2.Vpc,
        opts: pulumi.CustomResourceOptions,
    ): Record<SecurityGroupName, ec2.SecurityGroup> {
        const names: SecurityGroupName[] = ["bastion", "nodes", "servers", "ingress"];
        const groups = Object.fromEntries(
            names.map((g) => [
                g,
                new ec2.SecurityGroup(`${name}-sg-${g}`, { vpcId: vpc.id, description: `geoplatform ${g}`, tags: { Name: `${name}-${g}` } }, opts),
            ]),
        ) as Record<SecurityGroupName, ec2.SecurityGroup>;

        for (const rule of firewallRules(config)) {
            for (const source of ruleSources(rule)) {
                const from =
                    "group" in source
                        ? { referencedSecurityGroupId: groups[source.group].id }
                        : source.cidr.includes(":")
                          ? { cidrIpv6: source.cidr }
                          : { cidrIpv4: source.cidr };
                new SecurityGroupIngressRule(
                    ruleResourceName(name, rule, source),
                    {
                        securityGroupId: groups[rule.group].id,
                        description: rule.description,
                        ipProtocol: rule.protocol,
                        fromPort: rule.fromPort,
                        toPort: rule.toPort,
                        ...from,
                    },
                    opts,
                );
            }
        }
        // Nodes fetch packages, images and charts; outbound stays open as on OpenStack's default groups.
        for (const g of names) {
            new SecurityGroupEgressRule(
                `${name}-sg-${g}-egress`,
                { securityGroupId: groups[g].id, description: "all outbound", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" },
                opts,
            );
        }
        return groups;
    }
}
