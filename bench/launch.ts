import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { engineConfig, readStackFile, REPO_ROOT } from "../test/harness/stack-config";

// Starts a program exactly as `pulumi preview` does, against bench/engine.ts. What the language host does, from
// pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs/main.go (`Run`, `execRuntime`, `constructArguments`,
// `constructConfig`), and what the SDK then reads (@pulumi/pulumi cmd/run/index.js, cmd/run/run.js):
// - the command is `node <nodeargs> <@pulumi/pulumi/cmd/run> --monitor <addr> --engine <addr> [--sync <dir>]
//   [--organization <org>] --project <name> --root-directory <dir of Pulumi.yaml> --stack <name>
//   --pwd <program directory> [--dry-run] --parallel <n> <entry point>`, nodeargs split shell-like from
//   Pulumi.yaml's runtime.options.nodeargs and placed before cmd/run;
// - the program directory and entry point come from `main` (pkg/engine's getPwdMain): for `bin/index.js` the
//   directory is bin/ (also the process's working directory; cmd/run chdirs to --pwd) and the entry `index.js`;
// - the environment adds PULUMI_CONFIG (the stack's config as JSON, keys rewritten to `<ns>:config:<name>`, every
//   value a string) and PULUMI_CONFIG_SECRET_KEYS (a JSON list), and PULUMI_NODEJS_TYPESCRIPT only when
//   runtime.options.typescript is true (it is false here);
// - cmd/run copies the flags into PULUMI_NODEJS_MONITOR, _ENGINE, _PROJECT, _ROOT_DIRECTORY, _STACK, _DRY_RUN,
//   _PARALLEL, _SYNC, _ORGANIZATION for the runtime (runtime/state.js), installs source-map-support
//   (`require("source-map-support/register")`) and only then requires the program.
// Left out: --sync (the pipes for synchronous invokes; the SDK opens them only for invokeSync, which nothing here
// calls), --organization (none on a local backend), --tracing. The SDK only distinguishes --parallel 1 (serial,
// runtime/settings.js `serialize()`) from anything else.

interface Project {
    name: string;
    main: string;
    runtime: { options?: { nodeargs?: string } };
    config?: Record<string, { default?: unknown }>;
}

