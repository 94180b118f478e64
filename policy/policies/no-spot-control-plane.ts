import { ResourceValidationPolicy } from "@pulumi/policy";
import { AWS_INSTANCE } from "./common";

/** A spot reclaim of a server takes an etcd member (and maybe quorum) away. */
export const noSpotControlPlane: ResourceValidationPolicy = {
    name: "no-spot-control-plane",
    description: "K3s server (control-plane) instances never run on spot capacity.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== AWS_INSTANCE) args.notApplicable("not an EC2 instance");
        const server = args.props.tags?.["geoplatform:role"] === "server";
        if (server && args.props.instanceMarketOptions?.marketType === "spot") {
            reportViolation(
                `${args.name} is a control-plane server on spot capacity. Remove spot: true from the server node group; use spot for agent groups only.`,
            );
        }
    },
};
