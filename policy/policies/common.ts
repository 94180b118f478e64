// Shapes shared by the Kubernetes policies: where a workload keeps its pod
// spec, and how a pod is placed on a node group.

export const NODE_GROUP_LABEL = "geoplatform.io/node-group";
export const RELEASE = "kubernetes:helm.sh/v3:Release";
export const SECRET = "kubernetes:core/v1:Secret";
export const AWS_INSTANCE = "aws:ec2/instance:Instance";
export const OPENSTACK_INSTANCE = "openstack:compute/instance:Instance";
export const NODE_PATCH = "kubernetes:core/v1:NodePatch";

/** Pod-bearing kinds and where their pod spec sits. */
const POD_SPEC_PATHS: Record<string, string[]> = {
    "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
    "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
    "kubernetes:core/v1:ReplicationController": ["spec", "template", "spec"],
    "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
    "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
    "kubernetes:core/v1:Pod": ["spec"],
};

export const WORKLOAD_TYPES = Object.keys(POD_SPEC_PATHS);

export function podSpecOf(type: string, props: any): any | undefined {
    const path = POD_SPEC_PATHS[type];
    return path?.reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), props);
}

export function containersOf(podSpec: any): any[] {
    return [...(podSpec?.initContainers ?? []), ...(podSpec?.containers ?? [])];
}

/** Node groups a pod spec asks for, by nodeSelector or required node affinity. */
export function targetedGroups(podSpec: any): string[] {
    const groups: string[] = [];
    const selected = podSpec?.nodeSelector?.[NODE_GROUP_LABEL];
    if (typeof selected === "string") groups.push(selected);
    const terms = podSpec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
    for (const term of terms) {
        for (const expr of term.matchExpressions ?? []) {
            if (expr.key === NODE_GROUP_LABEL && expr.operator === "In") groups.push(...(expr.values ?? []));
        }
    }
    return groups;
}

/** Every value stored under the node-group label anywhere in a document (Release values, CRs). */
export function nodeGroupMentions(value: unknown): string[] {
    const found: string[] = [];
    const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === "object") {
            const obj = v as Record<string, unknown>;
            if (typeof obj[NODE_GROUP_LABEL] === "string") found.push(obj[NODE_GROUP_LABEL] as string);
            if (obj.key === NODE_GROUP_LABEL && Array.isArray(obj.values)) found.push(...(obj.values as string[]));
            Object.values(obj).forEach(walk);
        }
    };
    walk(value);
    return found;
}

export const WORLD_CIDRS = ["0.0.0.0/0", "::/0"];
