import * as assert from "assert";
import * as yaml from "js-yaml";
import { BACKUP_DEFAULTS } from "../config/catalog";
import { validateConfig } from "../config/validate";
import { NODE_GROUP_LABEL } from "../config/types";
import { LOKI_BUCKET } from "../platform/observability/logs";
import { transitiveDeps } from "./harness/dependencies";
import { SECRET_SENTINEL } from "./harness/mock-outputs";
import { chartOf } from "./harness/releases";
import { RecordedResource, runStack, sharedStackRuns, StackRun } from "./harness/run-stack";
import { plainSecretLeaks } from "./harness/secrets";
import { rawGeoplatformConfig, STACKS } from "./harness/stack-config";
import { planChanges } from "./day2/plan";

// Issue 14: every stack backs its data up to a bucket outside the cluster, keeps its data volumes when claims go, and
// recovers from the backups when `geoplatform:restore` says so (docs/restore.md).

const COMMAND = "command:remote:Command";
const byType = (run: StackRun, type: string) => run.resources.filter((r) => r.type === type);
const one = (run: StackRun, type: string, name?: string) => {
    const found = byType(run, type).filter((r) => name === undefined || r.name === name);
    assert.strictEqual(found.length, 1, `${type} ${name ?? ""}: ${found.length} found`);
    return found[0];
};
const release = (run: StackRun, chart: string) => byType(run, "kubernetes:helm.sh/v3:Release").find((r) => chartOf(r) === chart) as RecordedResource;
const scriptVars = (script: string) => {
    const vars: Record<string, string> = {};
    for (const m of script.matchAll(/^([A-Z0-9_]+)='((?:[^']|'"'"')*)'$/gm)) vars[m[1]] = m[2].replace(/'"'"'/g, "'");
    return vars;
};
/** Dotted paths of the string values that contain `needle` (base64 of it included). */
function pathsWith(value: unknown, needle: string, at: string): string[] {
    if (typeof value === "string") return value.includes(needle) || value.includes(Buffer.from(needle).toString("base64").slice(0, 12)) ? [at] : [];
    if (Array.isArray(value)) return value.flatMap((v, i) => pathsWith(v, needle, `${at}[${i}]`));
    if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => pathsWith(v, needle, at ? `${at}.${k}` : k));
    return [];
}
const k3sConfigOf = (install: RecordedResource) =>
    yaml.load(Buffer.from(scriptVars(install.inputs.stdin).K3S_CONFIG_B64, "base64").toString("utf8")) as Record<string, any>;

