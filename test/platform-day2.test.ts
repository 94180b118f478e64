import * as assert from "assert";
import { dependsTransitively } from "./harness/dependencies";
import { chartOf } from "./harness/releases";
import { RecordedResource, sharedStackRuns, StackRun } from "./harness/run-stack";
import { rawGeoplatformConfig, STACKS } from "./harness/stack-config";
import { validateConfig } from "../config/validate";

// Rollouts and waits of the platform that only matter on day 2 (an upgrade, a restart) or between components.
// The values keys are checked against the pinned charts by their generated types (config/chart-values).

const release = (run: StackRun, chart: string) =>
    run.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && chartOf(r) === chart) as RecordedResource;
const named = (run: StackRun, name: string) => run.resources.find((r) => r.name === name) as RecordedResource;

describe("platform rollouts and readiness", () => {
    const runOf = sharedStackRuns();

    for (const stack of STACKS) {
        describe(stack, () => {
            const run = () => runOf(stack);

            it("rolls Traefik's host-port DaemonSet one node at a time, never surging onto a taken port", () => {
                assert.deepStrictEqual(release(run(), "traefik").inputs.values.updateStrategy, {
                    type: "RollingUpdate",
                    rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
                });
            });

            it("recreates MinIO's single-volume Deployment instead of surging (no Multi-Attach)", () => {
                assert.deepStrictEqual(release(run(), "minio").inputs.values.deploymentUpdate, { type: "Recreate" });
            });

            it("configures Keycloak's proxy, HTTP and health settings through the chart, not as duplicate env", () => {
                const values = release(run(), "keycloakx").inputs.values;
                assert.deepStrictEqual(values.proxy, { enabled: true, mode: "xforwarded", http: { enabled: true } });
                assert.deepStrictEqual(values.health, { enabled: true });
                for (const name of ["KC_PROXY_HEADERS", "KC_HTTP_ENABLED", "KC_HEALTH_ENABLED"])
                    assert.doesNotMatch(values.extraEnv, new RegExp(`name: ${name}\\b`), name);
            });

            it("lets a single-instance CNPG Cluster's node be drained (no PodDisruptionBudget), keeps it with standbys", () => {
                const cluster = named(run(), "geoplatform-pg");
                const instances = validateConfig(rawGeoplatformConfig(stack), stack).platform.postgres.instances;
                assert.strictEqual(cluster.inputs.spec.instances, instances);
                assert.strictEqual(cluster.inputs.spec.enablePDB, instances > 1);
                // The stack files: dev runs one instance (drained on every upgrade), prod three.
                assert.strictEqual(cluster.inputs.spec.enablePDB, stack === "prod");
            });

            it("awaits the CNPG Cluster until Ready and each Database until applied, so consumers start against a database", () => {
                const cluster = named(run(), "geoplatform-pg");
                assert.strictEqual(cluster.inputs.metadata.annotations["pulumi.com/waitFor"], "condition=Ready");
                const dbs = run().resources.filter((r) => r.type === "kubernetes:postgresql.cnpg.io/v1:Database");
                assert.ok(dbs.length >= 1);
                for (const db of dbs) {
                    assert.strictEqual(db.inputs.metadata.annotations["pulumi.com/waitFor"], "jsonpath={.status.applied}=true", db.name);
                    assert.ok(db.dependencies.includes(cluster.urn), db.name);
                }
            });

            it("starts PostgreSQL once its WAL archiver can write: the Barman Cloud plugin, its ObjectStore, and the bucket's key", () => {
                const cluster = named(run(), "geoplatform-pg");
                const plugin = release(run(), "plugin-barman-cloud");
                const store = named(run(), "geoplatform-pg-backup");
                assert.ok(cluster.dependencies.includes(plugin.urn) && cluster.dependencies.includes(store.urn));
                assert.ok(!dependsTransitively(run(), cluster, release(run(), "minio")), "backups no longer go to the in-cluster MinIO");
            });
        });
    }
});
