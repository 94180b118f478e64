import { GeoplatformConfig, NODE_GROUP_LABEL, NodeGroupConfig, Taint } from "../config/types";

/** A VM to create, before any cloud resource exists. */
export interface PlannedNode {
    name: string;
    group: string;
    index: number;
    spec: NodeGroupConfig;
    labels: Record<string, string>;
    taints: Taint[];
}

/** The bastion VM's name. */
export const bastionName = (stack: string) => `${stack}-bastion`;

/** Servers first (the first bootstraps the cluster), then agent groups in config order. */
export function planNodes(config: GeoplatformConfig, stack: string): PlannedNode[] {
    const groups = Object.entries(config.nodeGroups);
    const ordered = [...groups.filter(([, g]) => g.role === "server"), ...groups.filter(([, g]) => g.role === "agent")];
    return ordered.flatMap(([group, spec]) =>
        Array.from({ length: spec.count }, (_, index) => ({
            name: `${stack}-${group}-${index + 1}`,
            group,
            index,
            spec,
            labels: { ...spec.labels, [NODE_GROUP_LABEL]: group },
            taints: spec.taints,
        })),
    );
}
