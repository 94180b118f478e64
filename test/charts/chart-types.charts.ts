import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { chartArchive, CHARTS } from "../../config/catalog";
import { readArchive } from "../../scripts/chart-archive";
import { generateChartTypes, REPO_ROOT, TYPES_DIR } from "../../scripts/chart-types";

// Needs the chart cache (.charts/, `npm run charts`): part of `npm run test:charts`.

const archives = Object.values(CHARTS).map((e) => path.join(REPO_ROOT, chartArchive(e)));

describe("chart values types (from the chart cache)", function () {
    before(() => {
        const missing = archives.filter((a) => !fs.existsSync(a));
        assert.deepStrictEqual(missing, [], "run `npm run charts` first");
    });

    it("are what npm run charts:types generates from the pinned archives (regenerate after a chart bump)", () => {
        const generated = generateChartTypes();
        const committed = fs.readdirSync(TYPES_DIR).filter((f) => f.endsWith(".ts"));
        assert.deepStrictEqual(committed.sort(), [...generated.keys()].sort(), "config/chart-values/ files: run `npm run charts:types`");
        for (const [name, text] of generated) {
            const file = path.join(TYPES_DIR, name);
            const have = fs.readFileSync(file, "utf8").split("\n");
            const want = text.split("\n");
            const line = want.findIndex((l, i) => have[i] !== l);
            assert.ok(
                line < 0 && have.length === want.length,
                `${path.relative(REPO_ROOT, file)} differs from its chart archive at line ${line + 1} (${JSON.stringify(have[line])}, generated ${JSON.stringify(want[line])}): run \`npm run charts:types\``,
            );
        }
    });

    it("read every regular file of every archive, as tar itself lists them", () => {
        for (const archive of archives) {
            assert.ok(fs.existsSync(archive), `${path.relative(REPO_ROOT, archive)} missing: run \`npm run charts\``);
            const listed = execFileSync("tar", ["-tzf", archive], { encoding: "utf8" })
                .split("\n")
                .filter((l) => l !== "" && !l.endsWith("/"));
            const files = readArchive(archive);
            assert.deepStrictEqual([...files.keys()].sort(), listed.sort(), archive);
            const valuesYaml = `${listed[0].split("/")[0]}/values.yaml`;
            assert.ok(execFileSync("tar", ["-xzOf", archive, valuesYaml]).equals(files.get(valuesYaml) as Buffer), `${archive}: ${valuesYaml} bytes`);
        }
    });
});
