import { StackValidationPolicy } from "@pulumi/policy";
import { NODE_GROUP_LABEL, NODE_PATCH, nodeGroupMentions, podSpecOf, RELEASE, targetedGroups, WORKLOAD_TYPES } from "./common";

/** A selector for a group the stack does not have leaves pods Pending forever. */
export const nodeGroupsExist: StackValidationPolicy = {
    name: "node-groups-exist",
    description: "Node groups that workloads and releases target exist among the stack's nodes.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        // The K3s layer labels every node through a NodePatch: those labels are the stack's node groups.
        const groups = new Set(args.resources.filter((r) => r.type === NODE_PATCH).map((r) => r.props.metadata?.labels?.[NODE_GROUP_LABEL]));
        if (groups.size === 0) args.notApplicable("no labelled nodes in this stack");
        for (const r of args.resources) {
            const targeted =
                r.type === RELEASE ? nodeGroupMentions(r.props.values) : WORKLOAD_TYPES.includes(r.type) ? targetedGroups(podSpecOf(r.type, r.props)) : [];
            for (const group of new Set(targeted)) {
                if (!groups.has(group)) {
                    reportViolation(
                        `${r.name} targets node group "${group}", which this stack does not have (${[...groups].join(", ")}). Add it to geoplatform:nodeGroups or target an existing group.`,
                        r.urn,
                    );
                }
            }
        }
    },
};
