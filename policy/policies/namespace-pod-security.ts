import { ResourceValidationPolicy } from "@pulumi/policy";

const ENFORCE = "pod-security.kubernetes.io/enforce";

/** Without an enforce label a namespace admits privileged pods. */
export const namespacePodSecurity: ResourceValidationPolicy = {
    name: "namespace-pod-security",
    description: "Namespaces carry a Pod Security Admission enforce label.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== "kubernetes:core/v1:Namespace") args.notApplicable("not a Namespace");
        const level = args.props.metadata?.labels?.[ENFORCE];
        if (!["restricted", "baseline", "privileged"].includes(level)) {
            reportViolation(`Namespace ${args.name} has no ${ENFORCE} label. Set restricted, or baseline/privileged with the reason documented in platform/namespaces.ts.`);
        }
    },
};
