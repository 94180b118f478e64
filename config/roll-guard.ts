import * as pulumi from "@pulumi/pulumi";
import { planNodes } from "../infra/node-plan";
import { Checker, ConfigError } from "./checker";
import { GeoplatformConfig } from "./types";

/**
 * The stack output that records the K3s servers whose install completed in the last update (plain, not secret): the
 * next run reads it back, for the roll guard and for the first server's install (clusterMustExist). A failed update leaves the previous value (the engine keeps the Stack
 * resource's old outputs until the program registers new ones).
 */
export const K3S_SERVERS_OUTPUT = "k3sServers";

/** The servers of the last update as the stack recorded them, or undefined when the output is absent or malformed. */
function recordedServers(value: unknown): string[] | undefined {
    return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string") ? value : undefined;
}

/** The names of the servers `config` plans for `stack`, the first server first. */
export const plannedServers = (config: GeoplatformConfig, stack: string) =>
    planNodes(config, stack)
        .filter((n) => n.spec.role === "server")
        .map((n) => n.name);

/** Whether the last update (`previous`, the K3S_SERVERS_OUTPUT read back) recorded a server other than `name` that stays in the config. */
function otherServerRuns(config: GeoplatformConfig, stack: string, name: string, previous: unknown): boolean {
    const servers = plannedServers(config, stack);
    return (recordedServers(previous) ?? []).some((other) => other !== name && servers.includes(other));
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
    if (otherServerRuns(config, stack, rolled, previous)) return undefined;
    return (
        `a server another server already runs beside: the last update left ${JSON.stringify(recorded)} (stack output ${K3S_SERVERS_OUTPUT}) and ` +
        `no other of them stays in the config, so the roll would delete the only running server and its etcd before any other server exists; ` +
        `add the servers in one \`pulumi up\` without ${rolled} in rollNodes, then roll it in the next`
    );
}

/**
 * The stack's own K3S_SERVERS_OUTPUT of its last update, read once per run through a StackReference (a read: nothing is
 * created), or undefined without one. Read only when the config has more than one server: a single server has no peer
 * to find, and validation refuses it in rollNodes. Awaited before any other resource is registered.
 */
export async function readLastServers(config: GeoplatformConfig, stack: string): Promise<unknown> {
    if (plannedServers(config, stack).length < 2) return undefined;
    // `organization/<project>/<stack>` on a self-managed (diy) backend, which always names its organization so.
    const self = new pulumi.StackReference(`${stack}-last-update`, { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${stack}` });
    const details = await self.getOutputDetails(K3S_SERVERS_OUTPUT);
    return details.value ?? details.secretValue;
}

/**
 * Whether the first server's install must find a running cluster: the last update (`previous`, from readLastServers)
 * recorded another server that stays in the config. A first server without etcd data then joins; bootstrapping would
 * start a second, empty cluster beside the running one (review M3). False on a stack's first run (no output).
 */
export function clusterMustExist(config: GeoplatformConfig, stack: string, previous: unknown): boolean {
    const [first] = plannedServers(config, stack);
    return first !== undefined && otherServerRuns(config, stack, first, previous);
}

/** Refuses, with one ConfigError, a `rollNodes` server that no other running server would survive (`previous`, from readLastServers). */
export function checkServerRoll(config: GeoplatformConfig, stack: string, previous: unknown): void {
    const servers = plannedServers(config, stack);
    const index = config.rollNodes.findIndex((name) => servers.includes(name));
    if (index < 0) return;
    const rolled = config.rollNodes[index];
    const problem = serverRollProblem(config, stack, rolled, previous);
    if (!problem) return;
    const c = new Checker();
    c.fail(`rollNodes[${index}]`, rolled, problem);
    throw new ConfigError(c.problems);
}
