import * as assert from "assert";
import * as path from "path";
import * as ts from "typescript";
import { CHARTS } from "../config/catalog";
import { CHART_VALUES_VERSIONS } from "../config/chart-values";
import { REPO_ROOT } from "./harness/stack-config";

// The generated chart values types (config/chart-values, `npm run charts:types`)
// make tsc refuse a key a pinned chart does not have. These compile small
// programs that call catalogRelease the way the platform and apps do, through
// the TypeScript compiler, and look at what it says.

const HEADER = `import { CHARTS } from "../config/catalog";\nimport { catalogRelease, ReleaseValues } from "../platform/release";\nimport * as pulumi from "@pulumi/pulumi";\n`;

/** A catalogRelease call as the platform makes them. */
const release = (entry: string, values: string) => `catalogRelease("x", ${entry}, "ns", ${values}, {});\n`;

/** Fixtures (test/<name>.fixture.ts, in memory), each a program fragment after imports of the catalog, catalogRelease and Pulumi. */
const FIXTURES: Record<string, string> = {
    correct: [
        release(
            "CHARTS.traefik",
            `{ ports: { web: { hostPort: 80 }, extra: { port: 9000 } }, providers: { kubernetesIngress: { ingressEndpoint: { ip: pulumi.output("192.0.2.1") } } } }`,
        ),
        release("CHARTS.sparkOperator", `{ webhook: { enable: true, nodeSelector: { "any/label": "x" } }, spark: { jobNamespaces: pulumi.output(["a"]) } }`),
        // A vendored subchart's own keys, under its name.
        release("CHARTS.monitoring", `{ grafana: { ingress: { ingressClassName: "traefik" }, "grafana.ini": { "auth.generic_oauth": { enabled: true } } } }`),
        `export const v: ReleaseValues<typeof CHARTS.jupyterhub> = { hub: { config: { AnyTraitlet: { any_option: 1 } }, extraEnv: { X: { value: "y" } } } };`,
    ].join(""),
    inlineKey: release("CHARTS.traefik", `{ ingressClass: { enabled: true, isDefault: true } }`),
    builderKey: `export const v: ReleaseValues<typeof CHARTS.sparkOperator> = { hook: { upgradeCrds: true } };`,
    subchartKey: release("CHARTS.monitoring", `{ grafana: { ingress: { ingressClass: "traefik" } } }`),
    wrongType: release("CHARTS.sparkOperator", `{ webhook: { enable: "yes" } }`),
    otherVersion: release(`{ ...CHARTS.traefik, version: "41.4.0" as const }`, `{ nodeSelector: {} }`),
};

/** tsc's errors for each fixture, as "TS<code>: <message>": one program for all, since loading the SDK's declarations dominates. */
function compileFixtures(): Record<string, string[]> {
    const file = ts.readConfigFile(path.join(REPO_ROOT, "tsconfig.json"), ts.sys.readFile);
    const options = { ...ts.parseJsonConfigFileContent(file.config, ts.sys, REPO_ROOT).options, noEmit: true, noUnusedLocals: false };
    const fixturePath = (name: string) => path.join(REPO_ROOT, "test", `${name}.fixture.ts`);
    const sources = new Map(Object.entries(FIXTURES).map(([name, body]) => [fixturePath(name), HEADER + body]));
    const host = ts.createCompilerHost(options);
    const read = host.getSourceFile;
    host.getSourceFile = (name, version, ...rest) => {
        const text = sources.get(path.resolve(name));
        return text !== undefined ? ts.createSourceFile(name, text, version) : read.call(host, name, version, ...rest);
    };
    const program = ts.createProgram([...sources.keys()], options, host);
    return Object.fromEntries(
        Object.keys(FIXTURES).map((name) => [
            name,
            ts
                .getPreEmitDiagnostics(program, program.getSourceFile(fixturePath(name)))
                .map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`),
        ]),
    );
}

describe("chart values types", function () {
    // Type-checking against the Pulumi SDK's declarations takes a few seconds on a busy machine.
    this.timeout(120000);

    it("are generated for every chart of the catalog, at its pinned version", () => {
        const pinned = Object.fromEntries(Object.values(CHARTS).map((e) => [e.chart, e.version]));
        assert.deepStrictEqual({ ...CHART_VALUES_VERSIONS }, pinned, "config/chart-values is stale: run `npm run charts` and `npm run charts:types`");
    });

    let errors: Record<string, string[]>;
    before(() => {
        errors = compileFixtures();
    });

    it("accept the keys, types and Pulumi inputs a chart takes, and anything inside its free-form maps", () => {
        assert.deepStrictEqual(errors.correct, []);
    });

    it("refuse a key the chart does not have: inline, in a typed values builder, in a subchart", () => {
        assert.strictEqual(errors.inlineKey.length, 1, errors.inlineKey.join("\n"));
        assert.match(errors.inlineKey[0], /^TS2353: Object literal may only specify known properties, and 'isDefault' does not exist in type/);
        assert.deepStrictEqual(errors.builderKey.length, 1, errors.builderKey.join("\n"));
        assert.match(errors.builderKey[0], /^TS2561: .*'upgradeCrds' does not exist in type .* Did you mean to write 'upgradeCrd'\?/);
        assert.deepStrictEqual(errors.subchartKey.length, 1, errors.subchartKey.join("\n"));
        assert.match(errors.subchartKey[0], /^TS2561: .*'ingressClass' does not exist in type .* Did you mean to write 'ingressClassName'\?/);
    });

    it("refuse a value of the wrong type, and any values while the types are of another chart version", () => {
        assert.deepStrictEqual(errors.wrongType.length, 1, errors.wrongType.join("\n"));
        assert.match(errors.wrongType[0], /^TS2322: Type 'string' is not assignable to type 'Input<boolean \| undefined>/);
        assert.deepStrictEqual(errors.otherVersion.length, 1, errors.otherVersion.join("\n"));
        assert.match(errors.otherVersion[0], /is not assignable to .*'"config\/chart-values has traefik 41\.3\.0, not 41\.4\.0: run npm run charts:types"'/);
    });
});
