import { resourcePolicies, stackPolicies } from "../../policy/policies";
import { checkResource, checkStack, enforcement, policyConfig } from "../policy/engine";
import { RecordedResource } from "../harness/run-stack";
import { K8sObject, objectId, parseObjects, ReleaseInput, renderText, RenderOptions, typeToken } from "./render";

// The checks test:charts runs on rendered releases: the policy pack over every
// rendered object, and the dead-key check over every values leaf.

export interface Finding {
    policy: string;
    level: string;
    object: string;
    message: string;
}

/** A rendered object as the analyzer would see it had the program registered it: namespaced as helm installs it. */
export function asPolicyProps(o: K8sObject, namespace: string): Record<string, unknown> {
    return { ...o, metadata: { namespace, ...o.metadata } };
}

/** Every resource policy of the pack over rendered objects, at the stack's enforcement levels; node-groups-exist with the stack's nodes. */
export async function policyFindings(
    stack: string,
    objects: { release: string; namespace: string; object: K8sObject }[],
    nodes: RecordedResource[],
): Promise<Finding[]> {
    const levels = enforcement(stack);
    const configs = policyConfig(stack);
    const found: Finding[] = [];
    for (const policy of resourcePolicies) {
        if (levels[policy.name] === "disabled") continue;
        for (const { release, namespace, object } of objects) {
            const { violations } = await checkResource(
                policy,
                typeToken(object),
                asPolicyProps(object, namespace),
                `${release}:${objectId(object)}`,
                configs[policy.name],
            );
            for (const message of violations)
                found.push({ policy: policy.name, level: levels[policy.name], object: `${release} ${objectId(object)}`, message });
        }
    }
    const groups = stackPolicies.find((p) => p.name === "node-groups-exist");
    if (groups && levels[groups.name] !== "disabled") {
        const resources = [
            ...nodes.map((n) => ({ type: n.type, name: n.name, props: n.inputs })),
            ...objects.map(({ release, namespace, object }) => ({
                type: typeToken(object),
                name: `${release}:${objectId(object)}`,
                props: asPolicyProps(object, namespace),
            })),
        ];
        const { violations } = await checkStack(groups, resources);
        for (const message of violations) found.push({ policy: groups.name, level: levels[groups.name], object: "(stack)", message });
    }
    return found;
}

export interface Leaf {
    path: string;
    keys: (string | number)[];
    value: unknown;
}

/** Every leaf of a values tree (scalars, null, empty maps and lists); lists are entered by index. */
export function valueLeaves(value: unknown, keys: (string | number)[] = []): Leaf[] {
    const isMap = value !== null && typeof value === "object" && !Array.isArray(value);
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : isMap ? Object.entries(value as object) : [];
    if (entries.length === 0) return [{ path: keysPath(keys), keys, value }];
    return entries.flatMap(([k, v]) => valueLeaves(v, [...keys, k]));
}

const keysPath = (keys: (string | number)[]) => keys.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");

function withLeaves(values: Record<string, unknown>, changes: { keys: (string | number)[]; value: unknown }[]): Record<string, unknown> {
    const copy = structuredClone(values);
    for (const { keys, value } of changes) {
        let at: any = copy;
        for (const k of keys.slice(0, -1)) at = at[k];
        at[keys[keys.length - 1]] = value;
    }
    return copy;
}

/** A different value of the same kind, that a template reading the leaf cannot render the same. */
function changed(leaf: Leaf, marker: string): unknown {
    const v = leaf.value;
    if (typeof v === "boolean") return !v;
    if (typeof v === "number") return v + 7;
    if (Array.isArray(v)) return [marker];
    if (v && typeof v === "object") return { [marker]: marker };
    return marker;
}

/** Flattened rendered objects (path → value), minus the paths that differ between two renders of the same input (generated certificates, random names). */
function flatten(text: string): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (v: unknown, p: string) => {
        if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${p}/${k}`);
        else out.set(p, JSON.stringify(v));
    };
    parseObjects(text).forEach((o) => walk(o, objectId(o)));
    return out;
}

function sameRender(a: Map<string, string>, b: Map<string, string>, volatile: Set<string>): boolean {
    for (const [k, v] of a) if (!volatile.has(k) && b.get(k) !== v) return false;
    for (const k of b.keys()) if (!volatile.has(k) && !a.has(k)) return false;
    return true;
}

/**
 * Values leaves whose change leaves the render unchanged: keys no template
 * reads. String leaves are tested together first (a unique marker each; one
 * whose marker shows in the output is read), splitting a group whose render
 * fails; the rest one by one against the baseline.
 */
export async function deadKeys(rel: ReleaseInput, options: RenderOptions): Promise<string[]> {
    const opts = { ...options, includeCrds: false };
    const [first, second] = await Promise.all([renderText(rel, rel.values, opts), renderText(rel, rel.values, opts)]);
    const baseline = flatten(first);
    const other = flatten(second);
    const volatile = new Set([...baseline.keys(), ...other.keys()].filter((k) => baseline.get(k) !== other.get(k)));
    const leaves = valueLeaves(rel.values);
    const marker = (i: number) => `zzdeadkey${i}zz`;
    const live = new Set<number>();

    const strings = leaves.map((l, i) => ({ l, i })).filter(({ l }) => typeof l.value === "string");
    const probe = async (group: typeof strings): Promise<void> => {
        if (group.length === 0) return;
        let text: string | undefined;
        try {
            text = await renderText(
                rel,
                withLeaves(
                    rel.values,
                    group.map(({ l, i }) => ({ keys: l.keys, value: marker(i) })),
                ),
                opts,
            );
        } catch {
            // A marker some template refuses: split; a single refused leaf is read.
            if (group.length === 1) live.add(group[0].i);
            else await Promise.all([probe(group.slice(0, group.length >> 1)), probe(group.slice(group.length >> 1))]);
            return;
        }
        for (const { i } of group) if (text.includes(marker(i))) live.add(i);
    };
    await probe(strings);

    const unchanged: Leaf[] = [];
    await Promise.all(
        leaves.map(async (leaf, i) => {
            if (live.has(i)) return;
            let text: string;
            try {
                text = await renderText(rel, withLeaves(rel.values, [{ keys: leaf.keys, value: changed(leaf, marker(i)) }]), opts);
            } catch {
                return; // the chart refuses the change: it reads the key
            }
            if (sameRender(baseline, flatten(text), volatile)) unchanged.push(leaf);
        }),
    );
    if (unchanged.length === 0) return [];
    // Rendered without the charts' crds/ folders for speed; a key that only switches those (crds.enabled) shows with them.
    const withCrds = { ...options, includeCrds: true };
    const full = flatten(await renderText(rel, rel.values, withCrds));
    const dead: string[] = [];
    await Promise.all(
        unchanged.map(async (leaf) => {
            const text = await renderText(rel, withLeaves(rel.values, [{ keys: leaf.keys, value: changed(leaf, "zzdeadkeyzz") }]), withCrds).catch(
                () => undefined,
            );
            if (text !== undefined && sameRender(full, flatten(text), volatile)) dead.push(leaf.path);
        }),
    );
    return dead.sort();
}
