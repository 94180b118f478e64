import { ResourceValidationPolicy } from "@pulumi/policy";
import { AWS_INSTANCE } from "./common";

const EDGE_ROLES = ["bastion", "ingress"];

/** Only the bastion and the ingress nodes face the internet; every other node stays private. */
export const publicAddressesOnlyAtEdge: ResourceValidationPolicy = {
    name: "public-addresses-only-at-edge",
    description: "Only the bastion and ingress nodes get public addresses.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        let edge: string | undefined;
        if (args.type === AWS_INSTANCE) {
            if (args.props.associatePublicIpAddress !== true) return;
            edge = args.props.tags?.["geoplatform:edge"];
        } else if (args.type === "openstack:networking/floatingIp:FloatingIp") {
            const tag = (args.props.tags ?? []).find((t: string) => t.startsWith("geoplatform-edge="));
            edge = tag?.split("=")[1];
        } else {
            args.notApplicable("neither an EC2 instance nor a floating IP");
        }
        if (!edge || !EDGE_ROLES.includes(edge)) {
            reportViolation(
                `${args.name} gets a public address but is neither the bastion nor an ingress node. Keep it private and reach it through the bastion, or set ingress: true on its node group if it must serve HTTP(S).`,
            );
        }
    },
};