describe("backups (issue 14)", () => {
    const runOf = sharedStackRuns();

    describe("prod: an S3 bucket of its own", () => {
        const run = () => runOf("prod");
        it("is versioned, encrypted, never public, TLS only, retained by destroy, with its settings deleted with it", () => {
            const bucket = one(run(), "aws:s3/bucket:Bucket");
            assert.strictEqual(bucket.inputs.forceDestroy, false);
            assert.ok(bucket.options.retainOnDelete, "the bucket survives pulumi destroy");
            const setting = (type: string) => {
                const r = one(run(), type);
                assert.ok(r.options.retainOnDelete, `${type} stays with the retained bucket`);
                assert.ok(r.dependencies.includes(bucket.urn), type);
                return r.inputs;
            };
            assert.strictEqual(setting("aws:s3/bucketVersioning:BucketVersioning").versioningConfiguration.status, "Enabled");
            assert.strictEqual(
                setting("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").rules[0].applyServerSideEncryptionByDefault
                    .sseAlgorithm,
                "AES256",
            );
            const pab = setting("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
            for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.strictEqual(pab[k], true, k);
            const rules = setting("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").rules;
            assert.strictEqual(rules[0].noncurrentVersionExpiration.noncurrentDays, BACKUP_DEFAULTS.noncurrentVersionDays);
            assert.ok(
                rules.every((r: any) => r.expiration?.days === undefined),
                "no current object expires by age (Longhorn blocks, Barman chains)",
            );
            const policy = JSON.parse(setting("aws:s3/bucketPolicy:BucketPolicy").policy);
            assert.deepStrictEqual(policy.Statement[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
            assert.strictEqual(policy.Statement[0].Effect, "Deny");
        });

        it("gives an IAM user one key, allowed on this bucket only, as a secret", () => {
            const bucket = one(run(), "aws:s3/bucket:Bucket");
            const policy = JSON.parse(one(run(), "aws:iam/userPolicy:UserPolicy").inputs.policy);
            const resources = policy.Statement.flatMap((s: any) => s.Resource);
            assert.deepStrictEqual([...new Set(resources)].sort(), [bucket.state.arn, `${bucket.state.arn}/*`].sort());
            assert.ok(!policy.Statement.some((s: any) => [].concat(s.Action).some((a: string) => a === "s3:*" || a.startsWith("iam:"))));
            const key = one(run(), "aws:iam/accessKey:AccessKey");
            assert.ok(key.additionalSecretOutputs.includes("secret"));
        });
    });

    describe("dev: an object-storage container with EC2 credentials", () => {
        it("creates a retained container and an EC2 credential for the cloud's S3 API", () => {
            const container = one(runOf("dev"), "openstack:objectstorage/container:Container");
            assert.ok(container.options.retainOnDelete);
            assert.ok(one(runOf("dev"), "openstack:identity/ec2CredentialV3:Ec2CredentialV3").additionalSecretOutputs.includes("secret"));
        });
        it("creates none where the config names a bucket elsewhere, and uses that one", async () => {
            const external = {
                endpoint: "https://s3.example.net",
                region: "eu-1",
                bucket: "dev-backups",
                accessKeyId: "AKID",
                secretAccessKey: "s3cr3t-external",
            };
            const run = await runStack("dev", { "geoplatform:backup": { external } });
            assert.strictEqual(byType(run, "openstack:objectstorage/container:Container").length, 0);
            const server = byType(run, COMMAND).find((r) => r.name === "dev-control-plane-1-k3s") as RecordedResource;
            assert.strictEqual(k3sConfigOf(server)["etcd-s3-bucket"], "dev-backups");
            assert.strictEqual(k3sConfigOf(server)["etcd-s3-endpoint"], "s3.example.net");
            // The configured key is a value of the config, not a mock sentinel: it must sit in secret inputs only.
            const plain = run.resources.flatMap((r) =>
                pathsWith(r.inputs, "s3cr3t-external", "")
                    .filter((p) => !r.secretPaths.some((s) => p === s || p.startsWith(`${s}.`) || p.startsWith(`${s}[`)))
                    .map((p) => `${r.name}: ${p}`),
            );
            assert.deepStrictEqual(plain, []);
            assert.ok(
                run.resources.some((r) => pathsWith(r.inputs, "s3cr3t-external", "").length > 0),
                "the key is used",
            );
        });
    });

    for (const stack of STACKS) {
        describe(`${stack}`, () => {
            const run = () => runOf(stack);
            const config = () => validateConfig(rawGeoplatformConfig(stack), stack);

            it("runs embedded etcd on every stack and snapshots it to the bucket on a schedule, keys only in the 0600 config", () => {
                const servers = byType(run(), COMMAND).filter((r) => /-control-plane-\d+-k3s$/.test(r.name));
                assert.ok(servers.length >= 1);
                assert.strictEqual(k3sConfigOf(servers[0])["cluster-init"], true, "a single server too: snapshots exist for etcd only");
                for (const s of servers) {
                    const c = k3sConfigOf(s);
                    assert.strictEqual(c["etcd-s3"], true, s.name);
                    assert.strictEqual(c["etcd-snapshot-schedule-cron"], BACKUP_DEFAULTS.etcdSnapshotCron);
                    assert.strictEqual(c["etcd-snapshot-retention"], BACKUP_DEFAULTS.etcdSnapshotRetention);
                    assert.strictEqual(c["etcd-s3-folder"], "k3s-etcd");
                    assert.match(c["etcd-s3-bucket"], /mock$/);
                    assert.doesNotMatch(c["etcd-s3-endpoint"], /^https?:/, "K3s takes a host, not a URL");
                    assert.ok(c["etcd-s3-secret-key"].startsWith(SECRET_SENTINEL), "the bucket's own key");
                    assert.ok(s.secretPaths.includes("stdin"), "the config reaches the node as a secret");
                }
                const agents = byType(run(), COMMAND).filter((r) => r.name.endsWith("-k3s") && !servers.includes(r));
                for (const a of agents) assert.strictEqual(k3sConfigOf(a)["etcd-s3"], undefined, `${a.name}: agents hold no bucket key`);
            });

            it("backs up every Longhorn volume (group default) to the bucket, and keeps volumes whose claims go", () => {
                const values = release(run(), "longhorn").inputs.values;
                assert.strictEqual(values.persistence.reclaimPolicy, "Retain");
                assert.match(values.defaultBackupStore.backupTarget, /^s3:\/\/[^@]+mock@[a-zA-Z0-9-]+\/longhorn\/$/);
                const secret = byType(run(), "kubernetes:core/v1:Secret").find(
                    (r) => r.inputs.metadata.name === values.defaultBackupStore.backupTargetCredentialSecret,
                );
                assert.ok(secret && secret.inputs.stringData.AWS_SECRET_ACCESS_KEY.startsWith(SECRET_SENTINEL));
                assert.strictEqual(secret.inputs.stringData.AWS_ENDPOINTS !== undefined, stack === "dev", "a custom endpoint only off AWS");
                const jobs = byType(run(), "kubernetes:longhorn.io/v1beta2:RecurringJob").map((r) => r.inputs.spec);
                assert.deepStrictEqual(jobs.map((j) => [j.task, j.groups, j.retain > 0]).sort(), [
                    ["backup", ["default"], true],
                    ["snapshot", ["default"], true],
                ]);
                for (const j of jobs) assert.match(j.cron, /^(\S+\s+){4}\S+$/);
            });

            it("backs PostgreSQL up through the Barman Cloud plugin: ObjectStore, WAL archiver, scheduled plugin backups", () => {
                const plugin = release(run(), "plugin-barman-cloud");
                assert.strictEqual(plugin.inputs.namespace, "cnpg-system", "the operator finds plugins in its own namespace");
                assert.deepStrictEqual(plugin.inputs.values.nodeSelector, { [NODE_GROUP_LABEL]: "system" });
                assert.ok(transitiveDeps(run(), plugin.urn).has(release(run(), "cert-manager").urn), "its Issuer and Certificates need cert-manager");
                const store = one(run(), "kubernetes:barmancloud.cnpg.io/v1:ObjectStore");
                assert.match(store.inputs.spec.configuration.destinationPath, /^s3:\/\/\S+mock\/postgres\/$/);
                assert.strictEqual(store.inputs.spec.retentionPolicy, BACKUP_DEFAULTS.postgresRetention);
                assert.strictEqual(store.inputs.spec.configuration.s3Credentials.secretAccessKey.name, "postgres-backup-s3");
                const cluster = one(run(), "kubernetes:postgresql.cnpg.io/v1:Cluster");
                assert.deepStrictEqual(cluster.inputs.spec.plugins, [
                    {
                        name: "barman-cloud.cloudnative-pg.io",
                        isWALArchiver: true,
                        parameters: { barmanObjectName: store.inputs.metadata.name, serverName: "geoplatform-pg" },
                    },
                ]);
                assert.strictEqual(cluster.inputs.spec.backup, undefined, "no in-tree barmanObjectStore");
                assert.strictEqual(cluster.inputs.spec.bootstrap, undefined);
                assert.ok(cluster.options.protect, "the database cluster is protected");
                const scheduled = one(run(), "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup").inputs.spec;
                assert.deepStrictEqual(
                    [scheduled.method, scheduled.pluginConfiguration.name, scheduled.immediate],
                    ["plugin", "barman-cloud.cloudnative-pg.io", true],
                );
            });

            it("mirrors MinIO's buckets to the bucket with a pinned mc, on system, Pod Security restricted, keys from a Secret", () => {
                const cron = one(run(), "kubernetes:batch/v1:CronJob", "minio-mirror");
                const pod = cron.inputs.spec.jobTemplate.spec.template.spec;
                const c = pod.containers[0];
                assert.match(c.image, /^quay\.io\/minio\/mc:RELEASE\./);
                assert.deepStrictEqual(pod.nodeSelector, { [NODE_GROUP_LABEL]: "system" });
                assert.strictEqual(pod.securityContext.runAsNonRoot, true);
                assert.strictEqual(pod.securityContext.seccompProfile.type, "RuntimeDefault");
                assert.deepStrictEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
                assert.strictEqual(cron.inputs.spec.concurrencyPolicy, "Forbid");
                const buckets = c.env.find((e: any) => e.name === "BUCKETS").value.split(" ");
                // Loki's chunks are logs with their own retention (platform.logs.retention), not data: not mirrored.
                const minioBuckets = release(run(), "minio")
                    .inputs.values.buckets.map((b: any) => b.name)
                    .filter((b: string) => b !== LOKI_BUCKET);
                assert.deepStrictEqual(buckets.sort(), minioBuckets.sort(), "every MinIO bucket but Loki's");
                const secret = byType(run(), "kubernetes:core/v1:Secret").find(
                    (r) => r.inputs.metadata.name === c.envFrom[0].secretRef.name,
                ) as RecordedResource;
                assert.match(secret.inputs.stringData.MC_HOST_src, /^http:\/\/backup-mirror:MOCKSECRET[^@]*@minio\.minio\.svc:9000$/);
                assert.ok(secret.secretPaths.includes("stringData"));
                const policy = release(run(), "minio").inputs.values.policies.find((p: any) => p.name === "backup-mirror-rw");
                assert.deepStrictEqual(policy.statements[1].actions, ["s3:GetObject"], "the mirror only reads MinIO");
            });

            it("keeps the token that encrypts K3s' bootstrap data and the data volumes from destroy", () => {
                const token = run().resources.find((r) => r.name === `${stack}-token`) as RecordedResource;
                assert.ok(token.options.protect);
                const volumes = run().resources.filter(
                    (r) => /-data$/.test(r.name) && (r.type === "aws:ebs/volume:Volume" || r.type === "openstack:blockstorage/volume:Volume"),
                );
                assert.ok(volumes.length > 0 && volumes.every((v) => v.options.protect && v.options.retainOnDelete));
                assert.strictEqual(config().backup.postgresServerName, "geoplatform-pg");
            });

            it("leaks no bucket key into plain inputs, and exports where the backups are", () => {
                assert.deepStrictEqual(plainSecretLeaks(run().resources), []);
                assert.ok(run().outputs.backupBucket, "stack output backupBucket");
            });
        });
    }

    describe("restore switched on (dev)", () => {
        const restore = {
            k3s: { snapshot: "etcd-snapshot-dev-control-plane-1-1764547200.zip" },
            postgres: { serverName: "geoplatform-pg", targetTime: "2026-12-01T10:00:00Z" },
            longhorn: {
                volumes: [
                    {
                        name: "minio-data",
                        backup: "backup-0123abcd",
                        sourceVolume: "pvc-1111",
                        sizeGb: 50,
                        claim: { namespace: "minio", name: "minio", release: "minio" },
                    },
                    { name: "pvc-2222", sizeGb: 10, claim: { namespace: "jupyterhub", name: "claim-alice" } },
                ],
            },
        };
        let run: StackRun;
        before(async () => {
            run = await runStack("dev", {
                "geoplatform:restore": restore,
                "geoplatform:backup": { ...(rawGeoplatformConfig("dev").backup as object), postgresServerName: "geoplatform-pg-2" },
            });
        });

        it("bootstraps PostgreSQL by recovery from the plugin's object store, to the point in time, archiving under a new name", () => {
            const cluster = one(run, "kubernetes:postgresql.cnpg.io/v1:Cluster");
            assert.deepStrictEqual(cluster.inputs.spec.bootstrap, { recovery: { source: "origin", recoveryTarget: { targetTime: "2026-12-01T10:00:00Z" } } });
            assert.deepStrictEqual(cluster.inputs.spec.externalClusters, [
                {
                    name: "origin",
                    plugin: {
                        name: "barman-cloud.cloudnative-pg.io",
                        parameters: { barmanObjectName: "geoplatform-pg-restore-source", serverName: "geoplatform-pg" },
                    },
                },
            ]);
            assert.strictEqual(cluster.inputs.spec.plugins[0].parameters.serverName, "geoplatform-pg-2");
            assert.ok(cluster.options.ignoreChanges.includes("spec.bootstrap"), "switching restore on for a running cluster changes nothing");
            const source = one(run, "kubernetes:barmancloud.cnpg.io/v1:ObjectStore", "geoplatform-pg-restore-source");
            assert.ok(cluster.dependencies.includes(source.urn));
            assert.strictEqual(source.inputs.spec.retentionPolicy, undefined, "the source is only read");
        });

        it("restores a Longhorn volume from its backup and re-binds a retained one, each to the claim its workload asks for", () => {
            const volume = one(run, "kubernetes:longhorn.io/v1beta2:Volume");
            assert.match(volume.inputs.spec.fromBackup, /^s3:\/\/\S+mock@WAW3-2\/longhorn\/\?backup=backup-0123abcd&volume=pvc-1111$/);
            assert.strictEqual(volume.inputs.spec.size, String(50 * 1024 ** 3));
            const pvs = byType(run, "kubernetes:core/v1:PersistentVolume");
            assert.deepStrictEqual(
                pvs.map((p) => [p.inputs.spec.csi.volumeHandle, p.inputs.spec.claimRef.name, p.inputs.spec.persistentVolumeReclaimPolicy]).sort(),
                [
                    ["minio-data", "minio", "Retain"],
                    ["pvc-2222", "claim-alice", "Retain"],
                ],
            );
            const claims = byType(run, "kubernetes:core/v1:PersistentVolumeClaim").filter((c) => c.name.startsWith("restore-"));
            assert.deepStrictEqual(claims.map((c) => c.inputs.spec.volumeName).sort(), ["minio-data", "pvc-2222"]);
            // MinIO's release (which would otherwise provision an empty claim) waits for the restored one.
            const claim = claims.find((c) => c.inputs.metadata.name === "minio") as RecordedResource;
            assert.ok(transitiveDeps(run, release(run, "minio").urn).has(claim.urn));
            // ... and carries the ownership metadata Helm needs to adopt it; the other claim (nobody's chart) none.
            assert.deepStrictEqual(claim.inputs.metadata.annotations, { "meta.helm.sh/release-name": "minio", "meta.helm.sh/release-namespace": "minio" });
            assert.strictEqual((claims.find((c) => c.inputs.metadata.name === "claim-alice") as RecordedResource).inputs.metadata.annotations, undefined);
        });

        it("resets the first server's etcd to the snapshot before any other node joins", () => {
            const reset = one(run, COMMAND, "dev-etcd-restore");
            assert.strictEqual(scriptVars(reset.inputs.stdin).SNAPSHOT, restore.k3s.snapshot);
            assert.match(reset.inputs.stdin, /--cluster-reset/);
            assert.ok(reset.dependencies.includes((run.resources.find((r) => r.name === "dev-control-plane-1-k3s") as RecordedResource).urn));
            for (const agent of byType(run, COMMAND).filter((r) => /-(system|processing)-\d+-k3s$/.test(r.name))) {
                assert.ok(transitiveDeps(run, agent.urn).has(reset.urn), `${agent.name} joins the restored cluster`);
            }
        });

        it("a first server replaced later with restore.k3s still set: no reset of the live cluster; only a new snapshot restores", async () => {
            const reset = one(run, COMMAND, "dev-etcd-restore");
            const vm = run.resources.find((r) => r.name === "dev-control-plane-1" && r.type === "openstack:compute/instance:Instance") as RecordedResource;
            // The replacement re-reads the first server's host key (infra/host-keys.ts), which this command's connection
            // holds: the engine updates it, and pulumi-command v1.2.1 then runs `update`, or `create` when it is unset
            // (provider/pkg/provider/remote/commandController.go, Update).
            const plan = planChanges(run, run, [vm.urn]);
            assert.ok(plan.replace.includes("dev-control-plane-1-host-key"), JSON.stringify(plan.reasons));
            assert.ok(reset.dependencies.includes(one(run, COMMAND, "dev-control-plane-1-host-key").urn), "its connection holds the host key");
            assert.ok(!plan.replace.includes("dev-etcd-restore"), JSON.stringify(plan.reasons));
            const runOnUpdate = reset.inputs.update ?? reset.inputs.create;
            assert.strictEqual(runOnUpdate, "true", "an update of the restore command runs nothing");
            // A new snapshot is a replacement (triggers are replaceOnChanges), whose create runs the restore.
            const other = await runStack("dev", {
                "geoplatform:restore": { ...restore, k3s: { snapshot: "etcd-snapshot-dev-control-plane-1-1764633600.zip" } },
                "geoplatform:backup": { ...(rawGeoplatformConfig("dev").backup as object), postgresServerName: "geoplatform-pg-2" },
            });
            const again = planChanges(run, other);
            assert.deepStrictEqual(again.reasons["dev-etcd-restore"], ["triggers[0]"]);
            const next = one(other, COMMAND, "dev-etcd-restore");
            assert.strictEqual(next.inputs.create, "sudo bash -s");
            assert.match(next.inputs.stdin, /--cluster-reset/);
        });
    });

    describe("config", () => {
        const check = (stack: string, patch: Record<string, unknown>) => {
            const raw = { ...rawGeoplatformConfig(stack), ...patch };
            try {
                validateConfig(raw, stack);
                return [];
            } catch (e) {
                return (e as { problems: string[] }).problems;
            }
        };
        it("refuses a restore that would archive into the folder it recovers from, one message", () => {
            const problems = check("dev", { restore: { postgres: {} } });
            assert.strictEqual(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], /^geoplatform:backup\.postgresServerName: got "geoplatform-pg", expected a new name/);
            assert.deepStrictEqual(check("dev", { restore: { bucket: "old-dev-backups", postgres: {} } }), [], "another bucket: the same name is fine");
        });
        it("refuses a point in time without a zone, a volume backup without its volume, an empty restore", () => {
            assert.match(check("dev", { restore: { bucket: "b-old", postgres: { targetTime: "2026-12-01 10:00" } } }).join(), /restore\.postgres\.targetTime/);
            assert.match(
                check("dev", {
                    restore: { longhorn: { volumes: [{ name: "v", backup: "backup-1", sizeGb: 1, claim: { namespace: "a", name: "b" } }] } },
                }).join(),
                /sourceVolume/,
            );
            assert.match(check("dev", { restore: {} }).join(), /geoplatform:restore: got \{\}, expected at least one of/);
        });
        it("needs the S3 endpoint on OpenStack and refuses it on AWS", () => {
            const dev = rawGeoplatformConfig("dev");
            assert.match(check("dev", { backup: {} }).join(), /geoplatform:backup\.s3Endpoint: got nothing/);
            assert.match(check("prod", { backup: dev.backup }).join(), /geoplatform:backup\.s3Endpoint: .* only OpenStack/);
            assert.match(check("prod", { backup: { etcdSnapshotCron: "0 0 */6 * * *" } }).join(), /five-field cron/);
        });
    });
});
