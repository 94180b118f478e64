import * as nodeModule from "module";
import { runStack, runWithMocks } from "../test/harness/run-stack";

// One cold evaluation of the whole program under mocks, as a child process of
// the benchmark: prints wall time since process start (what a user waits for),
// the time of a second evaluation in the same process (the program itself,
// modules already loaded), peak RSS and whether Node's compile cache was on,
// as JSON. With --empty, the same for a program that registers nothing: the
// floor that Node and @pulumi/pulumi's own start-up set.

async function main(): Promise<void> {
    const stack = process.argv[2];
    const evaluate = process.argv.includes("--empty") ? () => runWithMocks(stack, async () => ({})) : () => runStack(stack);
    const run = await evaluate();
    const wallMs = performance.now();
    await evaluate();
    const warmMs = performance.now() - wallMs;
    process.stdout.write(JSON.stringify({ stack, resources: run.resources.length, wallMs, warmMs, maxRssMb: process.resourceUsage().maxRSS / 1024, compileCache: compileCacheDir() !== undefined }));
}

function compileCacheDir(): string | undefined {
    return (nodeModule as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir?.();
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
