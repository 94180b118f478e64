import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { SKIPPED_CAPTURE } from "../startup";
import { REPO_ROOT } from "./harness/stack-config";

// startup.ts skips the stack of every promise the SDK wraps in debuggablePromise and leaves every other stack to
// the formatter installed after it. These tests pin the SDK function it skips and show that real errors keep
// every frame, mapped to the .ts sources, both as Pulumi starts the program and as mocha runs the tests.

const SDK_DEBUGGABLE = require.resolve("@pulumi/pulumi/runtime/debuggable");
// @internal in the SDK, so not in its typings.
const { debuggablePromise } = require(SDK_DEBUGGABLE) as { debuggablePromise<T>(p: Promise<T>, ctx: string): Promise<T> };
const SOURCE_MAP_SUPPORT = require.resolve("source-map-support/register", { paths: [path.dirname(require.resolve("@pulumi/pulumi"))] });

/** Runs `script` in a fresh node with `preloads`, in the order given; prints what the script writes. */
function node(preloads: string[], script: string, cwd = REPO_ROOT, env: NodeJS.ProcessEnv = {}): string {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.PULUMI_DEBUG_PROMISE_LEAKS;
    return execFileSync(process.execPath, [...preloads.flatMap((p) => ["-r", p]), "-e", script], { cwd, env: childEnv, encoding: "utf8" });
}

/** A real program error: config validation of an empty stack, thrown from config/validate.ts. */
const CONFIG_ERROR = (validate: string) => `try { require(${JSON.stringify(validate)}).validateConfig({}); } catch (e) { process.stdout.write(e.stack); }`;

/** The promise's `_debugStackTrace`, the stack the SDK captured for it. */
const CAPTURED = `const p = Promise.resolve(); require(${JSON.stringify(SDK_DEBUGGABLE)}).debuggablePromise(p, "test"); process.stdout.write(String(p._debugStackTrace));`;

/** `entry` and every project file it imports, transitively (relative imports only), as paths from the repo root. */
function localImports(entry: string, seen = new Set<string>()): string[] {
    if (seen.has(entry)) return [];
    seen.add(entry);
    const source = fs.readFileSync(path.join(REPO_ROOT, entry), "utf8");
    for (const [, spec] of source.matchAll(/from "(\.{1,2}\/[^"]+)"/g)) {
        const target = path.relative(REPO_ROOT, path.resolve(REPO_ROOT, path.dirname(entry), spec));
        localImports(fs.existsSync(path.join(REPO_ROOT, `${target}.ts`)) ? `${target}.ts` : `${target}/index.ts`, seen);
    }
    return [...seen];
}

