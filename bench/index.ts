import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { runStack } from "../test/harness/run-stack";
import { REPO_ROOT, STACKS } from "../test/harness/stack-config";
import { typicalSeconds } from "./durations";
import { buildGraph, criticalPath, edgeCount } from "./graph";
import { preview, PreviewRun } from "./launch";

// `npm run bench`: the program as `pulumi preview` starts it, against two floors of the same run, the empty program
// and the SDK floor (its registrations replayed without its logic), in wall and CPU time; the mocks harness the
// tests use; the deployment graph's critical path; the mocha suite and `tsc --noEmit`. Prints a report;
// `npm run bench -- --write` also writes bench/results.md. Runs through ts-node (transpile-only): only the programs
// it starts are compiled JavaScript, and they are what it times.

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WRITE = process.argv.includes("--write");
const run = promisify(execFile);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`;

/** One start of each: the program, the empty program, the SDK floor. */
type Round = Record<"main" | "empty" | "floor", PreviewRun>;
const medians = (rounds: readonly Round[], pick: (run: PreviewRun) => number) => ({
    main: median(rounds.map((r) => pick(r.main))),
    empty: median(rounds.map((r) => pick(r.empty))),
    floor: median(rounds.map((r) => pick(r.floor))),
});

/** The mocks harness as mocha runs it: the preloads of .mocharc.json, from the project root. */
async function harness(stack: string): Promise<{ resources: number; wallMs: number; warmMs: number }> {
    const mocharc = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, ".mocharc.json"), "utf8")) as { require: string[] };
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_COMPILE_CACHE;
    const { stdout } = await run(process.execPath, [...mocharc.require.flatMap((r) => ["-r", r]), path.join(REPO_ROOT, "bench/evaluate.ts"), stack], {
        cwd: REPO_ROOT,
        env,
    });
    return JSON.parse(stdout);
}

/** Wall time of a command; a failing command is timed too, and says so. */
async function timed(command: string, args: string[]): Promise<string> {
    const start = performance.now();
    const failed = await run(command, args, { cwd: REPO_ROOT, maxBuffer: 64 * 2 ** 20 }).then(
        () => "",
        (error: { code?: number }) => ` (exit ${error.code}: failing)`,
    );
    return seconds(performance.now() - start) + failed;
}

async function main(): Promise<void> {
    const lines: string[] = [];
    const say = (line = "") => {
        lines.push(line);
        console.log(line);
    };
    const load = () =>
        os
            .loadavg()
            .map((l) => l.toFixed(1))
            .join(" ");
    say(`# geoplatform benchmark`);
    say();
    say(
        `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average at start ${load()}`,
    );
    say();
    say(`## 1. Preview as Pulumi starts the program`);
    say();
    say(
        `The compiled program started exactly as \`pulumi preview\` starts it (bench/launch.ts: the SDK's \`cmd/run\` with Pulumi.yaml's \`nodeargs\`, ` +
            `working directory bin/, \`--dry-run\`, the stack's config in PULUMI_CONFIG), over gRPC to an engine stand-in (bench/engine.ts: the SDK's ` +
            `MockMonitor behind the ResourceMonitor and Engine services, answering with the tests' mock outputs), against two floors started the same ` +
            `way: the empty program (bench/empty-program: Node, \`cmd/run\` and @pulumi/pulumi) and the SDK floor (bench/sdk-floor: the ` +
            `registrations, outputs and invokes the engine received from this stack's program in an untimed run before, replayed without the ` +
            `program's logic). Wall: from spawning node to its exit. CPU: the program process's user + system time (GNU time); engine: the stand-in's ` +
            `CPU time while serving, on the same ${os.cpus().length} cores. First start: an empty compile cache (each program its own). Later starts: ` +
            `median of ${RUNS}, the program, the empty program, the SDK floor and the harness interleaved.`,
    );
    say();
    say(`| stack | start | program | SDK floor | empty | program / empty | SDK floor / empty | program / SDK floor |`);
    say(`|---|---|---|---|---|---|---|---|`);
    const cpuRows: string[] = [];
    const harnessRows: string[] = [];
    const loads: string[] = [];
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-bench-"));
    try {
        for (const stack of STACKS) {
            const loadBefore = load();
            const cache = (program: string) => fs.mkdtempSync(path.join(scratch, `${stack}-${program}-`));
            const caches = { record: cache("record"), main: cache("main"), empty: cache("empty"), floor: cache("floor") };
            const replay = path.join(scratch, `${stack}.json`);
            const recorded = await preview(stack, "main", caches.record, { record: replay });
            const round = async (): Promise<Round> => ({
                main: await preview(stack, "main", caches.main),
                empty: await preview(stack, "empty", caches.empty),
                floor: await preview(stack, "floor", caches.floor, { replay }),
            });
            const first = await round();
            const later: Round[] = [];
            const harnessRuns: { resources: number; wallMs: number; warmMs: number }[] = [];
            for (let i = 0; i < RUNS; i++) {
                later.push(await round());
                harnessRuns.push(await harness(stack));
            }
            if (first.floor.registrations !== recorded.registrations) {
                throw new Error(`${stack}: the SDK floor registered ${first.floor.registrations}, the program ${recorded.registrations}`);
            }
            for (const [label, runs] of [
                ["first", [first]],
                [`later (median of ${RUNS})`, later],
            ] as const) {
                const [wall, cpu, engine] = [(r: PreviewRun) => r.wallMs, (r: PreviewRun) => r.cpuMs ?? NaN, (r: PreviewRun) => r.engineCpuMs].map((pick) =>
                    medians(runs, pick),
                );
                say(
                    `| ${stack} (${recorded.registrations} resources) | ${label} | ${seconds(wall.main)} | ${seconds(wall.floor)} | ${seconds(wall.empty)} | ` +
                        `${ratio(wall.main, wall.empty)} | ${ratio(wall.floor, wall.empty)} | ${ratio(wall.main, wall.floor)} |`,
                );
                cpuRows.push(
                    `| ${stack} | ${label} | ${seconds(cpu.main)} | ${seconds(cpu.floor)} | ${seconds(cpu.empty)} | ${ratio(cpu.main, cpu.empty)} | ` +
                        `${ratio(cpu.floor, cpu.empty)} | ${ratio(cpu.main, cpu.floor)} | ${seconds(engine.main)} | ${seconds(engine.floor)} |`,
                );
            }
            const h = median(harnessRuns.map((r) => r.wallMs));
            harnessRows.push(
                `| ${stack} | ${harnessRuns[0].resources} | ${seconds(h)} | ${ratio(h, medians(later, (r) => r.wallMs).empty)} | ${seconds(median(harnessRuns.map((r) => r.warmMs)))} |`,
            );
            loads.push(`${stack}: ${loadBefore} before, ${load()} after`);
        }
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
    say();
    say(`CPU time of the same runs (program process; the engine stand-in's while serving the program and the SDK floor):`);
    say();
    say(`| stack | start | program | SDK floor | empty | program / empty | SDK floor / empty | program / SDK floor | engine, program | engine, SDK floor |`);
    say(`|---|---|---|---|---|---|---|---|---|---|`);
    cpuRows.forEach((row) => say(row));
    say();
    say(`Load average (1, 5, 15 min) around each stack's runs: ${loads.join("; ")}.`);
    say();
    say(`## 2. The mocks harness`);
    say();
    say(
        `The same program under the tests' in-process mocks (test/harness/run-stack.ts), started as mocha runs it (ts-node transpile-only and the ` +
            `preloads of .mocharc.json; bench/evaluate.ts). Wall: from process start to the end of the evaluation, median of ${RUNS}; ratio to the ` +
            `empty program of section 1. Warm: a second evaluation in the same process.`,
    );
    say();
    say(`| stack | resources | wall | ratio to the empty program | warm |`);
    say(`|---|---|---|---|---|`);
    harnessRows.forEach((row) => say(row));
    say();
    say(`## 3. Deployment graph`);
    say();
    say(`Edges: parent, dependsOn and Output-derived dependencies. Weights: bench/durations.ts (typical seconds per resource).`);
    say();
    say(`| stack | resources | edges | longest chain | weighted critical path | serial sum | critical / serial |`);
    say(`|---|---|---|---|---|---|---|`);
    const chains: string[] = [];
    for (const stack of STACKS) {
        const stackRun = await runStack(stack);
        const inputsByUrn = new Map(stackRun.resources.map((r) => [r.urn, r.inputs]));
        const graph = buildGraph(stackRun.resources);
        const weight = (n: (typeof graph)[number]) => typicalSeconds(n, inputsByUrn.get(n.urn) ?? {});
        const longest = criticalPath(graph);
        const weighted = criticalPath(graph, weight);
        const serial = graph.reduce((sum, n) => sum + weight(n), 0);
        say(
            `| ${stack} | ${graph.length} | ${edgeCount(graph)} | ${longest.length} | ${(weighted.length / 60).toFixed(1)} min | ` +
                `${(serial / 60).toFixed(1)} min | ${((100 * weighted.length) / serial).toFixed(0)}% |`,
        );
        chains.push(
            `${stack}: ${weighted.path
                .filter((n) => weight(n) > 0)
                .map((n) => `${n.urn.split("::").pop()} (${weight(n)} s)`)
                .join(" → ")}`,
        );
    }
    say();
    say(`Weighted critical paths:`);
    say();
    chains.forEach((c) => say(`- ${c}`));
    say();
    say(`## 4. Tests and type-check`);
    say();
    say(`- the mocha suite (\`npm run test:unit\`, .mocharc.json): ${await timed(process.execPath, [require.resolve("mocha/bin/mocha.js")])}`);
    say(`- \`tsc --noEmit\` of the project: ${await timed(process.execPath, [require.resolve("typescript/bin/tsc"), "--noEmit", "-p", REPO_ROOT])}`);
    say();
    say(`Load average at the end: ${load()}.`);
    if (WRITE) fs.writeFileSync(path.join(REPO_ROOT, "bench/results.md"), lines.join("\n") + "\n");
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
