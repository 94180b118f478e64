import { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, podSpecOf, WORKLOAD_TYPES } from "./common";

/** `latest` or no tag means a restart can silently run different code. */
export function isPinnedImage(image: string): boolean {
    if (image.includes("@sha256:")) return true;
    const lastSegment = image.split("/").pop() ?? "";
    const tag = lastSegment.includes(":") ? lastSegment.split(":").pop() : undefined;
    return !!tag && tag !== "latest";
}

export const pinnedImages: ResourceValidationPolicy = {
    name: "pinned-images",
    description: "Raw workloads use images with an explicit tag other than latest (or a digest).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (!WORKLOAD_TYPES.includes(args.type)) args.notApplicable("not a workload");
        for (const container of containersOf(podSpecOf(args.type, args.props))) {
            if (typeof container.image === "string" && !isPinnedImage(container.image)) {
                reportViolation(`Container ${container.name} of ${args.name} uses ${container.image}. Pin a version tag (or digest) in config/catalog.ts.`);
            }
        }
    },
};
