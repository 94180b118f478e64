import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { CHARTS, CHART_CACHE as CACHE_FOLDER, chartArchive } from "../config/catalog";
import { readChart } from "./chart-archive";

// `npm run charts:types`: TypeScript types of each pinned chart's values,
// generated from its archive in the chart cache (.charts/<chart>-<version>.tgz,
// filled by `npm run charts`) into config/chart-values/. Helm ignores a values
// key no template reads; with these types tsc refuses a key the chart does
// not have, at compile time.
//
// Key paths and types come from values.yaml (types inferred from the
// defaults), refined by values.schema.json where the chart ships one, plus the
// keys the chart's templates read as `.Values.a.b` that values.yaml leaves
// out (typed `unknown`). Vendored subcharts (charts/<name>/) add their own
// values under their name (or alias), their globals under `global`. Free-form
// maps (Kubernetes fields, empty or null defaults) are open; everything else
// is closed. Every key is optional: values are overrides.

export const REPO_ROOT = path.resolve(__dirname, "..");
export const CHART_CACHE = path.join(REPO_ROOT, CACHE_FOLDER);
export const TYPES_DIR = path.join(REPO_ROOT, "config", "chart-values");

/** Keys whose values are Kubernetes objects or free-form maps in every chart: open whatever their default. */
const FREE_FORM =
    /^(nodeSelector|tolerations|affinity|topologySpreadConstraints|resources|securityContext|podSecurityContext|containerSecurityContext|env|extraEnv|envFrom|annotations|labels|[a-z][A-Za-z]*(Annotations|Labels))$/;

/**
 * Maps a chart documents as free-form although its defaults show keys: passed
 * through to a program's own configuration.
 */
const OPEN_PATHS: Record<string, string[][]> = {
    // z2jh passes hub.config to JupyterHub's traitlets config (jupyterhub 4.4.0, values.yaml and files/hub/jupyterhub_config.py).
    jupyterhub: [["hub", "config"]],
    // grafana renders grafana.ini's sections into the ini file verbatim (grafana 12.11.1, templates/_config.tpl).
    "kube-prometheus-stack": [["grafana", "grafana.ini"]],
};

type Shape =
    | { kind: "leaf"; ts: string }
    | { kind: "open" }
    | { kind: "array"; items: Shape }
    | { kind: "object"; props: Map<string, Prop>; index?: Shape; closed?: boolean }
    | { kind: "union"; members: Shape[] };
interface Prop {
    shape: Shape;
    note?: string;
}

const UNKNOWN: Shape = { kind: "leaf", ts: "unknown" };
const OPEN: Shape = { kind: "open" };
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

function scalar(v: unknown): Shape | undefined {
    if (typeof v === "string" || v instanceof Date) return { kind: "leaf", ts: "string" };
    if (typeof v === "number") return { kind: "leaf", ts: "number" };
    if (typeof v === "boolean") return { kind: "leaf", ts: "boolean" };
    return undefined;
}

function freeForm(v: unknown): Shape {
    if (Array.isArray(v)) return { kind: "array", items: UNKNOWN };
    return isMap(v) ? OPEN : UNKNOWN;
}

/** The shape values.yaml's default `v` of key `name` shows. */
function fromYaml(v: unknown, name: string): Shape {
    if (FREE_FORM.test(name)) return freeForm(v);
    if (v === null || v === undefined) return UNKNOWN;
    if (Array.isArray(v)) {
        const items = v.map(scalar);
        const ts = new Set(items.map((s) => (s?.kind === "leaf" ? s.ts : "")));
        return { kind: "array", items: v.length > 0 && ts.size === 1 && !ts.has("") ? (items[0] as Shape) : UNKNOWN };
    }
    if (isMap(v)) {
        if (Object.keys(v).length === 0) return OPEN;
        return { kind: "object", props: new Map(Object.entries(v).map(([k, x]) => [k, { shape: fromYaml(x, k) }])) };
    }
    return scalar(v) ?? UNKNOWN;
}

type Schema = Record<string, unknown>;

