import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { CALL_RESULTS, RESOURCE_OUTPUTS } from "./mock-outputs";
import { engineConfig, readStackFile, STACKS, StackName } from "./stack-config";

// Runs the real program under Pulumi mocks for one stack and records every
// registration with what the engine would see: parent, dependencies, and
// which inputs were secret.

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
    type: string;
    name: string;
    urn: string;
    custom: boolean;
    parent: string;
    /** URNs this resource depends on: dependsOn and Output-derived property dependencies. */
    dependencies: string[];
    provider: string;
    /** Inputs with secrets unwrapped. */
    inputs: Record<string, any>;
    /** Dotted paths of inputs that reached the engine as secrets. */
    secretPaths: string[];
    additionalSecretOutputs: string[];
    /** Resource options that decide what a later change does to it. */
    options: { ignoreChanges: string[]; replaceOnChanges: string[]; deleteBeforeReplace: boolean; protect: boolean; retainOnDelete: boolean };
    /** Inputs merged with the mock's computed outputs. */
    state: Record<string, any>;
}

export interface StackRun {
    stack: string;
    resources: RecordedResource[];
    outputs: Record<string, any>;
    /** Names of stack outputs that the engine receives as secrets. */
    secretOutputs: string[];
    /** Stacks read through a StackReference (reads are not registrations: not in `resources`). */
    stackReads: string[];
}

/** What the engine holds from the stack's last update. */
export interface RunOptions {
    /** The outputs a StackReference read returns (default: none, as before a stack's first update). */
    previousOutputs?: Record<string, unknown>;
}

