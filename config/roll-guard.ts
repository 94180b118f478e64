import * as pulumi from "@pulumi/pulumi";
import { planNodes } from "../infra/node-plan";
import { Checker, ConfigError } from "./checker";
import { GeoplatformConfig } from "./types";

/**
 * The stack output that records the K3s servers whose install completed in the last update (plain, not secret): the
 * next run's roll guard reads it back. A failed update leaves the previous value (the engine keeps the Stack
 * resource's old outputs until the program registers new ones).
 */
export const K3S_SERVERS_OUTPUT = "k3sServers";

/** The servers of the last update as the stack recorded them, or undefined when the output is absent or malformed. */
function recordedServers(value: unknown): string[] | undefined {
    return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string") ? value : undefined;
}

/**
 * Why rolling `rolled` (a server of `config`) would delete the only running server, or undefined when another server
 * ran at the last update (`previous`, the K3S_SERVERS_OUTPUT read back) and stays in the config. Validation counts the
 * servers of the stack file, which cannot tell "3 servers running" from "growing from 1 to 3 in this run".
 */
export function serverRollProblem(config: GeoplatformConfig, stack: string, rolled: string, previous: unknown): string | undefined {
    const recorded = recordedServers(previous);
    if (!recorded) {
        return (
            `a server another server already runs beside: this stack has no ${K3S_SERVERS_OUTPUT} output (its first run, or its last update ran ` +
            `a geoplatform release without it), so which servers exist cannot be checked; run one \`pulumi up\` without rolling a server first, then roll it`
        );
    }
    const servers = planNodes(config, stack)
        .filter((n) => n.spec.role === "server")
        .map((n) => n.name);
    if (recorded.some((name) => name !== rolled && servers.includes(name))) return undefined;
    return (
        `a server another server already runs beside: the last update left ${JSON.stringify(recorded)} (stack output ${K3S_SERVERS_OUTPUT}) and ` +
        `no other of them stays in the config, so the roll would delete the only running server and its etcd before any other server exists; ` +
        `add the servers in one \`pulumi up\` without ${rolled} in rollNodes, then roll it in the next`
    );
}

/**
 * Refuses, with one ConfigError, a `rollNodes` server that no other running server would survive. Reads the stack's
 * own outputs of its last update through a StackReference (a read: nothing is created), and only when a server is
 * rolled. Awaited before any other resource is registered.
 */
export async function checkServerRoll(config: GeoplatformConfig, stack: string): Promise<void> {
    const servers = planNodes(config, stack).filter((n) => n.spec.role === "server");
    const index = config.rollNodes.findIndex((name) => servers.some((s) => s.name === name));
    if (index < 0) return;
    const rolled = config.rollNodes[index];
    // `organization/<project>/<stack>` on a self-managed (diy) backend, which always names its organization so.
    const self = new pulumi.StackReference(`${stack}-last-update`, { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${stack}` });
    const details = await self.getOutputDetails(K3S_SERVERS_OUTPUT);
    const problem = serverRollProblem(config, stack, rolled, details.value ?? details.secretValue);
    if (!problem) return;
    const c = new Checker();
    c.fail(`rollNodes[${index}]`, rolled, problem);
    throw new ConfigError(c.problems);
}
