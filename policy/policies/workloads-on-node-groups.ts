import { ResourceValidationPolicy } from "@pulumi/policy";
import { NODE_GROUP_LABEL, nodeGroupMentions, podSpecOf, RELEASE, targetedGroups, WORKLOAD_TYPES } from "./common";

const DAEMON_SET = "kubernetes:apps/v1:DaemonSet";
const tolerationsOf = (spec: any): any[] => (Array.isArray(spec?.tolerations) ? spec.tolerations : []);

/** Unplaced pods land anywhere: on the control plane, or on spot nodes that vanish. */
export const workloadsOnNodeGroups: ResourceValidationPolicy = {
    name: "workloads-on-node-groups",
    description:
        "Every workload and Helm release selects a node group (label geoplatform.io/node-group); a DaemonSet tolerating the node groups' taint runs on all of them.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type === RELEASE) {
            if (nodeGroupMentions(args.props.values).length === 0) {
                reportViolation(
                    `Release ${args.name} places no pod on a node group. Set the chart's nodeSelector (or affinity) keys to { ${NODE_GROUP_LABEL}: system } (or processing).`,
                );
            }
            return;
        }
        if (!WORKLOAD_TYPES.includes(args.type)) args.notApplicable("not a workload");
        const spec = podSpecOf(args.type, args.props);
        // A node agent (storage, metrics) runs on every node on purpose: a DaemonSet that tolerates the node groups' taint targets them all.
        if (args.type === DAEMON_SET && tolerationsOf(spec).some((t: any) => t.key === NODE_GROUP_LABEL || (t.operator === "Exists" && !t.key))) return;
        if (targetedGroups(spec).length === 0) {
            reportViolation(
                `${args.name} does not select a node group. Add nodeSelector { ${NODE_GROUP_LABEL}: <group> } to its pod template (and a toleration for a tainted group).`,
            );
        }
    },
};
