import * as fs from "fs";
import { createRequire } from "module";
import * as path from "path";
import type { ResourceValidationPolicy, StackValidationPolicy } from "../../policy/node_modules/@pulumi/policy";
import { policies } from "../../policy/policies";
import { RecordedResource } from "../harness/run-stack";
import { REPO_ROOT } from "../harness/stack-config";

// Builds policy arguments the way the Pulumi policy server does
// (@pulumi/policy server.js): props behind unknownCheckingProxy, and
// notApplicable() throwing. The policy objects are the pack's own.

const policyRequire = createRequire(path.join(REPO_ROOT, "policy", "package.json"));
const { unknownCheckingProxy } = policyRequire("@pulumi/policy") as typeof import("../../policy/node_modules/@pulumi/policy");

class NotApplicable extends Error {}

export interface Outcome {
    violations: string[];
    notApplicable?: string;
}

/** A policy's properties from the pack config (enforcementLevel aside), as the server's getConfig() returns them. */
export type PolicyConfig = Record<string, unknown>;

function common(type: string, name: string, urn: string, props: Record<string, unknown>, config: PolicyConfig = {}) {
    return {
        type,
        name,
        urn,
        props: unknownCheckingProxy(props),
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 } },
        stackTags: new Map<string, string>(),
        isType: () => false,
        asType: () => undefined,
        getConfig: () => config,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

async function outcome(run: (report: (message: string) => void) => unknown): Promise<Outcome> {
    const violations: string[] = [];
    try {
        await run((message) => violations.push(message));
        return { violations };
    } catch (e) {
        if (e instanceof NotApplicable) return { violations, notApplicable: e.message };
        throw e;
    }
}

export function checkResource(
    policy: ResourceValidationPolicy,
    type: string,
    props: Record<string, unknown>,
    name = "fixture",
    config: PolicyConfig = {},
): Promise<Outcome> {
    const args = common(type, name, `urn:pulumi:test::geoplatform::${type}::${name}`, props, config);
    const validate = policy.validateResource;
    const validations = Array.isArray(validate) ? validate : validate ? [validate] : [];
    return outcome(async (report) => {
        for (const v of validations) await v(args as never, report);
    });
}

/** A stack resource; propertyDependencies name other resources by their name in the same list (the server passes resource objects). */
export interface StackResource {
    type: string;
    name: string;
    props: Record<string, unknown>;
    propertyDependencies?: Record<string, string[]>;
}

export function checkStack(policy: StackValidationPolicy, resources: StackResource[], config: PolicyConfig = {}): Promise<Outcome> {
    const urn = (r: StackResource) => `urn:pulumi:test::geoplatform::${r.type}::${r.name}`;
    const built = resources.map((r) => ({
        ...common(r.type, r.name, urn(r), r.props),
        dependencies: [],
        propertyDependencies: {} as Record<string, unknown[]>,
    }));
    resources.forEach((r, i) => {
        for (const [key, names] of Object.entries(r.propertyDependencies ?? {}))
            built[i].propertyDependencies[key] = names.map((n) => built[resources.findIndex((x) => x.name === n)]);
    });
    const args = {
        resources: built,
        getConfig: () => config,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    return outcome((report) => policy.validateStack(args as never, report));
}

/** A recorded mock resource as the analyzer receives it (its inputs). */
export const asPolicyResource = (r: RecordedResource) => ({ type: r.type, name: r.name, props: r.inputs });

export type Level = "advisory" | "mandatory" | "disabled";

/** Enforcement as `pulumi preview --policy-pack-config policy/config/<stack>.json` sets it. */
export function enforcement(stack: string): Record<string, Level> {
    const config = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "policy", "config", `${stack}.json`), "utf8")) as Record<
        string,
        Level | { enforcementLevel: Level }
    >;
    return Object.fromEntries(
        policies.map((p) => {
            const set = config[p.name];
            return [p.name, (typeof set === "object" ? set.enforcementLevel : set) ?? p.enforcementLevel ?? "advisory"];
        }),
    );
}

/** Each policy's config properties from policy/config/<stack>.json (what getConfig() returns). */
export function policyConfig(stack: string): Record<string, Record<string, unknown>> {
    const config = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "policy", "config", `${stack}.json`), "utf8")) as Record<string, unknown>;
    return Object.fromEntries(
        Object.entries(config).map(([name, set]) => {
            if (typeof set !== "object" || set === null) return [name, {}];
            const { enforcementLevel: _level, ...properties } = set as Record<string, unknown>;
            return [name, properties];
        }),
    );
}