/** values.yaml's shape `base` refined by the JSON schema `s` (resolved in `root`). */
function fromSchema(s: unknown, base: Shape | undefined, root: Schema, name: string, seen: string[] = []): Shape {
    if (!isMap(s)) return base ?? UNKNOWN;
    if (typeof s.$ref === "string") {
        if (!s.$ref.startsWith("#/")) throw new Error(`values.schema.json: only local $refs are supported, not ${s.$ref}`);
        if (seen.includes(s.$ref)) return base ?? UNKNOWN;
        const target = s.$ref
            .slice(2)
            .split("/")
            .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
            .reduce<unknown>((o, k) => (isMap(o) ? o[k] : undefined), root);
        if (target === undefined) throw new Error(`values.schema.json: $ref ${s.$ref} points nowhere`);
        const { $ref, ...rest } = s;
        return fromSchema({ ...(target as object), ...rest }, base, root, name, [...seen, $ref]);
    }
    const { allOf, anyOf, oneOf, ...rest } = s;
    if (Array.isArray(allOf))
        return allOf.reduce<Shape>((shape, part) => fromSchema(part, shape, root, name, seen), fromSchema({ ...rest, anyOf, oneOf }, base, root, name, seen));
    const variants = anyOf ?? oneOf;
    if (Array.isArray(variants)) return union(variants.map((v) => fromSchema({ ...rest, ...(v as object) }, base, root, name, seen)));
    const literals = "const" in s ? [s.const] : Array.isArray(s.enum) ? s.enum : undefined;
    if (literals && literals.every((l) => ["string", "number", "boolean"].includes(typeof l) || l === null)) {
        return union(literals.map((l) => ({ kind: "leaf", ts: JSON.stringify(l) }) as Shape));
    }
    let types: string[] = Array.isArray(s.type) ? s.type : typeof s.type === "string" ? [s.type] : [];
    if (types.length === 0) {
        // Without a type, `items` constrains arrays only: nothing to say about other values.
        if (isMap(s.properties) || s.additionalProperties !== undefined) types = ["object"];
        else if (s.items !== undefined && base?.kind === "array") types = ["array"];
        else return base ?? UNKNOWN;
    }
    const members = types.map((t): Shape => {
        switch (t) {
            case "string":
                return { kind: "leaf", ts: "string" };
            case "integer":
            case "number":
                return { kind: "leaf", ts: "number" };
            case "boolean":
                return { kind: "leaf", ts: "boolean" };
            case "null":
                return { kind: "leaf", ts: "null" };
            case "array": {
                const items =
                    s.items !== undefined
                        ? fromSchema(s.items, base?.kind === "array" ? base.items : undefined, root, name, seen)
                        : base?.kind === "array"
                          ? base.items
                          : UNKNOWN;
                // List entries are mostly Kubernetes objects whose schema names a few fields: closed only where the schema says so.
                return { kind: "array", items: items.kind === "object" && !(items.closed && !items.index) ? OPEN : items };
            }
            case "object":
                return objectFromSchema(s, base, root, name, seen);
            default:
                return base ?? UNKNOWN;
        }
    });
    return union(members);
}

function objectFromSchema(s: Schema, base: Shape | undefined, root: Schema, name: string, seen: string[]): Shape {
    if (FREE_FORM.test(name)) return base ?? OPEN;
    const baseProps = base?.kind === "object" ? base.props : new Map<string, Prop>();
    const schemaProps: Schema = isMap(s.properties) ? s.properties : {};
    const props = new Map<string, Prop>();
    const child = (k: string, b: Shape | undefined) => (FREE_FORM.test(k) ? (b ?? UNKNOWN) : fromSchema(schemaProps[k], b, root, k, seen));
    for (const [k, p] of baseProps) props.set(k, { ...p, shape: k in schemaProps ? child(k, p.shape) : p.shape });
    for (const k of Object.keys(schemaProps)) if (!props.has(k)) props.set(k, { shape: child(k, undefined) });
    const index = isMap(s.additionalProperties) ? fromSchema(s.additionalProperties, undefined, root, name, seen) : undefined;
    if (index && props.size > 0) {
        // Entries the defaults name are entries of the map too: refine them by the entry schema.
        for (const [k, p] of props) if (!(k in schemaProps)) props.set(k, { ...p, shape: fromSchema(s.additionalProperties, p.shape, root, k, seen) });
    }
    if (props.size === 0 && !index)
        return s.additionalProperties === false ? { kind: "object", props, closed: true } : base?.kind === "open" || !base ? OPEN : base;
    return { kind: "object", props, index, closed: s.additionalProperties === false || index !== undefined };
}

function union(members: Shape[]): Shape {
    const unique = new Map(members.map((m) => [emit(m, ""), m]));
    if (unique.has("unknown")) return UNKNOWN;
    return unique.size === 1 ? [...unique.values()][0] : { kind: "union", members: [...unique.values()] };
}

