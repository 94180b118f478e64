import { ResourceValidationPolicy } from "@pulumi/policy";
import { AWS_INSTANCE } from "./common";

/**
 * A pod's packets to 169.254.169.254 cross one more hop (the node's bridge) than the node's own:
 * with a PUT response hop limit of 1 the IMDSv2 token never reaches a pod, so pods cannot use the
 * node's IAM role. IMDSv1 (no token) is aws-instance-hardening's to refuse.
 */
export const noImdsFromPods: ResourceValidationPolicy = {
    name: "no-imds-from-pods",
    description: "EC2 instances keep the metadata service out of pods' reach: IMDSv2 with a PUT response hop limit of 1, or the endpoint disabled.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== AWS_INSTANCE) args.notApplicable("not an EC2 instance");
        const options = args.props.metadataOptions ?? {};
        if (options.httpEndpoint === "disabled") return;
        const limit = options.httpPutResponseHopLimit;
        if (limit !== 1) {
            reportViolation(
                `${args.name} has metadataOptions.httpPutResponseHopLimit ${limit ?? "unset (the AMI's default, 2 on some)"}, so pods reach the instance metadata service and the node's credentials. Set it to 1.`,
            );
        }
    },
};
