import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { REPO_ROOT } from "./harness/stack-config";

// startup.ts defers the SDK's closure-serializer dependencies (@npmcli/arborist, TypeScript) until first use. These
// tests run plain Node, as `cmd/run` does (no ts-node, which would load TypeScript itself), with and without the
// preload: the modules stay unloaded, and function serialization answers exactly as without the deferral.

const preload = ts.transpileModule(fs.readFileSync(path.join(REPO_ROOT, "startup.ts"), "utf8"), {
    compilerOptions: { module: ts.ModuleKind.CommonJS },
}).outputText;

/** Runs `script` in plain Node from the project root, after the compiled startup.ts when `withPreload`; returns its JSON. */
function node(script: string, withPreload: boolean): any {
    // Wrapped in a function, so that its "use strict" does not make the script strict.
    const code = `${withPreload ? `(function () {\n${preload}\n})();` : ""}\n;(async () => { ${script} })().catch((e) => { console.error(e); process.exit(1); });`;
    return JSON.parse(execFileSync(process.execPath, ["-e", code], { cwd: REPO_ROOT, encoding: "utf8", maxBuffer: 64 * 2 ** 20 }));
}

const REPORT = `console.log(JSON.stringify({ arborist: Object.keys(require.cache).filter((f) => /@npmcli[\\/\\\\]arborist[\\/\\\\]lib[\\/\\\\]/.test(f)).length, typescript: Object.keys(require.cache).filter((f) => /[\\/\\\\]typescript[\\/\\\\]lib[\\/\\\\]typescript\\.js$/.test(f)).length }));`;

describe("startup.ts: the closure serializer's dependencies", function () {
    this.timeout(120_000);

    it("are required eagerly by @pulumi/pulumi's index without the preload (else the deferral is dead code)", () => {
        const counts = node(`require("@pulumi/pulumi"); ${REPORT}`, false);
        assert.ok(counts.arborist > 0 && counts.typescript === 1, JSON.stringify(counts));
    });

    it("are not loaded by @pulumi/pulumi's index with the preload: only their stand-ins are in require.cache", () => {
        const script = `require("@pulumi/pulumi"); const real = Object.keys(require.cache).filter((f) => /@npmcli[\\/\\\\]arborist[\\/\\\\]lib[\\/\\\\](?!index\\.js$)/.test(f)); console.log(JSON.stringify({ real: real.length, ts: typeof require("typescript").createSourceFile }));`;
        assert.deepStrictEqual(node(script, true), { real: 0, ts: "function" });
    });

    it("serialize functions exactly as without the deferral (TypeScript and arborist loaded on first use)", () => {
        const script =
            `const pulumi = require("@pulumi/pulumi"); const x = 41;` +
            `const closure = await pulumi.runtime.serializeFunction(function add(y) { return x + y; });` +
            `const paths = await pulumi.runtime.computeCodePaths({ extraExcludePackages: [] });` +
            `console.log(JSON.stringify({ text: closure.text, paths: [...paths.keys()].sort() }));`;
        const deferred = node(script, true);
        assert.ok(deferred.text.includes("x + y") && deferred.paths.length > 0, JSON.stringify(deferred).slice(0, 400));
        assert.deepStrictEqual(deferred, node(script, false));
    });
});