/** Unwraps engine secret envelopes, collecting the paths where they were. */
function unwrapSecrets(value: any, path: string, secretPaths: string[]): any {
    if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${path}[${i}]`, secretPaths));
    if (value && typeof value === "object") {
        if (value[SECRET_SIG_KEY] === SECRET_SIG) {
            secretPaths.push(path);
            return unwrapSecrets(value.value, path, []);
        }
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, path ? `${path}.${k}` : k, secretPaths)]));
    }
    return value;
}

interface Recording {
    resources: RecordedResource[];
    /** Records waiting for the mock's computed outputs, by type and name. */
    pending: Map<string, RecordedResource>;
    stackOutputsRaw?: Record<string, any>;
    previousOutputs: Record<string, unknown>;
    stackReads: string[];
}
let current: Recording | undefined;

const originalRegister = MockMonitor.prototype.registerResource;
MockMonitor.prototype.registerResource = async function (this: any, req: any, callback: any) {
    // Outside a run (bench/engine.ts serving a program over gRPC) there is nothing to record.
    if (!current) return originalRegister.call(this, req, callback);
    const raw = req.getObject()?.toJavaScript() ?? {};
    const secretPaths: string[] = [];
    const inputs = unwrapSecrets(raw, "", secretPaths);
    const propertyDeps: string[] = [];
    req.getPropertydependenciesMap().forEach((deps: any) => propertyDeps.push(...deps.getUrnsList()));
    const record: RecordedResource = {
        type: req.getType(),
        name: req.getName(),
        urn: this.newUrn(req.getParent(), req.getType(), req.getName()),
        custom: req.getCustom(),
        parent: req.getParent(),
        dependencies: [...new Set([...req.getDependenciesList(), ...propertyDeps])],
        provider: req.getProvider(),
        inputs,
        secretPaths,
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        options: {
            ignoreChanges: req.getIgnorechangesList(),
            replaceOnChanges: req.getReplaceonchangesList(),
            deleteBeforeReplace: req.getDeletebeforereplace(),
            protect: req.getProtect() === true,
            retainOnDelete: req.getRetainondelete() === true,
        },
        state: inputs,
    };
    current?.resources.push(record);
    current?.pending.set(`${record.type}::${record.name}`, record);
    return originalRegister.call(this, req, callback);
};

const originalOutputs = MockMonitor.prototype.registerResourceOutputs;
MockMonitor.prototype.registerResourceOutputs = function (this: any, req: any, callback: any) {
    if (req.getUrn().includes("::pulumi:pulumi:Stack::") && current) {
        current.stackOutputsRaw = req.getOutputs()?.toJavaScript() ?? {};
    }
    return originalOutputs.call(this, req, callback);
};

/** What the mocked engine answers (also served over gRPC by bench/engine.ts). */
export const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
        // The builtin provider's read answers the referenced stack's outputs (pulumi/pulumi pkg/resource/deploy/builtins.go).
        if (args.type === "pulumi:pulumi:StackReference") {
            current?.stackReads.push(args.inputs.name);
            return { id: args.id, state: { name: args.inputs.name, outputs: current?.previousOutputs ?? {}, secretOutputNames: [] } };
        }
        const computed = RESOURCE_OUTPUTS[args.type]?.(args.name, args.inputs) ?? {};
        const state = { ...args.inputs, ...computed };
        const key = `${args.type}::${args.name}`;
        const record = current?.pending.get(key);
        if (record) {
            record.state = state;
            current?.pending.delete(key);
        }
        return { id: args.custom === false ? undefined : `${args.name}-id`, state };
    },
    call(args) {
        const result = CALL_RESULTS[args.token];
        if (!result) throw new Error(`no mock for invoke ${args.token}`);
        return result(args.inputs);
    },
};

/** Registrations started inside applies (or before a failure) finish after the program returns. */
async function registrationsSettled(): Promise<void> {
    const settings = await import("@pulumi/pulumi/runtime/settings");
    await (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/** The real stack file's config, patched (`geoplatform:<key>` → value; undefined deletes the key). */
function stackConfig(stack: string, patch: Record<string, unknown>): Record<string, unknown> {
    const config = { ...readStackFile(stack) };
    for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) delete config[k];
        else config[k] = v;
    }
    return config;
}

/**
 * Runs `program` under mocks as stack `stack`, with the config of the real
 * Pulumi.<stack>.yaml (optionally patched), and records every registration.
 */
export async function runWithMocks(
    stack: string,
    program: () => Promise<Record<string, unknown>>,
    patch: Record<string, unknown> = {},
    options: RunOptions = {},
): Promise<StackRun> {
    current = { resources: [], pending: new Map(), previousOutputs: options.previousOutputs ?? {}, stackReads: [] };
    const run = current;
    // A self-managed backend's organization (pulumi/pulumi pkg/backend/diy/state.go).
    await pulumi.runtime.setMocks(mocks, "geoplatform", stack, false, "organization");
    pulumi.runtime.setAllConfig(engineConfig(stackConfig(stack, patch)));
    try {
        const outputs = (await pulumi.runtime.runInPulumiStack(program)) ?? {};
        await registrationsSettled();
        const secretOutputs: string[] = [];
        unwrapSecrets(run.stackOutputsRaw ?? {}, "", secretOutputs);
        return { stack, resources: run.resources, outputs, secretOutputs, stackReads: run.stackReads };
    } catch (error) {
        await registrationsSettled().catch(() => undefined);
        // Lets a test check what was registered (and read) before the failure.
        throw Object.assign(error as Error, { recorded: run.resources, stackReads: run.stackReads });
    } finally {
        current = undefined;
    }
}

/** Runs the whole geoplatform program for `stack` (see runWithMocks). */
export async function runStack(stack: string, patch: Record<string, unknown> = {}, options: RunOptions = {}): Promise<StackRun> {
    const { geoplatform } = await import("../../program");
    return runWithMocks(stack, geoplatform, patch, options);
}

function deepFreeze<T>(value: T): T {
    if (value && typeof value === "object" && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const item of Object.values(value)) deepFreeze(item);
    }
    return value;
}

const sharedRuns = new Map<string, Promise<StackRun>>();
/**
 * The unpatched program for `stack`, evaluated once per test process and
 * shared by every suite that only reads it (deep-frozen: read-only).
 */
export function sharedStackRun(stack: string): Promise<StackRun> {
    // Frozen: a test that sorted or edited a shared run in place would change what every later test reads.
    if (!sharedRuns.has(stack)) sharedRuns.set(stack, runStack(stack).then(deepFreeze));
    return sharedRuns.get(stack) as Promise<StackRun>;
}

/**
 * For a mocha suite over every stack: loads each stack's shared evaluation in
 * the suite's `before` hook and returns a reader for its tests.
 */
export function sharedStackRuns(): (stack: StackName) => StackRun {
    const runs = new Map<StackName, StackRun>();
    before(async () => {
        for (const stack of STACKS) runs.set(stack, await sharedStackRun(stack));
    });
    return (stack) => runs.get(stack) as StackRun;
}
