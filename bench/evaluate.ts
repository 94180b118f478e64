import { runStack } from "../test/harness/run-stack";

// The mocks harness as the tests run it (a child of bench/index.ts, started like mocha: ts-node transpile-only
// and the preloads of .mocharc.json): one evaluation of the whole program with in-process mocks, then a second in
// the same process (modules loaded). Prints {"resources", "wallMs" (since process start), "warmMs"} as JSON.

async function main(): Promise<void> {
    const stack = process.argv[2];
    const run = await runStack(stack);
    const wallMs = performance.now();
    await runStack(stack);
    const warmMs = performance.now() - wallMs;
    process.stdout.write(JSON.stringify({ resources: run.resources.length, wallMs, warmMs }));
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
