import { RecordedResource } from "../test/harness/run-stack";

// The deployment graph as the engine schedules it: a resource starts once its
// parent and everything it depends on are created, so the longest chain of
// such edges bounds how fast `pulumi up` can finish.

export interface GraphNode {
    urn: string;
    type: string;
    /** URNs that must exist first: parent plus dependsOn and Output-derived dependencies. */
    after: string[];
}

export function buildGraph(resources: RecordedResource[]): GraphNode[] {
    const known = new Set(resources.map((r) => r.urn));
    return resources.map((r) => ({
        urn: r.urn,
        type: r.type,
        // The engine also waits for a resource's provider ("<urn>::<id>").
        after: [...new Set([r.parent, ...r.dependencies, r.provider.split("::").slice(0, -1).join("::")])].filter((u) => u && u !== r.urn && known.has(u)),
    }));
}

export interface PathResult {
    /** Total weight of the heaviest chain. */
    length: number;
    /** The chain, first resource first. */
    path: GraphNode[];
}

/** Heaviest dependency chain, each resource weighted by `weight` (1 each: the longest chain). */
export function criticalPath(graph: GraphNode[], weight: (node: GraphNode) => number = () => 1): PathResult {
    const byUrn = new Map(graph.map((n) => [n.urn, n]));
    const best = new Map<string, { length: number; previous?: string }>();
    const visiting = new Set<string>();
    const visit = (node: GraphNode): number => {
        const known = best.get(node.urn);
        if (known) return known.length;
        if (visiting.has(node.urn)) throw new Error(`dependency cycle through ${node.urn}`);
        visiting.add(node.urn);
        let previous: string | undefined;
        let longest = 0;
        for (const urn of node.after) {
            const length = visit(byUrn.get(urn) as GraphNode);
            if (length > longest) [longest, previous] = [length, urn];
        }
        visiting.delete(node.urn);
        best.set(node.urn, { length: longest + weight(node), previous });
        return longest + weight(node);
    };
    let end: GraphNode | undefined;
    for (const node of graph) if (!end || visit(node) > visit(end)) end = node;
    const path: GraphNode[] = [];
    for (let urn: string | undefined = end?.urn; urn; urn = best.get(urn)?.previous) path.unshift(byUrn.get(urn) as GraphNode);
    return { length: end ? visit(end) : 0, path };
}

export function edgeCount(graph: GraphNode[]): number {
    return graph.reduce((sum, n) => sum + n.after.length, 0);
}
