import { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, podSpecOf, WORKLOAD_TYPES } from "./common";

/** Namespaces whose node agents legitimately need the host (storage, node metrics). */
export const HOST_ACCESS_ALLOWED_NAMESPACES = ["longhorn-system", "monitoring"];

/** A privileged or host-namespace pod owns its node. */
export const noHostAccess: ResourceValidationPolicy = {
    name: "no-host-access",
    description: "No privileged containers, host namespaces or hostPath volumes outside Longhorn and node monitoring.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!WORKLOAD_TYPES.includes(args.type)) args.notApplicable("not a workload");
        if (HOST_ACCESS_ALLOWED_NAMESPACES.includes(args.props.metadata?.namespace)) return;
        const spec = podSpecOf(args.type, args.props) ?? {};
        const fix = "Drop it, or move the workload into an allow-listed namespace (policy/policies/no-host-access.ts) with a reason.";
        for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
            if (spec[field] === true) reportViolation(`${args.name} sets ${field}. ${fix}`);
        }
        for (const volume of spec.volumes ?? []) {
            if (volume.hostPath) reportViolation(`${args.name} mounts hostPath ${volume.hostPath.path} (volume ${volume.name}). ${fix}`);
        }
        for (const container of containersOf(spec)) {
            if (container.securityContext?.privileged === true) reportViolation(`Container ${container.name} of ${args.name} is privileged. ${fix}`);
        }
    },
};
