import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { chartArchive, ChartEntry, CHARTS } from "../config/catalog";
import { helm } from "./helm";

// `npm run charts`: puts every chart of config/catalog.ts into
// .charts/<chart>-<version>.tgz, from the folder GEOPLATFORM_CHART_MIRROR names
// or else with `helm pull` from the catalog's repository, and refuses an
// archive whose Chart.yaml is not the catalog's chart and version. Deploys and
// `npm run test:charts` use these archives; nothing downloads a chart later.

export const ROOT = path.resolve(__dirname, "..");
export const MIRROR_ENV = "GEOPLATFORM_CHART_MIRROR";

/** Name and version in an archive's Chart.yaml, or why it is not the catalog's. */
export async function archiveMismatch(file: string, entry: ChartEntry): Promise<string | undefined> {
    let meta: { name?: string; version?: string };
    try {
        meta = yaml.load(await helm(["show", "chart", file])) as { name?: string; version?: string };
    } catch (e) {
        return `${file} is not a readable chart archive (${(e as Error).message})`;
    }
    if (meta?.name === entry.chart && String(meta?.version) === entry.version) return undefined;
    return `${file} holds chart ${meta?.name} ${meta?.version}, but config/catalog.ts pins ${entry.chart} ${entry.version}`;
}

/** Fetches one chart archive into a scratch folder; returns its path. */
async function fetchArchive(entry: ChartEntry, mirror: string | undefined, scratch: string): Promise<string> {
    const file = path.basename(chartArchive(entry));
    if (mirror) {
        const source = path.join(mirror, file);
        if (!fs.existsSync(source)) {
            throw new Error(
                `${file} is not in the chart mirror ${mirror} (${MIRROR_ENV}). Either run \`npm run charts\` without ${MIRROR_ENV} where ${entry.repo} is reachable, ` +
                    `or add the archive to the mirror (\`helm pull ${entry.chart} --repo ${entry.repo} --version ${entry.version}\`, or \`helm package\` of the chart's source at that tag).`,
            );
        }
        const copy = path.join(scratch, file);
        fs.copyFileSync(source, copy);
        return copy;
    }
    const ref = entry.repo.startsWith("oci://") ? [`${entry.repo.replace(/\/$/, "")}/${entry.chart}`] : [entry.chart, "--repo", entry.repo];
    const into = fs.mkdtempSync(path.join(scratch, "pull-"));
    await helm(["pull", ...ref, "--version", entry.version, "--destination", into]);
    const pulled = fs.readdirSync(into).filter((f) => f.endsWith(".tgz"));
    if (pulled.length !== 1) throw new Error(`helm pull ${entry.chart} ${entry.version} left ${pulled.length} archives in ${into}`);
    return path.join(into, pulled[0]);
}

/** Ensures the cached archive of `entry` exists and is the catalog's chart; returns what it did. */
export async function ensureChart(entry: ChartEntry, mirror: string | undefined, root = ROOT): Promise<"kept" | "copied" | "pulled"> {
    const target = path.join(root, chartArchive(entry));
    if (fs.existsSync(target) && !(await archiveMismatch(target, entry))) return "kept";
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-charts-"));
    try {
        const fetched = await fetchArchive(entry, mirror, scratch);
        const mismatch = await archiveMismatch(fetched, entry);
        if (mismatch) throw new Error(`refusing ${mirror ? "the mirror's" : "the pulled"} archive: ${mismatch.replace(fetched, path.basename(fetched))}`);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        // Copy beside the target and rename: a reader never sees a half-written archive.
        fs.copyFileSync(fetched, `${target}.partial`);
        fs.renameSync(`${target}.partial`, target);
        return mirror ? "copied" : "pulled";
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

/** Every catalog chart once (two catalog entries may share a chart and version). */
export function catalogCharts(catalog: Record<string, ChartEntry> = CHARTS): ChartEntry[] {
    const seen = new Map<string, ChartEntry>();
    for (const entry of Object.values(catalog)) seen.set(chartArchive(entry), entry);
    return [...seen.values()];
}

export async function main(catalog: Record<string, ChartEntry> = CHARTS, root = ROOT): Promise<number> {
    const mirrorSetting = process.env[MIRROR_ENV];
    const mirror = mirrorSetting ? path.resolve(mirrorSetting) : undefined;
    if (mirror && !fs.statSync(mirror, { throwIfNoEntry: false })?.isDirectory()) {
        console.error(
            `${MIRROR_ENV}=${mirrorSetting} is not a folder: point it at a folder of <chart>-<version>.tgz archives, or unset it to pull from the repositories.`,
        );
        return 1;
    }
    const failures: string[] = [];
    for (const entry of catalogCharts(catalog)) {
        try {
            console.log(`${await ensureChart(entry, mirror, root)} ${chartArchive(entry)}`);
        } catch (e) {
            failures.push(`${entry.chart} ${entry.version}: ${(e as Error).message}`);
        }
    }
    for (const f of failures) console.error(f);
    return failures.length === 0 ? 0 : 1;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (e) => {
            console.error(e);
            process.exit(1);
        },
    );
}
