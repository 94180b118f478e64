import { ResourceValidationPolicy } from "@pulumi/policy";
import { NODE_GROUP_LABEL, nodeGroupMentions, podSpecOf, RELEASE, targetedGroups, WORKLOAD_TYPES } from "./common";

/** Unplaced pods land anywhere: on the control plane, or on spot nodes that vanish. */
export const workloadsOnNodeGroups: ResourceValidationPolicy = {
    name: "workloads-on-node-groups",
    description: "Every workload and Helm release selects a node group (label geoplatform.io/node-group).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type === RELEASE) {
            if (nodeGroupMentions(args.props.values).length === 0) {
                reportViolation(`Release ${args.name} places no pod on a node group. Set the chart's nodeSelector (or affinity) keys to { ${NODE_GROUP_LABEL}: system } (or processing).`);
            }
            return;
        }
        if (!WORKLOAD_TYPES.includes(args.type)) args.notApplicable("not a workload");
        if (targetedGroups(podSpecOf(args.type, args.props)).length === 0) {
            reportViolation(`${args.name} does not select a node group. Add nodeSelector { ${NODE_GROUP_LABEL}: <group> } to its pod template (and a toleration for a tainted group).`);
        }
    },
};
