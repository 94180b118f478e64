import { ResourceValidationPolicy } from "@pulumi/policy";
import { WORLD_CIDRS } from "./common";
import { adminPortsOpened, openingsOf, RULE_TYPES } from "./openings";

const FIX =
    "Restrict the rule to geoplatform:adminCidrs (only the bastion takes SSH and API traffic); geoplatform:allowWorldAdminAccess exists for throw-away stacks only.";

/** SSH, the Kubernetes API and the kubelet must never be reachable from the whole internet, nor every port at once. */
export const noWorldAdminPorts: ResourceValidationPolicy = {
    name: "no-world-admin-ports",
    description: "SSH (22), the Kubernetes API (6443), the kubelet (10250) and all protocols/ports are not open to 0.0.0.0/0 or ::/0.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!RULE_TYPES.includes(args.type)) args.notApplicable("not a security group rule");
        for (const o of openingsOf(args.type, args.props)) {
            for (const cidr of o.cidrs.filter((c) => WORLD_CIDRS.includes(c))) {
                if (o.allProtocols) {
                    reportViolation(`All protocols and ports are open to ${cidr}. Open only the ports a service needs (80/443 on the ingress nodes). ${FIX}`);
                    continue;
                }
                const open = adminPortsOpened(o);
                if (open.length > 0) reportViolation(`Port ${open.join(", ")} ${open.length === 1 ? "is" : "are"} open to ${cidr}. ${FIX}`);
            }
        }
    },
};
