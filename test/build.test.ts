import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { REPO_ROOT } from "./harness/stack-config";

// `npm run build` compiles the program alone: bin/ holds what Pulumi runs and
// nothing that needs the tests' or the policy pack's dependencies.

describe("the build", () => {
    it("compiles the program's own sources only: no tests, bench or policy pack", function () {
        this.timeout(120_000);
        const tsc = require.resolve("typescript/bin/tsc");
        const files = execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--listFilesOnly"], { cwd: REPO_ROOT, encoding: "utf8" })
            .split("\n")
            .map((f) => path.relative(REPO_ROOT, f.trim()))
            .filter((f) => f && !f.startsWith("node_modules"));
        assert.ok(files.includes("index.ts") && files.includes("program.ts") && files.includes("startup.ts"), files.join(", "));
        const foreign = files.filter((f) => /^(test|bench|policy|scripts)\//.test(f));
        assert.deepStrictEqual(foreign, [], "the program imports nothing from test/, bench/, policy/ or scripts/");
    });
});
