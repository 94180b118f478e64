import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ChartEntry } from "../config/catalog";
import { main, MIRROR_ENV } from "../scripts/charts";
import { helm } from "../scripts/helm";

// `npm run charts` on a tiny chart that helm itself creates and packages: copies from the
// mirror, keeps a correct archive, replaces a broken one, refuses a mismatch, explains a miss.

const entry = (version: string): ChartEntry => ({ chart: "demo", repo: "https://charts.example.invalid", version, namespace: "demo", nodeGroup: "system" });

async function capture(run: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const [log, error] = [console.log, console.error];
    console.log = (m: string) => out.push(m);
    console.error = (m: string) => err.push(m);
    try {
        return { code: await run(), out: out.join("\n"), err: err.join("\n") };
    } finally {
        [console.log, console.error] = [log, error];
    }
}

describe("npm run charts (scripts/charts.ts)", function () {
    this.timeout(120000);
    let dir: string;
    let mirror: string;
    let root: string;
    const saved = process.env[MIRROR_ENV];

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-charts-test-"));
        mirror = path.join(dir, "mirror");
        root = path.join(dir, "root");
        fs.mkdirSync(mirror);
        fs.mkdirSync(root);
        await helm(["create", "demo"], { cwd: dir });
        await helm(["package", path.join(dir, "demo"), "--version", "1.0.0", "--destination", mirror]);
        // An archive named for 1.1.0 that holds 1.0.0: what a mislabelled mirror would give.
        fs.copyFileSync(path.join(mirror, "demo-1.0.0.tgz"), path.join(mirror, "demo-1.1.0.tgz"));
        process.env[MIRROR_ENV] = mirror;
    });
    after(() => {
        if (saved === undefined) delete process.env[MIRROR_ENV];
        else process.env[MIRROR_ENV] = saved;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("copies a catalog chart from the mirror into .charts/<chart>-<version>.tgz, then keeps it", async () => {
        const first = await capture(() => main({ demo: entry("1.0.0") }, root));
        assert.deepStrictEqual([first.code, first.out], [0, "copied .charts/demo-1.0.0.tgz"]);
        const target = path.join(root, ".charts", "demo-1.0.0.tgz");
        const mtime = fs.statSync(target).mtimeMs;
        const second = await capture(() => main({ demo: entry("1.0.0") }, root));
        assert.deepStrictEqual([second.code, second.out, fs.statSync(target).mtimeMs], [0, "kept .charts/demo-1.0.0.tgz", mtime]);
    });

    it("replaces a cached archive that is not the catalog's chart", async () => {
        fs.writeFileSync(path.join(root, ".charts", "demo-1.0.0.tgz"), "not a chart");
        const run = await capture(() => main({ demo: entry("1.0.0") }, root));
        assert.deepStrictEqual([run.code, run.out], [0, "copied .charts/demo-1.0.0.tgz"]);
    });

    it("refuses an archive whose Chart.yaml does not match the catalog, saying both", async () => {
        const run = await capture(() => main({ demo: entry("1.1.0") }, root));
        assert.strictEqual(run.code, 1);
        assert.match(
            run.err,
            /^demo 1\.1\.0: refusing the mirror's archive: demo-1\.1\.0\.tgz holds chart demo 1\.0\.0, but config\/catalog\.ts pins demo 1\.1\.0$/,
        );
        assert.ok(!fs.existsSync(path.join(root, ".charts", "demo-1.1.0.tgz")));
    });

    it("says how to get a catalog chart the mirror lacks", async () => {
        const run = await capture(() => main({ demo: entry("2.0.0") }, root));
        assert.strictEqual(run.code, 1);
        assert.match(
            run.err,
            /demo-2\.0\.0\.tgz is not in the chart mirror .* Either run `npm run charts` without GEOPLATFORM_CHART_MIRROR where https:\/\/charts\.example\.invalid is reachable, or add the archive to the mirror \(`helm pull demo --repo https:\/\/charts\.example\.invalid --version 2\.0\.0`/,
        );
    });

    it("refuses a mirror setting that is not a folder", async () => {
        process.env[MIRROR_ENV] = path.join(dir, "nowhere");
        try {
            const run = await capture(() => main({ demo: entry("1.0.0") }, root));
            assert.strictEqual(run.code, 1);
            assert.match(run.err, /GEOPLATFORM_CHART_MIRROR=.*nowhere is not a folder/);
        } finally {
            process.env[MIRROR_ENV] = mirror;
        }
    });
});
