import { StackValidationPolicy } from "@pulumi/policy";
import { AWS_INSTANCE, OPENSTACK_INSTANCE } from "./common";

/** etcd keeps quorum only with an odd number of members, and survives a loss only with three or more. */
export const controlPlaneHa: StackValidationPolicy = {
    name: "control-plane-ha",
    description: "The control plane has an odd number of servers, at least 3.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const servers = args.resources.filter(
            (r) =>
                (r.type === AWS_INSTANCE && r.props.tags?.["geoplatform:role"] === "server") ||
                (r.type === OPENSTACK_INSTANCE && r.props.metadata?.["geoplatform-role"] === "server"),
        );
        if (servers.length === 0) args.notApplicable("no K3s server instances in this stack");
        if (servers.length < 3 || servers.length % 2 === 0) {
            reportViolation(
                `The control plane has ${servers.length} server(s). Set the server node group's count to 3 or 5 so embedded etcd survives losing a member.`,
            );
        }
    },
};
