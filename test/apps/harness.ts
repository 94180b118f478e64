import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { validateConfig } from "../../config/validate";
import { platformHosts } from "../../platform";
import { REALM } from "../../platform/keycloak";
import { RecordedResource, runStack, sharedStackRun, StackRun } from "../harness/run-stack";
import { rawGeoplatformConfig, REPO_ROOT, StackName } from "../harness/stack-config";

// Runs the whole program under mocks with a stack's real config, and offers
// lookups the app tests share.

export const RELEASE = "kubernetes:helm.sh/v3:Release";

/** A program run seen from the apps layer: `resources` are the apps' own, `all` everything. */
export type AppsRun = StackRun & { all: RecordedResource[] };

/** The whole program for `stack` (optionally with patched config), memoised per patch. */
const cache = new Map<string, Promise<AppsRun>>();
export function runApps(stack: StackName, patch: Record<string, unknown> = {}): Promise<AppsRun> {
    const key = `${stack}:${JSON.stringify(patch)}`;
    if (!cache.has(key)) {
        cache.set(
            key,
            (Object.keys(patch).length === 0 ? sharedStackRun(stack) : runStack(stack, patch)).then((run) => ({ ...run, all: run.resources, resources: run.resources.filter((r) => r.urn.includes("geoplatform:apps:")) })),
        );
    }
    return cache.get(key) as Promise<AppsRun>;
}

export function releaseNamed(run: StackRun, name: string): RecordedResource {
    const r = run.resources.find((x) => x.type === RELEASE && x.inputs.name === name);
    if (!r) throw new Error(`no Helm release ${name}; releases: ${run.resources.filter((x) => x.type === RELEASE).map((x) => x.inputs.name)}`);
    return r;
}

export function byKind(run: StackRun, kind: string): RecordedResource[] {
    return run.resources.filter((r) => r.custom && r.inputs.kind === kind);
}

export function one(run: StackRun, kind: string, name: string): RecordedResource {
    const r = byKind(run, kind).find((x) => x.inputs.metadata?.name === name);
    if (!r) throw new Error(`no ${kind} ${name}; have: ${byKind(run, kind).map((x) => x.inputs.metadata?.name)}`);
    return r;
}

/** The pinned charts' own files: `shared/charts` beside the repo (main checkout) or its worktree folder. */
function sharedChartsDir(): string {
    const candidates = [path.join(REPO_ROOT, "..", "shared", "charts"), path.join(REPO_ROOT, "..", "..", "shared", "charts")];
    const found = candidates.find((d) => fs.existsSync(d));
    if (!found) throw new Error(`pinned chart values not found in ${candidates.join(" or ")}`);
    return found;
}

export function chartFile(chart: string, file: string): string {
    return fs.readFileSync(path.join(sharedChartsDir(), chart, file), "utf8");
}

/** A pinned chart's own values.yaml. */
export function chartDefaults(chart: string): Record<string, any> {
    return yaml.load(chartFile(chart, "values.yaml")) as Record<string, any>;
}

/**
 * Paths in `values` that the chart's values.yaml does not have. Under a key
 * whose default is an empty map or null (free-form: nodeSelector, extraEnv,
 * ...) nothing further is checked, nor under `freeForm` paths (maps whose
 * defaults hold examples, such as z2jh's hub.config); lists are not entered.
 */
export function unknownValuePaths(values: any, defaults: any, freeForm: string[] = [], prefix = ""): string[] {
    if (!values || typeof values !== "object" || Array.isArray(values) || freeForm.includes(prefix)) return [];
    if (!defaults || typeof defaults !== "object" || Array.isArray(defaults) || Object.keys(defaults).length === 0) return [];
    return Object.entries(values).flatMap(([k, v]) => {
        const p = prefix ? `${prefix}.${k}` : k;
        return k in defaults ? unknownValuePaths(v, defaults[k], freeForm, p) : [p];
    });
}

/** Value at a dotted path. */
export function at(obj: any, dotted: string): any {
    return dotted.split(".").reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
}

/** Helm's coalescing of user values over chart defaults: maps merge, anything else replaces. */
export function helmMerge(defaults: any, values: any): any {
    const isMap = (x: any) => x && typeof x === "object" && !Array.isArray(x);
    if (!isMap(defaults) || !isMap(values)) return values === undefined ? defaults : values;
    const merged: Record<string, any> = { ...defaults };
    for (const [k, v] of Object.entries(values)) merged[k] = helmMerge(defaults[k], v);
    return merged;
}

/** The Keycloak realm's issuer URL for `stack`, as the platform layer publishes it. */
export function realmIssuer(stack: StackName): string {
    const { domain } = validateConfig(rawGeoplatformConfig(stack), stack);
    return `https://${platformHosts(domain).keycloak}/realms/${REALM}`;
}

/** Client ids of the realm the platform imports into Keycloak. */
export function realmClientIds(run: AppsRun): string[] {
    const realm = run.all.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs.metadata?.name === "keycloak-realm");
    if (!realm) throw new Error("no Keycloak realm ConfigMap");
    return JSON.parse(Object.values(realm.inputs.data)[0] as string).clients.map((c: { clientId: string }) => c.clientId);
}
