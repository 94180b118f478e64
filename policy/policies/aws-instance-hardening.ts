import { ResourceValidationPolicy } from "@pulumi/policy";
import { AWS_INSTANCE } from "./common";

/** Instance metadata only through session tokens, and no unencrypted root disk. */
export const awsInstanceHardening: ResourceValidationPolicy = {
    name: "aws-instance-hardening",
    description: "EC2 instances require IMDSv2 and encrypt their root volume.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== AWS_INSTANCE) args.notApplicable("not an EC2 instance");
        if (args.props.metadataOptions?.httpTokens !== "required") {
            reportViolation(`${args.name} allows IMDSv1. Set metadataOptions.httpTokens to "required" (IMDSv2), which blocks SSRF-style credential theft.`);
        }
        if (args.props.rootBlockDevice?.encrypted !== true) {
            reportViolation(`${args.name} has an unencrypted root volume. Set rootBlockDevice.encrypted to true.`);
        }
    },
};
