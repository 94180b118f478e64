import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { REPO_ROOT } from "./stack-config";

// Helm ignores values keys a chart does not know, silently. These helpers
// check our values against the pinned chart's own values.yaml in ../shared/charts.

export const SHARED_CHARTS = path.resolve(REPO_ROOT, "..", "shared", "charts");

export function chartDefaults(chart: string): Record<string, unknown> {
    return yaml.load(fs.readFileSync(path.join(SHARED_CHARTS, chart, "values.yaml"), "utf8")) as Record<string, unknown>;
}

/** Kubernetes-shaped fields: free-form whatever the chart's defaults show. */
const FREE_FORM = ["nodeSelector", "tolerations", "affinity", "resources", "annotations", "labels", "securityContext", "podSecurityContext"];

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Dotted paths in `values` that the chart's values.yaml does not have. Below a
 * default that is empty, a list, null or a scalar, anything goes (free-form
 * maps such as nodeSelector or annotations); `opaque` paths (subcharts, keys
 * the chart documents only in comments) are not descended into.
 */
export function unknownValueKeys(values: Record<string, unknown>, defaults: Record<string, unknown>, opaque: string[] = []): string[] {
    const unknown: string[] = [];
    const walk = (ours: Record<string, unknown>, theirs: Record<string, unknown>, prefix: string) => {
        for (const [key, value] of Object.entries(ours)) {
            const p = prefix ? `${prefix}.${key}` : key;
            if (opaque.includes(p) || (FREE_FORM.includes(key) && key in theirs)) continue;
            if (!(key in theirs)) {
                unknown.push(p);
                continue;
            }
            const def = theirs[key];
            if (isMap(value) && isMap(def) && Object.keys(def).length > 0) walk(value, def, p);
        }
    };
    walk(values, defaults, "");
    return unknown;
}

/** The value at a dotted path. */
export function at(obj: unknown, dotted: string): unknown {
    return dotted.split(".").reduce<unknown>((o, k) => (isMap(o) ? o[k] : undefined), obj);
}
