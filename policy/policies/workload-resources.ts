import { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, podSpecOf, WORKLOAD_TYPES } from "./common";

/** Without requests the scheduler overcommits nodes; without limits one pod can starve its neighbours. */
export const workloadResources: ResourceValidationPolicy = {
    name: "workload-resources",
    description: "Containers of raw workloads declare resource requests and limits.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!WORKLOAD_TYPES.includes(args.type)) args.notApplicable("not a workload");
        for (const container of containersOf(podSpecOf(args.type, args.props))) {
            const resources = container.resources ?? {};
            const missing = ["requests", "limits"].filter((k) => !resources[k] || Object.keys(resources[k]).length === 0);
            if (missing.length > 0) {
                reportViolation(
                    `Container ${container.name} of ${args.name} has no resource ${missing.join(" or ")}. Set resources.requests (cpu, memory) and resources.limits (at least memory).`,
                );
            }
        }
    },
};
