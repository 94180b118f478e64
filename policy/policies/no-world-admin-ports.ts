import { ResourceValidationPolicy } from "@pulumi/policy";
import { WORLD_CIDRS } from "./common";

const ADMIN_PORTS = [22, 6443];

/** SSH and the Kubernetes API must never be reachable from the whole internet. */
export const noWorldAdminPorts: ResourceValidationPolicy = {
    name: "no-world-admin-ports",
    description: "SSH (22) and the Kubernetes API (6443) are not open to 0.0.0.0/0 or ::/0.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        let cidr: string | undefined;
        let from: number | undefined;
        let to: number | undefined;
        if (args.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
            cidr = args.props.cidrIpv4 ?? args.props.cidrIpv6;
            [from, to] = [args.props.fromPort, args.props.toPort];
        } else if (args.type === "openstack:networking/secGroupRule:SecGroupRule") {
            if (args.props.direction !== "ingress") args.notApplicable("egress rule");
            cidr = args.props.remoteIpPrefix;
            [from, to] = [args.props.portRangeMin, args.props.portRangeMax];
        } else {
            args.notApplicable("not a security group rule");
        }
        if (!cidr || !WORLD_CIDRS.includes(cidr)) return;
        const open = ADMIN_PORTS.filter((port) => from === undefined || to === undefined || (from <= port && port <= to));
        if (open.length > 0) {
            reportViolation(
                `Port ${open.join(" and ")} is open to ${cidr}. Restrict the rule to geoplatform:adminCidrs (only the bastion takes SSH and API traffic); ` +
                    "geoplatform:allowWorldAdminAccess exists for throw-away stacks only.",
            );
        }
    },
};