export const project = yaml.load(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as Project;

/** Pulumi.yaml's nodeargs as the language host splits them (shlex; these are plain words). */
export const NODE_ARGS = (project.runtime.options?.nodeargs ?? "").split(/\s+/).filter(Boolean);
/** The program directory and the entry point, as getPwdMain derives them from `main`. */
export const PROGRAM_DIR = path.dirname(path.join(REPO_ROOT, project.main));
const ENTRY_POINT = path.basename(project.main);
const CMD_RUN = require.resolve("@pulumi/pulumi/cmd/run", { paths: [REPO_ROOT] });
/** An empty program, started the same way: the floor that Node, cmd/run and @pulumi/pulumi set. */
export const EMPTY_PROGRAM = path.join(REPO_ROOT, "bench/empty-program/index.js");
/** The real program's registrations replayed without its logic (bench/sdk-floor): the SDK's per-resource floor. */
export const SDK_FLOOR_PROGRAM = path.join(REPO_ROOT, "bench/sdk-floor/index.js");

/** The stack's config as the engine sends it: the stack file over Pulumi.yaml's defaults, `<ns>:config:<name>` keys. */
function pulumiConfig(stack: string): string {
    const defaults = Object.fromEntries(
        Object.entries(project.config ?? {})
            .filter(([, spec]) => spec.default !== undefined)
            .map(([key, spec]) => [`${project.name}:${key}`, spec.default]),
    );
    const config = engineConfig({ ...defaults, ...readStackFile(stack) });
    return JSON.stringify(Object.fromEntries(Object.entries(config).map(([key, value]) => [key.replace(":", ":config:"), value])));
}

function lines(child: ChildProcess): AsyncIterator<string> {
    let buffer = "";
    const queue: string[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    child.stdout?.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        let at: number;
        while ((at = buffer.indexOf("\n")) >= 0) {
            queue.push(buffer.slice(0, at));
            buffer = buffer.slice(at + 1);
        }
        wake?.();
    });
    child.on("exit", () => {
        ended = true;
        wake?.();
    });
    return {
        async next() {
            while (queue.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
            return queue.length ? { value: queue.shift() as string, done: false } : { value: undefined, done: true };
        },
    };
}

export interface PreviewRun {
    /** From spawning node to its exit, what `pulumi preview` waits for the program. */
    wallMs: number;
    /** The program process's CPU time (user + system, GNU time's 10 ms resolution); undefined without /usr/bin/time. */
    cpuMs?: number;
    /** The engine stand-in's CPU time while it served the program: on the same cores, so part of the wall time. */
    engineCpuMs: number;
    registrations: number;
}

export interface PreviewOptions {
    /** Where the engine stand-in writes what the program sent (bench/replay.ts). */
    record?: string;
    /** For the SDK floor: the recording it replays. */
    replay?: string;
    /** Stand-ins for Pulumi.yaml's nodeargs and program directory, to measure alternatives. */
    nodeArgs?: string[];
    programDir?: string;
}

const PROGRAMS = { empty: EMPTY_PROGRAM, floor: SDK_FLOOR_PROGRAM };
const GNU_TIME = "/usr/bin/time";

/**
 * One `pulumi preview` of `program` (main under bin/, the empty program or the SDK floor) for `stack`, with its own
 * TMPDIR (where Node keeps the compile cache). The program runs under GNU time, when installed, for its CPU time.
 */
export async function preview(stack: string, program: "main" | "empty" | "floor", tmpdir: string, options: PreviewOptions = {}): Promise<PreviewRun> {
    const { nodeArgs = NODE_ARGS, programDir = PROGRAM_DIR } = options;
    const engineArgs = [path.join(REPO_ROOT, "bench/engine.ts"), stack, ...(options.record ? [options.record] : [])];
    const engine = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", ...engineArgs], {
        cwd: REPO_ROOT,
        stdio: ["pipe", "pipe", "inherit"],
    });
    const engineLines = lines(engine);
    const ready = await engineLines.next();
    if (ready.done) throw new Error("bench engine exited before serving");
    const { address } = JSON.parse(ready.value) as { address: string };

    const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_CONFIG: pulumiConfig(stack), PULUMI_CONFIG_SECRET_KEYS: "[]", TMPDIR: tmpdir };
    delete env.NODE_COMPILE_CACHE; // the program's own start-up decides, as under Pulumi
    delete env.NODE_OPTIONS;
    delete env.TS_NODE_PROJECT;
    if (options.replay) env.GEOPLATFORM_BENCH_REPLAY = options.replay;
    const args = [
        ...nodeArgs,
        CMD_RUN,
        ...["--monitor", address, "--engine", address, "--project", project.name, "--root-directory", REPO_ROOT, "--stack", stack, "--pwd", programDir],
        ...["--dry-run", "--parallel", "16"],
        program === "main" ? ENTRY_POINT : PROGRAMS[program],
    ];
    const timeFile = path.join(tmpdir, "program.time");
    const [command, commandArgs] = fs.existsSync(GNU_TIME) ? [GNU_TIME, ["-f", "%U %S", "-o", timeFile, process.execPath, ...args]] : [process.execPath, args];
    const start = performance.now();
    const child = spawn(command, commandArgs, { cwd: programDir, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    const wallMs = performance.now() - start;

    engine.stdin?.end();
    const result = await engineLines.next();
    const stats = result.done ? undefined : (JSON.parse(result.value) as { registrations: number; errors: string[]; cpuMs: number });
    if (code !== 0 || !stats || stats.errors.length > 0) {
        throw new Error(`${program} program for ${stack} failed (exit ${code}): ${stats?.errors.join("\n") ?? "engine gave no report"}\n${output}`);
    }
    const cpuMs = command === GNU_TIME ? cpuTime(fs.readFileSync(timeFile, "utf8")) : undefined;
    return { wallMs, cpuMs, engineCpuMs: stats.cpuMs, registrations: stats.registrations };
}

/** GNU time's "%U %S" (seconds) in milliseconds. */
function cpuTime(report: string): number {
    const [user, system] = report.trim().split("\n").pop()?.split(" ").map(Number) ?? [NaN, NaN];
    return (user + system) * 1000;
}
