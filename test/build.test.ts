import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import { builtinModules } from "module";
import * as path from "path";
import { REPO_ROOT } from "./harness/stack-config";

// `npm run build` compiles the program alone: bin/ holds what Pulumi runs and
// nothing that needs the tests' or the policy pack's dependencies.

/** The project's own sources `npm run build` compiles (tsc's own list, so includes and imports both count). */
function programSources(): string[] {
    const tsc = require.resolve("typescript/bin/tsc");
    return execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--listFilesOnly"], { cwd: REPO_ROOT, encoding: "utf8" })
        .split("\n")
        .map((f) => path.relative(REPO_ROOT, f.trim()))
        .filter((f) => f && !f.split(path.sep).includes("node_modules"));
}

describe("the build", function () {
    this.timeout(120_000);
    let files: string[];
    before(() => (files = programSources()));

    it("compiles the program's own sources only: no tests, bench or policy pack", () => {
        assert.ok(files.includes("index.ts") && files.includes("program.ts") && files.includes("startup.ts"), files.join(", "));
        const foreign = files.filter((f) => /^(test|bench|policy|scripts)\//.test(f));
        assert.deepStrictEqual(foreign, [], "the program imports nothing from test/, bench/, policy/ or scripts/");
    });

    it("finds every package the program imports at run time in dependencies, not devDependencies", () => {
        const { dependencies } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
        const imported = new Set<string>();
        for (const file of files) {
            const source = fs.readFileSync(path.join(REPO_ROOT, file), "utf8");
            // Type-only imports vanish from the JavaScript; every other bare specifier is loaded by Node.
            for (const [, spec] of source.matchAll(/^import (?!type )[^;]*? from "([^".][^"]*)";/gm)) {
                const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
                if (!builtinModules.includes(name.replace(/^node:/, ""))) imported.add(name);
            }
        }
        assert.ok(imported.has("@pulumi/pulumi") && imported.has("js-yaml"), [...imported].join(", "));
        assert.deepStrictEqual(
            [...imported].filter((name) => !(name in dependencies)),
            [],
        );
    });

    it("loads @pulumi/kubernetes by sub-path only: its index requires every API group", () => {
        const index = files.filter((f) => /from "@pulumi\/kubernetes"/.test(fs.readFileSync(path.join(REPO_ROOT, f), "utf8")));
        assert.deepStrictEqual(index, [], "import platform/kubernetes.ts instead of the package index");
        const script = `require("./program"); console.log(JSON.stringify(Object.keys(require.cache).filter((f) => /@pulumi[\\/\\\\]kubernetes[\\/\\\\]index\\.js$/.test(f))))`;
        const loaded = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: REPO_ROOT, encoding: "utf8" });
        assert.deepStrictEqual(JSON.parse(loaded), [], "requiring the program loads no @pulumi/kubernetes index");
    });
});
