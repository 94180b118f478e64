import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as nodeModule from "module";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { REPO_ROOT } from "./harness/stack-config";

// How Pulumi starts the program: the compiled JavaScript that tsc writes, with
// the start-up preload that Pulumi.yaml's nodeargs names.

interface Project {
    main: string;
    runtime: { name: string; options: { typescript?: boolean; nodeargs?: string } };
}

const project = yaml.load(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as Project;
const tsconfig = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "tsconfig.json"), "utf8")) as {
    compilerOptions: { outDir: string; rootDir: string };
    include: string[];
};

/** The TypeScript source that tsc compiles to `compiled` (a path under outDir). */
function sourceOf(compiled: string): string {
    const { outDir, rootDir } = tsconfig.compilerOptions;
    const relative = path.relative(path.join(REPO_ROOT, outDir), compiled);
    assert.ok(!relative.startsWith(".."), `${compiled} is under ${outDir}/`);
    return path.join(REPO_ROOT, rootDir, relative.replace(/\.js$/, ".ts"));
}

/** The file a `--require` in nodeargs loads: Pulumi runs node in the directory of `main`. */
function preloadPath(): string {
    const args = (project.runtime.options.nodeargs ?? "").split(/\s+/).filter(Boolean);
    const at = args.indexOf("--require");
    assert.ok(at >= 0 && args[at + 1], `nodeargs "${project.runtime.options.nodeargs}" preloads a file`);
    return path.resolve(path.dirname(path.join(REPO_ROOT, project.main)), args[at + 1]);
}

describe("Pulumi project", () => {
    it("runs compiled JavaScript, never type-checking at start-up", () => {
        assert.strictEqual(project.runtime.name, "nodejs");
        assert.strictEqual(project.runtime.options.typescript, false);
        const entry = sourceOf(path.join(REPO_ROOT, project.main));
        assert.strictEqual(path.relative(REPO_ROOT, entry), "index.ts");
        assert.ok(tsconfig.include.includes("index.ts"));
    });

    it("preloads a compiled file of this project, relative to the directory of main", () => {
        const source = sourceOf(preloadPath());
        assert.ok(fs.existsSync(source), `${path.relative(REPO_ROOT, source)} exists`);
        assert.ok(tsconfig.include.includes(path.relative(REPO_ROOT, source)), "tsc compiles it");
    });

    it("the test runner preloads the same start-up file (after ts-node, whose source-map-support it wraps)", () => {
        const mocharc = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, ".mocharc.json"), "utf8")) as { require: string[] };
        const preload = path.relative(REPO_ROOT, sourceOf(preloadPath()));
        const at = mocharc.require.map((r) => path.relative(REPO_ROOT, path.resolve(REPO_ROOT, r))).indexOf(preload);
        assert.ok(at >= 0, `.mocharc.json requires ${preload}: ${mocharc.require.join(", ")}`);
        assert.ok(mocharc.require.indexOf("ts-node/register/transpile-only") < at, "ts-node first, so its .ts loader compiles the preload");
    });

    it("the preload turns on Node's compile cache where Node has one, and starts cleanly where it has not", () => {
        const source = sourceOf(preloadPath());
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-preload-"));
        const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
        delete env.NODE_COMPILE_CACHE;
        try {
            const cacheDir = execFileSync(
                process.execPath,
                ["-r", "ts-node/register/transpile-only", "-r", source, "-p", "require('module').getCompileCacheDir?.() ?? 'none'"],
                { cwd: REPO_ROOT, env, encoding: "utf8" },
            ).trim();
            if (typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === "function") {
                assert.ok(cacheDir.startsWith(tmp), `compile cache in the temp directory, got ${cacheDir}`);
            } else {
                assert.strictEqual(cacheDir, "none");
            }
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });
});