describe("Stack traces (startup.ts)", () => {
    it("the SDK still captures `new Error().stack` in the function the formatter skips, in the file it expects", () => {
        const source = fs.readFileSync(SDK_DEBUGGABLE, "utf8");
        assert.ok(SKIPPED_CAPTURE.file.test(SDK_DEBUGGABLE), `${SDK_DEBUGGABLE} matches ${SKIPPED_CAPTURE.file}`);
        assert.match(source, new RegExp(`function ${SKIPPED_CAPTURE.functionName}\\(`));
        // Without the preload: the capture's top frame is the function the formatter looks for.
        const top = node(
            [],
            `Error.prepareStackTrace = (e, frames) => JSON.stringify({ message: e.message, name: frames[0].getFunctionName(), file: frames[0].getFileName() }); ${CAPTURED}`,
        );
        assert.deepStrictEqual(JSON.parse(top), { message: "", name: SKIPPED_CAPTURE.functionName, file: SDK_DEBUGGABLE });
    });

    it("in the test runner, a debuggablePromise capture is the header line only", async () => {
        const p = Promise.resolve() as Promise<void> & { _debugStackTrace?: string };
        await debuggablePromise(p, "test");
        assert.strictEqual(p._debugStackTrace, "Error");
    });

    it("the SDK's modules call debuggablePromise through the module object, so the wrapper startup.ts installs is the one they call", () => {
        const runtime = path.dirname(SDK_DEBUGGABLE);
        const callers = fs.readdirSync(runtime).filter((f) => f.endsWith(".js") && f !== "debuggable.js");
        const calls = callers.flatMap((f) => fs.readFileSync(path.join(runtime, f), "utf8").match(/[\w.]*debuggablePromise\(/g) ?? []);
        assert.ok(calls.length > 10, `the SDK's runtime calls debuggablePromise (${calls.length} calls)`);
        assert.deepStrictEqual([...new Set(calls)], ["debuggable_1.debuggablePromise("]);
        // This process has made captures by now (the test above), so the wrapper is installed.
        assert.notStrictEqual(require(SDK_DEBUGGABLE).debuggablePromise, debuggablePromise, "wrapped after the first skipped capture");
    });

    it("an error thrown inside the wrapped debuggablePromise keeps every frame", () => {
        const wrapped = require(SDK_DEBUGGABLE).debuggablePromise as (p: unknown, ctx: string) => unknown;
        // A non-promise makes the SDK's Object.defineProperty throw inside debuggablePromise.
        const error = (() => {
            try {
                wrapped(null, "test");
            } catch (e) {
                return e as Error;
            }
            throw new Error("debuggablePromise(null) did not throw");
        })();
        assert.match(String(error.stack), /^TypeError: [^\n]*\n(.*\n)*\s+at debuggablePromise \(.*debuggable\.(js|ts):\d+/);
        assert.match(String(error.stack), /stack-traces\.test\.ts:\d+/, "down to this test's frames");
    });

    it("as Pulumi starts the program (preload, then cmd/run's source-map-support): captures skipped, a program error's stack unchanged and mapped", () => {
        // The compiled program as tsc writes it (JavaScript next to its .js.map), in a scratch directory.
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-stacks-"));
        try {
            for (const file of ["startup.ts", ...localImports("config/validate.ts")]) {
                const { outputText, sourceMapText } = ts.transpileModule(fs.readFileSync(path.join(REPO_ROOT, file), "utf8"), {
                    fileName: path.join(REPO_ROOT, file),
                    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, sourceMap: true, esModuleInterop: true },
                });
                const js = path.join(out, file.replace(/\.ts$/, ".js"));
                fs.mkdirSync(path.dirname(js), { recursive: true });
                fs.writeFileSync(js, outputText);
                fs.writeFileSync(`${js}.map`, sourceMapText as string);
            }
            const env = { NODE_PATH: path.join(REPO_ROOT, "node_modules") };
            const validate = path.join(out, "config/validate.js");
            const withPreload = node([path.join(out, "startup.js"), SOURCE_MAP_SUPPORT], CONFIG_ERROR(validate), out, env);
            const without = node([SOURCE_MAP_SUPPORT], CONFIG_ERROR(validate), out, env);
            assert.strictEqual(withPreload, without, "the program error's stack is the one source-map-support gives without the preload");
            assert.match(withPreload, /^ConfigError: /);
            assert.match(withPreload, /\(.*[\\/]config[\\/]validate\.ts:\d+:\d+\)/, "frames mapped to the .ts sources");
            assert.strictEqual(node([path.join(out, "startup.js"), SOURCE_MAP_SUPPORT], CAPTURED, out, env), "Error");
            assert.match(node([SOURCE_MAP_SUPPORT], CAPTURED, out, env), /^Error\n\s+at \S*debuggablePromise /, "without the preload the SDK captures frames");
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
    });

    it("as mocha runs the tests (ts-node, then the preload): a program error's stack unchanged, with every frame", () => {
        const validate = path.join(REPO_ROOT, "config/validate.ts");
        const script = `Error.stackTraceLimit = Infinity; ${CONFIG_ERROR(validate)}`;
        const withPreload = node(["ts-node/register/transpile-only", path.join(REPO_ROOT, "startup.ts")], script);
        const without = node(["ts-node/register/transpile-only"], script);
        assert.strictEqual(withPreload, without);
        assert.match(withPreload, /\(.*[\\/]config[\\/]validate\.ts:\d+:\d+\)/);
    });

    it("a formatter saved and restored around a capture is the same formatter, and works while it is set", () => {
        const saved = Error.prepareStackTrace;
        try {
            Error.prepareStackTrace = (_error, frames) => frames;
            const frames = new Error().stack as unknown as NodeJS.CallSite[];
            assert.ok(Array.isArray(frames) && frames.length > 0, "a structured stack while the custom formatter is set");
        } finally {
            Error.prepareStackTrace = saved;
        }
        assert.strictEqual(Error.prepareStackTrace, saved);
        assert.match(String(new Error("after").stack), /^Error: after\n\s+at /);
    });
});