/** `b` (a subchart's own values) joined with `a` (what the parent's values.yaml sets under its name). */
function merge(a: Shape, b: Shape): Shape {
    if (a.kind === "object" && b.kind === "object") {
        const props = new Map(a.props);
        for (const [k, p] of b.props) props.set(k, props.has(k) ? { ...p, shape: merge((props.get(k) as Prop).shape, p.shape) } : p);
        return { kind: "object", props, index: b.index ?? a.index, closed: a.closed || b.closed };
    }
    if (a.kind === "object" && (b.kind === "open" || (b.kind === "leaf" && b.ts === "unknown"))) return a;
    return b;
}

/** `.Values.a.b` paths the templates under `dir` read. */
function templatePaths(files: Map<string, string>, dir: string): string[][] {
    const found = new Set<string>();
    for (const [p, text] of files) {
        if (!p.startsWith(`${dir}templates/`) || p.slice(dir.length).includes("/charts/")) continue;
        for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) found.add(m[1].slice(1));
    }
    return [...found].sort().map((p) => p.split("."));
}

function addTemplateKeys(shape: Shape, paths: string[][], chart: string): void {
    for (const segments of paths) {
        let node = shape;
        for (const seg of segments) {
            if (node.kind !== "object" || node.index) break;
            const prop = node.props.get(seg);
            if (!prop) {
                // A closed schema would refuse the key anyway.
                if (!node.closed) node.props.set(seg, { shape: UNKNOWN, note: `read by ${chart}'s templates, not in its values.yaml` });
                break;
            }
            node = prop.shape;
        }
    }
}

/** The values shape of the chart in folder `dir` ("" or "charts/grafana/") of the archive. */
function chartShape(files: Map<string, string>, dir: string): { shape: Shape; globals: Shape | undefined } {
    const chartYaml = yaml.load(files.get(`${dir}Chart.yaml`) ?? "") as { name: string; dependencies?: { name: string; alias?: string }[] };
    const text = files.get(`${dir}values.yaml`);
    const values = text === undefined ? {} : (yaml.load(text) ?? {});
    if (!isMap(values)) throw new Error(`${dir}values.yaml is not a map`);
    let shape = fromYaml(values, "");
    if (shape.kind !== "object") shape = { kind: "object", props: new Map() };
    const schemaText = files.get(`${dir}values.schema.json`);
    if (schemaText !== undefined) {
        const schema = JSON.parse(schemaText);
        shape = fromSchema(schema, shape, schema, "");
        if (shape.kind !== "object") throw new Error(`${dir}values.schema.json does not describe a map`);
    }
    addTemplateKeys(shape, templatePaths(files, dir), chartYaml.name);
    const root = shape as Extract<Shape, { kind: "object" }>;

    const subcharts = [...files.keys()].filter((p) => p.startsWith(`${dir}charts/`) && /^charts\/[^/]+\/Chart\.yaml$/.test(p.slice(dir.length))).sort();
    for (const sub of subcharts) {
        const subDir = sub.slice(0, -"Chart.yaml".length);
        const subName = (yaml.load(files.get(sub) as string) as { name: string }).name;
        const dep = chartYaml.dependencies?.find((d) => d.name === subName);
        const key = dep?.alias ?? subName;
        const { shape: subShape, globals } = chartShape(files, subDir);
        const own = root.props.get(key);
        root.props.set(key, { ...own, shape: own ? merge(own.shape, subShape) : subShape });
        if (globals) {
            const g = root.props.get("global");
            root.props.set("global", { ...g, shape: g ? merge(g.shape, globals) : globals });
        }
    }
    // Helm shares `global` with every subchart: the parent takes them up.
    const globals = root.props.get("global")?.shape;
    if (dir !== "") root.props.delete("global");
    return { shape: root, globals: dir !== "" ? globals : undefined };
}

