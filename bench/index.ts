import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runStack } from "../test/harness/run-stack";
import { REPO_ROOT, STACKS } from "../test/harness/stack-config";
import { typicalSeconds } from "./durations";
import { buildGraph, criticalPath, edgeCount } from "./graph";

// `npm run bench`: program evaluation (compiled vs ts-node with type-checking),
// the deployment graph's critical path, and the project's type-check time.
// Prints a report and writes bench/results.md.

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BASELINE_RUNS = Number(process.env.BENCH_BASELINE_RUNS ?? 3);

interface Evaluation {
    wallMs: number;
    warmMs: number;
    maxRssMb: number;
    resources: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function evaluate(args: string[], env: NodeJS.ProcessEnv, runs: number): Evaluation {
    const results: Evaluation[] = [];
    for (let i = 0; i < runs; i++) {
        const out = execFileSync(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
        results.push(JSON.parse(out));
    }
    return { wallMs: median(results.map((r) => r.wallMs)), warmMs: median(results.map((r) => r.warmMs)), maxRssMb: Math.max(...results.map((r) => r.maxRssMb)), resources: results[0].resources };
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
    say(`## 1. Program evaluation under mocks (cold process, median of ${RUNS}; baseline median of ${BASELINE_RUNS})`);
    say();
    say(`Wall: from process start to the end of the evaluation (what a user waits for). Warm: a second evaluation in the same process, modules already loaded.`);
    say();
    say(`| stack | resources | compiled JS: wall | warm | peak RSS | ts-node type-checking: wall | peak RSS | speed-up (wall) |`);
    say(`|---|---|---|---|---|---|---|---|`);
    for (const stack of STACKS) {
        const compiled = evaluate([path.join(REPO_ROOT, "bin/bench/evaluate.js"), stack], {}, RUNS);
        const baseline = evaluate(["-r", "ts-node/register", path.join(REPO_ROOT, "bench/evaluate.ts"), stack], { TS_NODE_TRANSPILE_ONLY: "false" }, BASELINE_RUNS);
        say(
            `| ${stack} | ${compiled.resources} | ${(compiled.wallMs / 1000).toFixed(2)} s | ${(compiled.warmMs / 1000).toFixed(2)} s | ${compiled.maxRssMb.toFixed(0)} MB | ` +
                `${(baseline.wallMs / 1000).toFixed(2)} s | ${baseline.maxRssMb.toFixed(0)} MB | ${(baseline.wallMs / compiled.wallMs).toFixed(1)}× |`,
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
