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

/** Whether `from` waits for `to`, directly or not. */
export function dependsTransitively(run: StackRun, from: RecordedResource, to: RecordedResource): boolean {
    return transitiveDeps(run, from.urn).has(to.urn);
}
