import { GeoplatformConfig } from "./types";

/**
 * The engine's step workers for a deployment: scripts/deploy.sh and .github/workflows/deploy.yml pass it as
 * `--parallel`. Without it the CLI takes 4 × GOMAXPROCS (pulumi/pulumi pkg/cmd/pulumi/operations/up.go,
 * `defaultParallel`; `PULUMI_PARALLEL` overrides it), 8 on a 2-core runner, and starts that many workers, each running
 * one step to its end (pkg/resource/deploy/step_executor.go, `newStepExecutor`). In an agent roll every agent's
 * `roll-node.sh before` waits for the lock (up to LOCK_TIMEOUT, 3600 s) on a worker, and the holder's install needs
 * another: with as many agents as workers the waiters hold them all and the roll stalls for an hour (review M2).
 */
export const DEPLOY_PARALLEL = 64;

/** The stack's agents against DEPLOY_PARALLEL: a refusal when they could hold every worker, a warning past half of them. */
export function parallelProblems(config: GeoplatformConfig): { errors: string[]; warnings: string[] } {
    const agents = Object.values(config.nodeGroups)
        .filter((g) => g.role === "agent")
        .reduce((sum, g) => sum + g.count, 0);
    const why = `each agent waiting for the roll lock holds one of the ${DEPLOY_PARALLEL} step workers scripts/deploy.sh and the deploy workflow give pulumi (--parallel), and the holder's install needs one more`;
    if (agents >= DEPLOY_PARALLEL) {
        return {
            errors: [
                `geoplatform:nodeGroups: got ${agents} agents, expected fewer than ${DEPLOY_PARALLEL}: ${why}; raise DEPLOY_PARALLEL (config/parallel.ts) and the --parallel of scripts/deploy.sh and .github/workflows/deploy.yml with them`,
            ],
            warnings: [],
        };
    }
    if (agents * 2 > DEPLOY_PARALLEL) {
        return {
            errors: [],
            warnings: [
                `warning: ${agents} agents take more than half of the ${DEPLOY_PARALLEL} step workers during a roll (${why}); raise DEPLOY_PARALLEL (config/parallel.ts) and the --parallel of scripts/deploy.sh and .github/workflows/deploy.yml before adding more`,
            ],
        };
    }
    return { errors: [], warnings: [] };
}
