import * as assert from "assert";
import { RecordedResource, runStack, sharedStackRun, StackRun } from "../harness/run-stack";
import { planChanges } from "./plan";

// An app enabled on a running platform (here Argo Workflows, off in the first run): what the next `up` changes
// outside the app itself. Kubernetes objects renamed by the change (the realm Job) are replaced by the Kubernetes
// provider, which the planner does not model: they are named here and checked in test/sso.test.ts.

/** Dotted input paths that differ between two runs of one resource. */
function changed(a: unknown, b: unknown, path = ""): string[] {
    if (JSON.stringify(a) === JSON.stringify(b)) return [];
    const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
    if (!isMap(a) || !isMap(b)) return [path];
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => changed(a[k], b[k], path ? `${path}.${k}` : k));
}

const custom = (run: StackRun, name: string, type: string) => run.resources.find((r) => r.name === name && r.type === type) as RecordedResource;

describe("day 2: an app enabled on a running platform", () => {
    for (const stack of ["dev", "prod"] as const) {
        it(`${stack}: Argo enabled adds its resources and changes, in place, only the database roles, MinIO's buckets and users and the realm`, async () => {
            const before = await runStack(stack, { "geoplatform:apps": { argo: { enabled: false } } });
            const after = await sharedStackRun(stack);
            const plan = planChanges(before, after);
            assert.deepStrictEqual(plan.delete, []);
            assert.deepStrictEqual(plan.replace, [], JSON.stringify(plan.reasons));
            assert.ok(plan.create.length > 10, plan.create.join(" "));
            for (const name of plan.create) assert.match(name, /argo|spark-pi/, `${name} created: not Argo's`);
            const updated = after.resources.filter((r) => r.custom && plan.update.includes(r.name));
            const paths = Object.fromEntries(
                updated.map((r) => [`${r.type}::${r.name}`, changed(custom(before, r.name, r.type).inputs, r.inputs)] as const).filter(([, p]) => p.length > 0),
            );
            assert.deepStrictEqual(paths, {
                // A role added to the protected Cluster: an update, never bootstrap, storage or instances.
                "kubernetes:postgresql.cnpg.io/v1:Cluster::geoplatform-pg": ["spec.managed.roles"],
                "kubernetes:helm.sh/v3:Release::minio": ["values.buckets", "values.policies", "values.users"],
                // Argo's artifacts bucket mirrored off-site with the others, and reachable from notebooks' session policy.
                "kubernetes:batch/v1:CronJob::minio-mirror": ["spec.jobTemplate.spec.template.spec.containers"],
                "kubernetes:helm.sh/v3:Release::jupyterhub": ["values.hub.extraConfig.geoplatform-spawn-hooks"],
                "kubernetes:core/v1:ConfigMap::keycloak-realm": ["data.geoplatform-realm.json"],
                "kubernetes:core/v1:Secret::keycloak-realm-env": ["stringData.GEOPLATFORM_CLIENT_ARGO_SECRET"],
                // A new Job name: the provider replaces the Job, and the new one imports the realm with Argo's client.
                "kubernetes:batch/v1:Job::keycloak-realm-sync": ["metadata.name"],
            });
            const mirrored = (run: StackRun) =>
                JSON.stringify(custom(run, "minio-mirror", "kubernetes:batch/v1:CronJob").inputs.spec.jobTemplate.spec.template.spec.containers);
            assert.ok(!mirrored(before).includes("argo-artifacts") && mirrored(after).includes("argo-artifacts"), "the new bucket leaves the cluster too");
            const roles = (r: RecordedResource) => r.inputs.spec.managed.roles.map((role: { name: string }) => role.name);
            const cluster = "kubernetes:postgresql.cnpg.io/v1:Cluster";
            assert.deepStrictEqual(
                roles(custom(after, "geoplatform-pg", cluster)).filter((n: string) => !roles(custom(before, "geoplatform-pg", cluster)).includes(n)),
                ["argo"],
            );
            // Nothing below the platform moves: no VM, volume or remote command.
            for (const name of [...plan.update, ...plan.create]) {
                const r = after.resources.find((x) => x.name === name) as RecordedResource;
                assert.doesNotMatch(r.type, /^(aws|openstack|command):/, `${name} (${r.type})`);
            }
        });
    }
});