function openPath(shape: Shape, segments: string[], chart: string): void {
    let node = shape;
    for (const seg of segments.slice(0, -1)) {
        const next = node.kind === "object" ? node.props.get(seg) : undefined;
        if (!next) throw new Error(`${chart}: open path ${segments.join(".")} not in the chart's values`);
        node = next.shape;
    }
    const last = node.kind === "object" ? node.props.get(segments[segments.length - 1]) : undefined;
    if (!last) throw new Error(`${chart}: open path ${segments.join(".")} not in the chart's values`);
    last.shape = OPEN;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function emit(shape: Shape, indent: string): string {
    switch (shape.kind) {
        case "leaf":
            return shape.ts;
        case "open":
            return "Record<string, unknown>";
        case "array": {
            const item = emit(shape.items, indent);
            return shape.items.kind === "union" || (shape.items.kind === "object" && shape.items.index && shape.items.props.size > 0)
                ? `(${item})[]`
                : `${item}[]`;
        }
        case "union":
            return shape.members.map((m) => emit(m, indent)).join(" | ");
        case "object": {
            const inner = `${indent}    `;
            const lines = [...shape.props].map(
                ([k, p]) => `${p.note ? `${inner}/** ${p.note} */\n` : ""}${inner}${IDENT.test(k) ? k : JSON.stringify(k)}?: ${emit(p.shape, inner)};`,
            );
            const body = lines.length === 0 ? "{}" : `{\n${lines.join("\n")}\n${indent}}`;
            if (!shape.index) return lines.length === 0 ? "Record<string, never>" : body;
            const index = `Record<string, ${emit(shape.index, indent)}>`;
            return lines.length === 0 ? index : `${body} & ${index}`;
        }
    }
}

const typeName = (chart: string) => `${chart.replace(/(^|[^A-Za-z0-9])([a-z0-9])/g, (_, __, c: string) => c.toUpperCase())}Values`;

/** The generated file of one chart: its archive at `archive` must hold `entry`'s chart and version. */
export function chartTypeFile(archive: string, entry: { chart: string; version: string }): string {
    const id = `${entry.chart}-${entry.version}`;
    if (!fs.existsSync(archive)) throw new Error(`${path.relative(REPO_ROOT, archive)} missing: run \`npm run charts\` to fill the chart cache`);
    const { files } = readChart(archive);
    const meta = yaml.load(files.get("Chart.yaml") ?? "") as { name?: string; version?: string } | undefined;
    if (meta?.name !== entry.chart || String(meta?.version) !== entry.version) {
        throw new Error(`${path.relative(REPO_ROOT, archive)} holds ${meta?.name} ${meta?.version}, config/catalog.ts pins ${entry.chart} ${entry.version}`);
    }
    const { shape } = chartShape(files, "");
    for (const p of OPEN_PATHS[entry.chart] ?? []) openPath(shape, p, entry.chart);
    return [
        `// generated by npm run charts:types from ${id}, do not edit`,
        "",
        `/** Values of the ${entry.chart} chart ${entry.version}: every key optional; open maps where the chart takes free-form ones. */`,
        `export interface ${typeName(entry.chart)} ${emit(shape, "")}`,
        "",
    ].join("\n");
}

/** The generated files (name -> content) for every chart of the catalog, from the archives in `cache`. */
export function generateChartTypes(cache = CHART_CACHE): Map<string, string> {
    const entries = Object.values(CHARTS).sort((a, b) => a.chart.localeCompare(b.chart));
    const out = new Map<string, string>();
    const index: string[] = [];
    for (const entry of entries) {
        const twin = entries.find((e) => e.chart === entry.chart && e.version !== entry.version);
        if (twin) throw new Error(`config/catalog.ts pins ${entry.chart} at ${entry.version} and ${twin.version}: one values type per chart, pick one version`);
        if (out.has(`${entry.chart}.ts`)) continue;
        out.set(`${entry.chart}.ts`, chartTypeFile(path.join(cache, path.basename(chartArchive(entry))), entry));
        index.push(entry.chart);
    }
    const key = (c: string) => (IDENT.test(c) ? c : JSON.stringify(c));
    out.set(
        "index.ts",
        [
            "// generated by npm run charts:types, do not edit",
            "",
            ...index.map((c) => `import { ${typeName(c)} } from "./${c}";`),
            "",
            "/** Values type of each chart in config/catalog.ts, by chart name. */",
            "export interface ChartValues {",
            ...index.map((c) => `    ${key(c)}: ${typeName(c)};`),
            "}",
            "",
            "/** The chart version each type was generated from. */",
            "export const CHART_VALUES_VERSIONS = {",
            ...index.map((c) => `    ${key(c)}: ${JSON.stringify(entries.find((e) => e.chart === c)?.version)},`),
            "} as const;",
            "",
        ].join("\n"),
    );
    return out;
}

/** Writes the generated files, removing those of charts no longer in the catalog. */
export function writeChartTypes(cache = CHART_CACHE, dir = TYPES_DIR): string[] {
    const files = generateChartTypes(cache);
    fs.mkdirSync(dir, { recursive: true });
    for (const old of fs.readdirSync(dir)) if (old.endsWith(".ts") && !files.has(old)) fs.rmSync(path.join(dir, old));
    for (const [name, text] of files) fs.writeFileSync(path.join(dir, name), text);
    return [...files.keys()];
}

if (require.main === module) {
    try {
        for (const f of writeChartTypes()) console.log(path.relative(REPO_ROOT, path.join(TYPES_DIR, f)));
    } catch (e) {
        console.error(`charts:types: ${(e as Error).message}`);
        process.exit(1);
    }
}
