import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

/** The project root: the nearest folder above with a Pulumi.yaml (works from ts-node and from compiled bin/). */
function findRoot(dir: string): string {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no Pulumi.yaml above ${__dirname}`);
    return findRoot(parent);
}
export const REPO_ROOT = findRoot(__dirname);
export const STACKS = ["dev", "prod"] as const;
export type StackName = (typeof STACKS)[number];

/** The `config:` block of the real Pulumi.<stack>.yaml, keys as written (`geoplatform:cloud`...). */
export function readStackFile(stack: string): Record<string, unknown> {
    const file = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
    return doc.config ?? {};
}

/** Config as the Pulumi engine hands it to a program: every value a string, structured values as JSON. */
export function engineConfig(config: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

/** Raw `geoplatform:*` values of a stack, prefix stripped, for validateConfig. */
export function rawGeoplatformConfig(stack: string): Record<string, unknown> {
    return Object.fromEntries(
        Object.entries(readStackFile(stack))
            .filter(([k]) => k.startsWith("geoplatform:"))
            .map(([k, v]) => [k.slice("geoplatform:".length), structuredClone(v)]),
    );
}
