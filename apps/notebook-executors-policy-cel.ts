import { TOKENS } from "./notebook-executors";

// CEL that a NetworkPolicy the hub writes is one the program rendered (issue 15): its name one of the rendered ones
// and its spec that policy's, the placeholders read from the request (the namespace) and the object's own
// `hub.jupyter.org/username` label. Only fields that would widen what a policy allows are compared: an extra label,
// selector expression, `except` entry or port restriction only narrows it, and a field a policy cannot carry is the
// API server's to refuse. Constant cost: sizes, indexes and equalities, no macro over a list.

const q = (s: string) => `'${s}'`;
/** Fields that allow more when present: a spec's rules (absent: none) and a port's range (absent: the one port). */
const WIDENING: Record<string, string[]> = { spec: ["ingress", "egress"], port: ["endPort"] };

/** CEL that `expr` is `value` as far as it can widen the policy; `at` is the kind of object `value` is. */
function same(expr: string, value: unknown, tokens: Record<string, string>, at: string): string {
    if (typeof value === "string") return `${expr} == ${tokens[value] ?? q(value)}`;
    if (typeof value === "number") return `${expr} == ${value}`;
    if (Array.isArray(value)) {
        const item = at === "ports" ? "port" : at;
        return [`size(${expr}) == ${value.length}`, ...value.map((v, i) => same(`${expr}[${i}]`, v, tokens, item))].join(" && ");
    }
    const entries = Object.entries(value as Record<string, unknown>);
    if (at === "matchLabels")
        return [`size(${expr}) == ${entries.length}`, ...entries.map(([k, v]) => `${q(k)} in ${expr} && ${same(`${expr}[${q(k)}]`, v, tokens, "")}`)].join(
            " && ",
        );
    // An empty selector selects all: nothing to compare.
    const present = entries.filter(([, v]) => typeof v !== "object" || Object.keys(v as object).length > 0);
    const absent = (WIDENING[at] ?? []).filter((k) => !(k in (value as object))).map((k) => `!has(${expr}.${k})`);
    return [...present.map(([k, v]) => `has(${expr}.${k}) && (${same(`${expr}.${k}`, v, tokens, k)})`), ...absent].join(" && ") || "true";
}

/** CEL over `object` and `request`: the NetworkPolicy is one of `policies` (rendered, with TOKENS placeholders). */
export function renderedPolicyExpression(policies: { metadata: { name: string; labels: Record<string, string> }; spec?: unknown }[]): string {
    const label = Object.entries(policies[0]?.metadata.labels ?? {}).find(([, v]) => v === TOKENS.usernameLabel)?.[0];
    if (!label) throw new Error("the executor NetworkPolicies carry no username label");
    const tokens = { [TOKENS.namespace]: "request.namespace", [TOKENS.usernameLabel]: `object.metadata.labels[${q(label)}]` };
    const one = policies.map((p) => `(object.metadata.name == ${q(p.metadata.name)} && ${same("object.spec", p.spec, tokens, "spec")})`);
    return `has(object.metadata.labels) && ${q(label)} in object.metadata.labels && (${one.join(" || ")})`;
}
