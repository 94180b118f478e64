import { CatalogNodeGroup } from "../config/catalog";
import { GeoplatformConfig, NODE_GROUP_LABEL } from "../config/types";

// Where app pods run: control pods on `system`, user and batch pods on
// `processing`, which they must tolerate. Tolerations come from the node
// group's own taints, so a changed taint in the stack file follows through.

export interface Toleration {
    key: string;
    operator: "Equal";
    value: string;
    effect: string;
}

export interface Placement {
    nodeSelector: Record<string, string>;
    tolerations: Toleration[];
    /** The same constraint as a required node affinity, for charts that only accept `affinity`. */
    affinity: {
        nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: { matchExpressions: { key: string; operator: "In"; values: string[] }[] }[] };
        };
    };
}

export function placement(config: GeoplatformConfig, group: CatalogNodeGroup): Placement {
    const taints = config.nodeGroups[group]?.taints ?? [];
    return {
        nodeSelector: { [NODE_GROUP_LABEL]: group },
        tolerations: taints.map((t) => ({ key: t.key, operator: "Equal", value: t.value, effect: t.effect })),
        affinity: {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [{ matchExpressions: [{ key: NODE_GROUP_LABEL, operator: "In", values: [group] }] }],
                },
            },
        },
    };
}

/** Pod-spec fields (nodeSelector, tolerations) for raw manifests. */
export function podPlacement(config: GeoplatformConfig, group: CatalogNodeGroup): { nodeSelector: Record<string, string>; tolerations: Toleration[] } {
    const { nodeSelector, tolerations } = placement(config, group);
    return { nodeSelector, tolerations };
}
