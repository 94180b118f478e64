import { ResourceValidationPolicy } from "@pulumi/policy";

const ENFORCE = "pod-security.kubernetes.io/enforce";

/**
 * Namespaces that may admit privileged pods, with why (platform/namespaces.ts): Traefik binds
 * host ports 80/443, Longhorn runs privileged node agents, the node exporter reads the host.
 */
export const PRIVILEGED_NAMESPACES = ["traefik", "longhorn-system", "monitoring"];

/** Without an enforce label a namespace admits privileged pods; `privileged` says so out loud, and only where needed. */
export const namespacePodSecurity: ResourceValidationPolicy = {
    name: "namespace-pod-security",
    description: "Namespaces carry a Pod Security Admission enforce label; only allow-listed ones enforce privileged.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== "kubernetes:core/v1:Namespace") args.notApplicable("not a Namespace");
        const level = args.props.metadata?.labels?.[ENFORCE];
        const name = args.props.metadata?.name;
        if (!["restricted", "baseline", "privileged"].includes(level)) {
            reportViolation(
                `Namespace ${args.name} has no ${ENFORCE} label. Set restricted, or baseline/privileged with the reason documented in platform/namespaces.ts.`,
            );
        } else if (level === "privileged" && !PRIVILEGED_NAMESPACES.includes(name)) {
            reportViolation(
                `Namespace ${name ?? args.name} enforces privileged, which admits host access and privileged containers. Use baseline or restricted; ` +
                    `only ${PRIVILEGED_NAMESPACES.join(", ")} need privileged (policy/policies/namespace-pod-security.ts).`,
            );
        }
    },
};
