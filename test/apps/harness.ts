import { validateConfig } from "../../config/validate";
import { platformHosts } from "../../platform";
import { REALM } from "../../platform/keycloak";
import { RecordedResource, runStack, sharedStackRun, StackRun } from "../harness/run-stack";
import { rawGeoplatformConfig, StackName } from "../harness/stack-config";

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
            (Object.keys(patch).length === 0 ? sharedStackRun(stack) : runStack(stack, patch)).then((run) => ({
                ...run,
                all: run.resources,
                resources: run.resources.filter((r) => r.urn.includes("geoplatform:apps:")),
            })),
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

/** Value at a dotted path. */
export function at(obj: any, dotted: string): any {
    return dotted.split(".").reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
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

/** spark-defaults.conf (`key value` lines) parsed back into a map. */
export function confOf(text: string): Record<string, string> {
    return Object.fromEntries(
        text
            .trim()
            .split("\n")
            .map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]),
    );
}
