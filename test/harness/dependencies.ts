import { RecordedResource, StackRun } from "./run-stack";

/** Every URN a resource waits for, directly or through the resources it depends on. */
export function transitiveDeps(run: StackRun, urn: string, seen = new Set<string>()): Set<string> {
    const resource = run.resources.find((r) => r.urn === urn);
    for (const dep of resource?.dependencies ?? []) {
        if (!seen.has(dep)) {
            seen.add(dep);
            transitiveDeps(run, dep, seen);
        }
    }
    return seen;
}

/** Whether `from` waits for `to`, directly or not (not counting paths through the URNs `excluding`). */
export function dependsTransitively(run: StackRun, from: RecordedResource, to: RecordedResource, excluding: string[] = []): boolean {
    return transitiveDeps(run, from.urn, new Set(excluding)).has(to.urn);
}
