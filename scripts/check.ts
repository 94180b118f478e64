// `npm run check -- <stack> [--deploy]`: evaluates the program offline, under
// Pulumi mocks, for a real Pulumi.<stack>.yaml and prints what `pulumi up`
// would create. Config errors print as `pulumi preview` shows them: the
// program's ConfigError is a RunError, so the SDK's cmd/run logs its message
// alone, and the CLI lists it under the stack in "Diagnostics:".
// `--deploy` also refuses the stack file's documentation placeholders, as
// scripts/deploy.sh and the deploy workflow do before `up`. Refuses, too, more
// agents than the deployments' step workers (config/parallel.ts). No cloud, no CLI.
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../config/checker";
import { K3S_SERVERS_OUTPUT, plannedServers } from "../config/roll-guard";
import { parallelProblems } from "../config/parallel";
import { placeholderProblems } from "../config/placeholders";
import { validateConfig } from "../config/validate";
import { GeoplatformConfig } from "../config/types";
import { releaseEntry } from "../test/harness/releases";
import { RecordedResource, runStack, StackRun } from "../test/harness/run-stack";
import { rawGeoplatformConfig, REPO_ROOT } from "../test/harness/stack-config";

const LAYERS = [
    { name: "infra", marker: "geoplatform:infra:" },
    { name: "k3s", marker: "geoplatform:platform:K3s" },
    { name: "platform", marker: "geoplatform:platform:" },
    { name: "apps", marker: "geoplatform:apps:" },
];

function layerOf(resource: RecordedResource): string {
    const parents = resource.urn.split("::")[2] ?? "";
    return LAYERS.find((l) => parents.includes(l.marker) || resource.type.startsWith(l.marker))?.name ?? "stack";
}

function countBy<T>(items: T[], key: (item: T) => string): [string, number][] {
    const counts = new Map<string, number>();
    for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

const table = (rows: string[][]) => {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
    return rows
        .map(
            (r) =>
                "  " +
                r
                    .map((cell, i) => cell.padEnd(widths[i]))
                    .join("  ")
                    .trimEnd(),
        )
        .join("\n");
};

function nodeGroups(config: GeoplatformConfig): string {
    const sizes = config.cloud === "aws" ? config.aws?.instanceTypes : config.openstack?.flavors;
    return table(
        Object.entries(config.nodeGroups).map(([name, g]) => [
            name,
            g.role,
            `${g.count} x ${g.size} (${sizes?.[g.size] ?? "?"})`,
            [g.ingress && "ingress", g.spot && "spot", ...g.taints.map((t) => `taint ${t.key}=${t.value}:${t.effect}`)].filter(Boolean).join(", "),
        ]),
    );
}

function plan(config: GeoplatformConfig, run: StackRun): string {
    // Provider instances are configuration, not infrastructure.
    const custom = run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
    const byLayer = countBy(custom, layerOf).map(([layer, n]) => {
        const kinds = countBy(
            custom.filter((r) => layerOf(r) === layer),
            (r) => (r.inputs.kind ? `${r.inputs.kind}` : (r.type.split(":").pop() ?? r.type)),
        );
        return [layer, String(n), kinds.map(([k, c]) => `${k} ${c}`).join(", ")];
    });
    const releases = run.resources
        .filter((r) => r.type === "kubernetes:helm.sh/v3:Release")
        .map((r) => [r.inputs.name, releaseEntry(r).chart, r.inputs.version ?? "", `namespace ${r.inputs.namespace}`]);
    const urls = Object.entries(run.outputs.urls ?? {}).map(([ui, url]) => [
        ui,
        `${url}`,
        run.outputs.adminUsernames?.[ui] ? `admin user ${run.outputs.adminUsernames[ui]}` : "",
    ]);
    return [
        `Stack ${run.stack} (${config.cloud}), K3s ${config.k3sVersion}, domain ${config.domain}: ${custom.length} resources, evaluated offline under mocks.`,
        "",
        "Node groups:",
        nodeGroups(config),
        "",
        "Resources by layer:",
        table(byLayer),
        "",
        "Helm releases:",
        table(releases),
        "",
        `Apps: ${config.enabledApps.join(", ") || "none"}`,
        "UIs:",
        table(urls),
        "",
        `Secret outputs: ${run.secretOutputs.sort().join(", ")}`,
    ].join("\n");
}

/** An error as the CLI's display prints a stack's diagnostics (pulumi/pulumi pkg/backend/display, printDiagnostics). */
function asPreviewDiagnostic(stack: string, message: string): string {
    const lines = `error: ${message}`.split("\n").map((line) => `    ${line}`);
    return ["Diagnostics:", `  pulumi:pulumi:Stack (geoplatform-${stack}):`, ...lines].join("\n");
}

export interface CheckResult {
    /** 0: the stack evaluates; 1: its config is refused; 2: usage. */
    code: number;
    out: string;
    err: string;
}

export async function check(args: string[]): Promise<CheckResult> {
    const stack = args.find((a) => !a.startsWith("--"));
    const deploy = args.includes("--deploy");
    if (!stack) return { code: 2, out: "", err: "usage: npm run check -- <stack> [--deploy]   (reads Pulumi.<stack>.yaml)" };
    if (!fs.existsSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`))) {
        const stacks = fs.readdirSync(REPO_ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f));
        return { code: 2, out: "", err: `error: no Pulumi.${stack}.yaml; stacks here: ${stacks.map((f) => f.split(".")[1]).join(", ")}` };
    }
    try {
        const config = validateConfig(rawGeoplatformConfig(stack), stack);
        const parallel = parallelProblems(config);
        const problems = [...(deploy ? placeholderProblems(config) : []), ...parallel.errors];
        if (problems.length > 0) throw new ConfigError(problems);
        // Under mocks there is no last update to read: the stack is taken to run every server of its file, so a server in
        // rollNodes passes here (deploy.sh runs this before `up`), and the roll guard decides at `up` on the real outputs.
        const servers = plannedServers(config, stack);
        const rolledServer = config.rollNodes.some((name) => servers.includes(name));
        const notes = rolledServer
            ? [
                  `note: rollNodes lists a server; checked as if the last update ran ${servers.join(", ")}; \`up\` checks the stack's real ${K3S_SERVERS_OUTPUT} output`,
              ]
            : [];
        const run = await runStack(stack, {}, { previousOutputs: { [K3S_SERVERS_OUTPUT]: servers } });
        return { code: 0, out: plan(config, run), err: [...parallel.warnings, ...notes].join("\n") };
    } catch (error) {
        if (error instanceof ConfigError) return { code: 1, out: "", err: asPreviewDiagnostic(stack, error.message) };
        throw error;
    }
}

if (require.main === module) {
    check(process.argv.slice(2)).then(({ code, out, err }) => {
        if (out) console.log(out);
        if (err) console.error(err);
        process.exit(code);
    });
}
