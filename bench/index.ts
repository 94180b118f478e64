import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { runStack } from "../test/harness/run-stack";
import { REPO_ROOT, STACKS } from "../test/harness/stack-config";
import { typicalSeconds } from "./durations";
import { buildGraph, criticalPath, edgeCount } from "./graph";

// `npm run bench`: program evaluation (compiled vs ts-node with type-checking),
// the deployment graph's critical path, and the project's type-check time.
// Prints a report and writes bench/results.md.

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const BASELINE_RUNS = Number(process.env.BENCH_BASELINE_RUNS ?? 3);

interface Evaluation {
    wallMs: number;
    warmMs: number;
    maxRssMb: number;
    resources: number;
    compileCache: boolean;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function evaluateOnce(args: string[], cwd: string, env: NodeJS.ProcessEnv): Evaluation {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.NODE_COMPILE_CACHE; // the program's own start-up decides, as under Pulumi
    return JSON.parse(execFileSync(process.execPath, args, { cwd, env: childEnv, encoding: "utf8" }));
}

function summarize(results: Evaluation[]): Evaluation {
    return {
        wallMs: median(results.map((r) => r.wallMs)),
        warmMs: median(results.map((r) => r.warmMs)),
        maxRssMb: Math.max(...results.map((r) => r.maxRssMb)),
        resources: results[0].resources,
        compileCache: results.every((r) => r.compileCache),
    };
}

/**
 * What @pulumi/pulumi's `cmd/run` installs before it loads any program:
 * source-map-support, which maps every captured stack trace (and the SDK
 * captures one per internal promise).
 */
const SOURCE_MAP_SUPPORT = ["-r", require.resolve("source-map-support/register", { paths: [path.dirname(require.resolve("@pulumi/pulumi"))] })];

/** How Pulumi starts the compiled program: Pulumi.yaml's nodeargs, in the directory of `main`. */
function pulumiLaunch(): { nodeArgs: string[]; cwd: string } {
    const project = yaml.load(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { main: string; runtime: { options?: { nodeargs?: string } } };
    return { nodeArgs: (project.runtime.options?.nodeargs ?? "").split(/\s+/).filter(Boolean), cwd: path.dirname(path.join(REPO_ROOT, project.main)) };
}

/**
 * The compiled program as `pulumi preview` runs it, with a compile cache of its
 * own (TMPDIR is where Node keeps it by default): the first start fills the
 * cache, the median is over the starts after it.
 */
function evaluateCompiled(stack: string): { first: Evaluation; later: Evaluation; empty: Evaluation; unmapped: Evaluation } {
    const { nodeArgs, cwd } = pulumiLaunch();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-bench-"));
    try {
        const run = (preloads: string[], ...extra: string[]) =>
            evaluateOnce([...nodeArgs, ...preloads, path.join(REPO_ROOT, "bin/bench/evaluate.js"), stack, ...extra], cwd, { TMPDIR: tmp });
        const first = run(SOURCE_MAP_SUPPORT);
        // Interleaved, so that the machine's drift during the bench hits all alike.
        const later: Evaluation[] = [];
        const empty: Evaluation[] = [];
        const unmapped: Evaluation[] = [];
        for (let i = 0; i < RUNS; i++) {
            later.push(run(SOURCE_MAP_SUPPORT));
            empty.push(run(SOURCE_MAP_SUPPORT, "--empty"));
            unmapped.push(run([]));
        }
        return { first, later: summarize(later), empty: summarize(empty), unmapped: summarize(unmapped) };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

function evaluateTypeChecking(stack: string): Evaluation {
    const run = () => evaluateOnce([...SOURCE_MAP_SUPPORT, "-r", "ts-node/register", path.join(REPO_ROOT, "bench/evaluate.ts"), stack], REPO_ROOT, { TS_NODE_TRANSPILE_ONLY: "false" });
    return summarize(Array.from({ length: BASELINE_RUNS }, run));
}

function timeMs(command: string, args: string[]): number {
    const start = performance.now();
    execFileSync(command, args, { cwd: REPO_ROOT, stdio: "ignore" });
    return performance.now() - start;
}

async function main(): Promise<void> {
    const lines: string[] = [];
    const say = (line = "") => {
        lines.push(line);
        console.log(line);
    };
    say(`# geoplatform benchmark`);
    say();
    say(`${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
    say();
    say(`## 1. Program evaluation under mocks`);
    say();
    say(`Wall: from process start to the end of the evaluation (what a user waits for), the compiled program started as Pulumi starts it (Pulumi.yaml's \`nodeargs\`, in bin/, with source-map-support registered first as the SDK's \`cmd/run\` does). First start: an empty compile cache. Later starts: median of ${RUNS}. Warm: a second evaluation in the same process, modules already loaded. Empty program: the same start for a program that registers nothing, the floor set by Node and @pulumi/pulumi's own start-up (about a thousand modules); the program's share is the difference. Without source-map-support: the later starts without it, to show what the SDK's stack-trace mapping costs. Baseline: ts-node with type-checking (Pulumi's default for TypeScript), median of ${BASELINE_RUNS}.`);
    say();
    say(`| stack | resources | first start | later starts | empty program | program's share | warm | without source-map-support | peak RSS | compile cache | ts-node type-checking | peak RSS | speed-up (later starts) |`);
    say(`|---|---|---|---|---|---|---|---|---|---|---|---|---|`);
    const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    for (const stack of STACKS) {
        const { first, later, empty, unmapped } = evaluateCompiled(stack);
        const baseline = evaluateTypeChecking(stack);
        say(
            `| ${stack} | ${later.resources} | ${seconds(first.wallMs)} | ${seconds(later.wallMs)} | ${seconds(empty.wallMs)} | ${seconds(later.wallMs - empty.wallMs)} | ${seconds(later.warmMs)} | ${seconds(unmapped.wallMs)} | ${Math.max(first.maxRssMb, later.maxRssMb).toFixed(0)} MB | ${later.compileCache ? "on" : "off (Node < 22.1)"} | ` +
                `${seconds(baseline.wallMs)} | ${baseline.maxRssMb.toFixed(0)} MB | ${(baseline.wallMs / later.wallMs).toFixed(1)}× |`,
        );
    }
    say();
    say(`## 2. Deployment graph`);
    say();
    say(`Edges: parent, dependsOn and Output-derived dependencies. Weights: bench/durations.ts (typical seconds per resource).`);
    say();
    say(`| stack | resources | edges | longest chain | weighted critical path | serial sum | critical / serial |`);
    say(`|---|---|---|---|---|---|---|`);
    const chains: string[] = [];
    for (const stack of STACKS) {
        const run = await runStack(stack);
        const inputsByUrn = new Map(run.resources.map((r) => [r.urn, r.inputs]));
        const graph = buildGraph(run.resources);
        const weight = (n: (typeof graph)[number]) => typicalSeconds(n, inputsByUrn.get(n.urn) ?? {});
        const longest = criticalPath(graph);
        const weighted = criticalPath(graph, weight);
        const serial = graph.reduce((sum, n) => sum + weight(n), 0);
        say(
            `| ${stack} | ${graph.length} | ${edgeCount(graph)} | ${longest.length} | ${(weighted.length / 60).toFixed(1)} min | ` +
                `${(serial / 60).toFixed(1)} min | ${((100 * weighted.length) / serial).toFixed(0)}% |`,
        );
        chains.push(`${stack}: ${weighted.path.filter((n) => weight(n) > 0).map((n) => `${n.urn.split("::").pop()} (${weight(n)} s)`).join(" → ")}`);
    }
    say();
    say(`Weighted critical paths:`);
    say();
    chains.forEach((c) => say(`- ${c}`));
    say();
    say(`## 3. Type-check`);
    say();
    say(`\`tsc --noEmit\` of the project: ${(timeMs(process.execPath, [require.resolve("typescript/bin/tsc"), "--noEmit", "-p", REPO_ROOT]) / 1000).toFixed(1)} s`);
    fs.writeFileSync(path.join(REPO_ROOT, "bench/results.md"), lines.join("\n") + "\n");
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
