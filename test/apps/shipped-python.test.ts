import * as assert from "assert";
import { execFileSync } from "child_process";
import { EXAMPLE_NOTEBOOK } from "../../apps/example-notebook";
import { EXAMPLE_NAME } from "../../apps/spark/example";
import { STACKS } from "../harness/stack-config";
import { one, runApps } from "./harness";

// The Python the program ships as text (the example notebook's code cells, the Spark job script), compiled by
// python3 as the kernel and spark-submit would read it: a syntax error fails here, not at a user's first cell.

const COMPILE = String.raw`
import json, sys
errors = []
for name, source in json.load(sys.stdin):
    try:
        compile(source, name, "exec")
    except SyntaxError as e:
        errors.append(f"{name}:{e.lineno}: {e.msg}")
print(json.dumps(errors))
`;

/** SyntaxErrors of each named source, as "name:line: message". */
function syntaxErrors(sources: [string, string][]): string[] {
    return JSON.parse(execFileSync("python3", ["-c", COMPILE], { input: JSON.stringify(sources), encoding: "utf8" }));
}

describe("apps: shipped Python compiles", () => {
    it("reports a syntax error in a source (the check can fail)", () => {
        const errors = syntaxErrors([
            ["ok", "x = 1\n"],
            ["broken", "x = 1\nif x\n    pass\n"],
        ]);
        assert.strictEqual(errors.length, 1);
        assert.match(errors[0], /^broken:2: /);
    });

    for (const stack of STACKS) {
        it(`compiles every code cell of the example notebook and the Spark job script (${stack})`, async () => {
            const run = await runApps(stack);
            const notebook = JSON.parse(one(run, "ConfigMap", "notebook-examples").inputs.data[EXAMPLE_NOTEBOOK]);
            const cells: [string, string][] = notebook.cells
                .filter((c: any) => c.cell_type === "code")
                .map((c: any, i: number): [string, string] => [`${EXAMPLE_NOTEBOOK} code cell ${i + 1}`, c.source.join("")]);
            assert.ok(cells.length >= 4, `the notebook has its code cells (${cells.length})`);
            const script = one(run, "ConfigMap", EXAMPLE_NAME).inputs.data["spatial_join.py"];
            assert.ok(script.length > 0);
            assert.deepStrictEqual(syntaxErrors([...cells, ["spatial_join.py", script]]), []);
        });
    }
});
