import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { GEOCUBE_IMAGES, GEOCUBE_SQL, IMAGES, OPENEO_STAC_COLLECTION } from "../../config/catalog";
import { NODE_GROUP_LABEL } from "../../config/types";
import { ConfigError } from "../../config/checker";
import { validateConfig } from "../../config/validate";
import { PROCESSING_TOLERATION } from "../../platform/placement";
import { REALM_GROUPS } from "../../platform/keycloak";
import { BATCH_TEMPLATE_PATH, LAYER_CATALOG_PATH, SITE_PACKAGES } from "../../apps/openeo/files";
import { rawGeoplatformConfig, REPO_ROOT, STACKS } from "../harness/stack-config";
import { AppsRun, at, byKind, one, realmIssuer, releaseNamed, runApps } from "./harness";

// The facts openEO, Geocube and Argo depend on at their pinned versions (issue 16; docs/workflows.md has the
// upstream references): flags, commands, env names, Secret keys, RBAC verbs, and the files each reads.

const { tolerateProcessing, TOLERATION } = require("../../apps/openeo/postrender.js");

const envMap = (env: any[]) => Object.fromEntries(env.map((e: any) => [e.name, e]));
const rulesOf = (run: AppsRun, name: string, namespace?: string) =>
    byKind(run, "Role").find((r) => r.inputs.metadata.name === name && (!namespace || r.inputs.metadata.namespace === namespace))?.inputs.rules as any[];
const verbsOn = (rules: any[], group: string, resource: string) =>
    [...new Set(rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r) => r.verbs))].sort();
const secretRef = (name: string, key: string) => ({ secretKeyRef: { name, key } });

for (const stack of STACKS) {
    describe(`apps: openEO, Geocube, Argo for a logged-in user (${stack})`, () => {
        let run: AppsRun;
        before(async () => {
            run = await runApps(stack);
        });
        const openeo = () => releaseNamed(run, "openeo").inputs.values;

        it("openEO: the backend config names the realm as OidcProvider with the public openeo client and its device flow", () => {
            const v = openeo();
            // The chart renders configMaps.* and sets OPENEO_BACKEND_CONFIG only with existingConfigMaps false.
            assert.strictEqual(v.existingConfigMaps, false);
            const py: string = v.configMaps.backendConfig;
            assert.match(py, /^from openeo_driver\.users\.oidc import OidcProvider$/m);
            assert.match(py, /^config = GpsBackendConfig\($/m);
            assert.ok(py.includes(`issuer=${JSON.stringify(realmIssuer(stack))},`), py);
            assert.ok(py.includes(`"id": "openeo", "grant_types": ["urn:ietf:params:oauth:grant-type:device_code","refresh_token"]`), py);
            assert.match(py, /enable_basic_auth=False/);
            assert.ok(!py.includes("{{"), "the chart passes it through tpl");
            const realm = run.all.find((r) => r.inputs?.metadata?.name === "keycloak-realm");
            const client = JSON.parse(Object.values(realm!.inputs.data)[0] as string).clients.find((c: any) => c.clientId === "openeo");
            assert.deepStrictEqual([client.publicClient, client.attributes["oauth2.device.authorization.grant.enabled"]], [true, "true"]);
        });

        it("openEO: the layer catalog serves the stack's STAC collection through load_stac", () => {
            const catalog = JSON.parse(openeo().configMaps.layerCatalog);
            const stac = validateConfig(rawGeoplatformConfig(stack), stack).apps.openeo.stacCollection;
            assert.strictEqual(catalog.length, 1);
            assert.deepStrictEqual(catalog[0]._vito.data_source, { type: "stac", url: stac.url });
            assert.strictEqual(catalog[0].id, stac.url.split("/").pop());
            assert.deepStrictEqual(catalog[0]["cube:dimensions"].bands.values, stac.bands);
        });

        it("openEO: driver env with the names the driver reads, results in openeo-results, keys from the Secret", () => {
            const v = openeo();
            const env = envMap(v.global.extraEnv);
            assert.strictEqual(env.SWIFT_BUCKET.value, "openeo-results");
            assert.strictEqual(env.SWIFT_URL.value, "http://minio.minio.svc:9000");
            assert.strictEqual(env.AWS_S3_ENDPOINT.value, "minio.minio.svc:9000");
            assert.strictEqual(env.KUBE.value, "true");
            assert.strictEqual(env.OPENEO_CATALOG_FILES.value, LAYER_CATALOG_PATH);
            assert.strictEqual(env.OPENEO_S3_BUCKET_NAME, undefined, "read by nothing");
            assert.deepStrictEqual(env.AWS_ACCESS_KEY_ID.valueFrom, secretRef("openeo-s3", "AWS_ACCESS_KEY_ID"));
            assert.deepStrictEqual(env.AWS_SECRET_ACCESS_KEY.valueFrom, secretRef("openeo-s3", "AWS_SECRET_ACCESS_KEY"));
        });

        it("openEO: its S3 user may list bucket names, which the driver does before each batch job; no other user may", () => {
            const minio = run.all.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.name === "minio");
            const listers = minio!.inputs.values.policies
                .filter((p: any) => p.statements.some((st: any) => st.actions.includes("s3:ListAllMyBuckets")))
                .map((p: any) => p.name);
            assert.deepStrictEqual(listers, ["openeo-rw"]);
        });

        it("openEO: the batch template replaces the package's own, next to the chart's kube.py, from a ConfigMap the namespace allows", () => {
            const v = openeo();
            assert.strictEqual(v.mainApplicationFile, `local://${SITE_PACKAGES}/openeogeotrellis/deploy/kube.py`);
            assert.strictEqual(BATCH_TEMPLATE_PATH, `${SITE_PACKAGES}/openeogeotrellis/deploy/sparkapplication.yaml.j2`);
            assert.deepStrictEqual(v.driver.volumeMounts, [
                { name: "batch-job-template", mountPath: BATCH_TEMPLATE_PATH, subPath: "sparkapplication.yaml.j2" },
            ]);
            assert.deepStrictEqual(v.volumes, [{ name: "batch-job-template", configMap: { name: "openeo-batch-job-template" } }]);
            const template: string = one(run, "ConfigMap", "openeo-batch-job-template").inputs.data["sparkapplication.yaml.j2"];
            assert.ok(!template.includes("hostPath"), "Pod Security baseline refuses hostPath");
            assert.match(template, /serviceAccount: openeo-batch-jobs/);
            assert.ok(template.includes(JSON.stringify([PROCESSING_TOLERATION])), "batch pods tolerate processing");
            assert.ok(template.includes(`valueFrom: { secretKeyRef: { name: "openeo-s3", key: AWS_SECRET_ACCESS_KEY } }`));
            assert.ok(template.includes("{ name: SWIFT_BUCKET, value: {{ swift_bucket | tojson }} }"));
            // The driver renders it with these names (backend.py, k8s_render_manifest_template kwargs).
            for (const name of ["job_name", "job_namespace", "job_specification", "output_dir", "image_name", "access_token", "max_executors"]) {
                assert.ok(template.includes(`{{ ${name}`), name);
            }
        });

        it("openEO: RBAC verbs of the API, the batch drivers and the job tracker", () => {
            const api = rulesOf(run, "openeo");
            assert.deepStrictEqual(verbsOn(api, "sparkoperator.k8s.io", "sparkapplications"), ["create", "delete", "get", "list", "watch"]);
            assert.ok(verbsOn(api, "", "pods").includes("get"), "the API reads its own pod for the batch image");
            const batch = rulesOf(run, "openeo-batch-jobs");
            assert.deepStrictEqual(verbsOn(batch, "", "pods"), ["create", "delete", "deletecollection", "get", "list", "patch", "watch"]);
            assert.deepStrictEqual(verbsOn(batch, "sparkoperator.k8s.io", "sparkapplications"), []);
            assert.deepStrictEqual(verbsOn(rulesOf(run, "openeo-job-tracker"), "sparkoperator.k8s.io", "sparkapplications"), ["get", "list"]);
            assert.deepStrictEqual(rulesOf(run, "openeo-job-tracker").length, 1);
        });

        it("openEO: job tracker v2 reads the batch jobs of its namespace with the backend config mounted", () => {
            const spec = one(run, "CronJob", "openeo-job-tracker").inputs.spec.jobTemplate.spec.template.spec;
            const env = envMap(spec.containers[0].env);
            assert.deepStrictEqual([env.KUBE.value, env.POD_NAMESPACE.value], ["true", "openeo"]);
            assert.strictEqual(env.OPENEO_BACKEND_CONFIG.value, "/opt/backend_config/backendconfig.py");
            assert.deepStrictEqual(spec.volumes, [{ name: "backend-config", configMap: { name: "openeo-backend-config" } }]);
            assert.strictEqual(spec.containers[0].volumeMounts[0].mountPath, env.OPENEO_BACKEND_CONFIG.value);
            assert.strictEqual(spec.serviceAccountName, "openeo-job-tracker");
        });

        it("openEO: ZooKeeper keeps snapshots and transaction log on its claim", () => {
            const zk = one(run, "StatefulSet", "zookeeper").inputs.spec;
            const c = zk.template.spec.containers[0];
            const env = envMap(c.env);
            assert.deepStrictEqual(c.volumeMounts, [{ name: "data", mountPath: "/data" }]);
            assert.ok(env.ZOO_DATA_LOG_DIR.value.startsWith("/data/"), env.ZOO_DATA_LOG_DIR.value);
            assert.strictEqual(zk.template.spec.volumes, undefined, "no emptyDir");
            assert.strictEqual(zk.volumeClaimTemplates[0].metadata.name, "data");
        });

        it("Geocube: commands set, no password in any argument, PGPASSWORD from the Secret, one uid on the shared volume", () => {
            const specs = [
                one(run, "Deployment", "geocube-apiserver").inputs.spec.template.spec,
                one(run, "ReplicationController", "geocube-consolidater").inputs.spec.template.spec,
                one(run, "Deployment", "geocube-autoscaler").inputs.spec.template.spec,
            ];
            assert.deepStrictEqual(
                specs.map((s) => s.containers[0].command),
                [["/server"], ["/consolidater"], ["/autoscaler"]],
            );
            for (const spec of specs) {
                const c = spec.containers[0];
                assert.deepStrictEqual(envMap(c.env).PGPASSWORD.valueFrom, secretRef("geocube-db", "password"));
                for (const arg of c.args) {
                    assert.ok(!/password|\$\(/i.test(arg), arg);
                    const url = arg.match(/postgres(?:ql)?:\/\/([^@/]*)@/);
                    if (url) assert.ok(!url[1].includes(":"), `${arg}: no password in the URL, or lib/pq ignores PGPASSWORD`);
                }
                assert.deepStrictEqual([spec.securityContext.runAsUser, spec.securityContext.runAsGroup], [1000, 1000]);
            }
            const images = validateConfig(rawGeoplatformConfig(stack), stack).apps.geocube;
            assert.deepStrictEqual(
                specs.map((s) => s.containers[0].image),
                [images.apiserverImage, images.consolidaterImage, images.autoscalerImage],
            );
        });

        it("Argo: SSO RBAC on, realm groups mapped to service accounts by precedence, token Secrets the server may read", () => {
            const v = releaseNamed(run, "argo-workflows").inputs.values;
            assert.strictEqual(v.server.sso.rbac.enabled, true);
            assert.deepStrictEqual(v.server.sso.rbac.secretWhitelist, ["argo-admins.service-account-token", "argo-users.service-account-token"]);
            assert.deepStrictEqual(v.server.clusterWorkflowTemplates, { enabled: false });
            const accounts = byKind(run, "ServiceAccount").filter((s) => s.inputs.metadata.namespace === "argo");
            const rules = Object.fromEntries(
                accounts.map((s) => [
                    s.inputs.metadata.name,
                    [
                        s.inputs.metadata.annotations["workflows.argoproj.io/rbac-rule"],
                        s.inputs.metadata.annotations["workflows.argoproj.io/rbac-rule-precedence"],
                    ],
                ]),
            );
            assert.deepStrictEqual(rules, {
                "argo-admins": [`'${REALM_GROUPS.admins}' in groups`, "2"],
                "argo-users": [`'${REALM_GROUPS.users}' in groups`, "1"],
            });
            for (const name of Object.keys(rules)) {
                const token = one(run, "Secret", `${name}.service-account-token`).inputs;
                assert.deepStrictEqual(
                    [token.type, token.metadata.annotations["kubernetes.io/service-account.name"]],
                    ["kubernetes.io/service-account-token", name],
                );
            }
        });

        it("Argo: workflows only in processing; users run and read, admins also edit templates", () => {
            const v = releaseNamed(run, "argo-workflows").inputs.values;
            assert.deepStrictEqual(v.controller.workflowNamespaces, ["processing"]);
            const bindings = byKind(run, "RoleBinding").filter((b) => b.inputs.metadata.name.startsWith("argo-"));
            assert.deepStrictEqual(bindings.map((b) => [b.inputs.metadata.namespace, b.inputs.subjects[0].namespace]).sort(), [
                ["processing", "argo"],
                ["processing", "argo"],
            ]);
            const users = rulesOf(run, "argo-users", "processing");
            const admins = rulesOf(run, "argo-admins", "processing");
            assert.deepStrictEqual(verbsOn(users, "argoproj.io", "workflows"), ["create", "delete", "get", "list", "patch", "update", "watch"]);
            assert.deepStrictEqual(verbsOn(users, "argoproj.io", "workflowtemplates"), ["get", "list", "watch"]);
            assert.deepStrictEqual(verbsOn(admins, "argoproj.io", "workflowtemplates"), ["create", "delete", "get", "list", "patch", "update", "watch"]);
            for (const rules of [users, admins]) assert.deepStrictEqual(verbsOn(rules, "", "secrets"), []);
        });

        it("Argo: a WorkflowTemplate creates a SparkApplication and waits for its end state; the workflow account may", () => {
            const wt = one(run, "WorkflowTemplate", "spark-pi").inputs;
            assert.strictEqual(wt.metadata.namespace, "processing");
            const step = wt.spec.templates.find((t: any) => t.name === wt.spec.entrypoint);
            assert.deepStrictEqual([step.resource.action, step.resource.setOwnerReference], ["create", true]);
            assert.strictEqual(step.resource.successCondition, "status.applicationState.state == COMPLETED");
            assert.strictEqual(step.resource.failureCondition, "status.applicationState.state in (FAILED, SUBMISSION_FAILED)");
            const app = yaml.load(step.resource.manifest) as any;
            assert.deepStrictEqual([app.apiVersion, app.kind, app.metadata.namespace], ["sparkoperator.k8s.io/v1beta2", "SparkApplication", "processing"]);
            assert.strictEqual(app.spec.driver.serviceAccount, "spark");
            assert.deepStrictEqual(app.spec.driver.tolerations, [PROCESSING_TOLERATION]);
            assert.deepStrictEqual(app.spec.executor.nodeSelector, { [NODE_GROUP_LABEL]: "processing" });
            assert.deepStrictEqual(app.spec.arguments, ["{{inputs.parameters.partitions}}"]);
            const rules = releaseNamed(run, "argo-workflows").inputs.values.workflow.rbac.rules;
            assert.deepStrictEqual(verbsOn(rules, "sparkoperator.k8s.io", "sparkapplications"), ["create", "get", "list", "watch"]);
        });
    });
}

describe("apps: openEO, Geocube, Argo settings and toggles", () => {
    const raw = () => rawGeoplatformConfig("dev");
    const problems = (patch: unknown): string[] => {
        try {
            validateConfig({ ...raw(), apps: { ...(raw().apps as object), openeo: { stacCollection: patch } } }, "dev");
            return [];
        } catch (e) {
            if (e instanceof ConfigError) return e.problems;
            throw e;
        }
    };

    it("defaults the STAC collection to the catalog's and refuses a bad one, one message per mistake", () => {
        assert.deepStrictEqual(validateConfig(raw(), "dev").apps.openeo.stacCollection, {
            url: OPENEO_STAC_COLLECTION.url,
            bands: [...OPENEO_STAC_COLLECTION.bands],
        });
        assert.deepStrictEqual(problems({ url: "http://example.org/collections/x" }).length, 1);
        assert.match(problems({ url: "http://example.org/collections/x" })[0], /apps\.openeo\.stacCollection\.url.*https URL of a STAC API collection/);
        assert.match(problems({ url: "https://example.org/search" })[0], /stacCollection\.url/);
        assert.match(problems({ bands: [] })[0], /apps\.openeo\.stacCollection\.bands/);
        assert.match(problems({ bands: ["red", "b a d"] })[0], /apps\.openeo\.stacCollection\.bands\[1\]/);
        assert.match(problems({ nope: 1 })[0], /nope/);
        assert.deepStrictEqual(problems({ url: "https://planetarycomputer.microsoft.com/api/stac/v1/collections/sentinel-2-l2a", bands: ["B04"] }), []);
    });

    it("puts the stack's STAC collection in the layer catalog", async () => {
        const url = "https://planetarycomputer.microsoft.com/api/stac/v1/collections/landsat-c2-l2";
        const run = await runApps("dev", { "geoplatform:apps": { openeo: { stacCollection: { url, bands: ["red"] } } } });
        const catalog = JSON.parse(releaseNamed(run, "openeo").inputs.values.configMaps.layerCatalog);
        assert.deepStrictEqual([catalog[0].id, catalog[0]._vito.data_source.url, catalog[0]["cube:dimensions"].bands.values], ["landsat-c2-l2", url, ["red"]]);
    });

    it("makes no WorkflowTemplate and no SparkApplication rule without Spark", async () => {
        const run = await runApps("dev", { "geoplatform:apps": { spark: { enabled: false }, openeo: { enabled: false } } });
        assert.deepStrictEqual(byKind(run, "WorkflowTemplate"), []);
        assert.strictEqual(at(releaseNamed(run, "argo-workflows").inputs.values, "workflow.rbac.rules"), undefined);
    });
});

describe("openEO post-renderer (apps/openeo/postrender.js)", () => {
    const SCRIPT = path.join(REPO_ROOT, "apps", "openeo", "postrender.js");
    const affinity = (group: string) =>
        `    affinity:\n      nodeAffinity:\n        requiredDuringSchedulingIgnoredDuringExecution:\n          nodeSelectorTerms:\n          - matchExpressions:\n            - key: geoplatform.io/node-group\n              operator: In\n              values: [${group}]\n`;
    const app = (group: string) =>
        `---\n# Source: sparkapplication/templates/sparkapplication.yaml\napiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nmetadata:\n  name: openeo\nspec:\n  driver:\n${affinity(group)}  executor:\n${affinity(group)}`;
    const CM =
        "---\n# Source: sparkapplication/templates/configmap_layercatalog.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  x: |\n    ---\n    kind: SparkApplication\n";

    it("tolerates processing on the driver and executor, passes the rest byte for byte, as an executable", () => {
        const out = spawnSync(SCRIPT, [], { input: CM + app("processing"), encoding: "utf8" });
        assert.strictEqual(out.status, 0, out.stderr);
        assert.ok(out.stdout.startsWith(CM));
        const doc = yaml.load(out.stdout.slice(CM.length)) as any;
        assert.deepStrictEqual([doc.spec.driver.tolerations, doc.spec.executor.tolerations], [[PROCESSING_TOLERATION], [PROCESSING_TOLERATION]]);
        assert.deepStrictEqual(TOLERATION, PROCESSING_TOLERATION);
    });

    it("refuses a SparkApplication whose affinity is not processing, and a stream without exactly one", () => {
        assert.throws(() => tolerateProcessing(app("system")), /affinity selects \["system"\]/);
        assert.throws(() => tolerateProcessing(CM), /found 0/);
        assert.throws(() => tolerateProcessing(app("processing") + app("processing")), /found 2/);
        const out = spawnSync(SCRIPT, [], { input: app("system"), encoding: "utf8" });
        assert.notStrictEqual(out.status, 0);
    });
});

describe("Geocube images: built from the pinned source, published under the catalog's names", () => {
    const dockerfile = fs.readFileSync(path.join(REPO_ROOT, "images", "geocube", "Dockerfile"), "utf8");
    const workflow = yaml.load(fs.readFileSync(path.join(REPO_ROOT, ".github", "workflows", "geocube-images.yml"), "utf8")) as any;

    it("builds v1.0.3's commit, the one whose SQL the schema Job applies", () => {
        assert.match(dockerfile, new RegExp(`^ARG GEOCUBE_COMMIT=${GEOCUBE_SQL.commit}$`, "m"));
        assert.match(dockerfile, /^ADD --keep-git-dir=false https:\/\/github\.com\/airbusgeo\/geocube\.git#\$\{GEOCUBE_COMMIT\} \/src$/m);
        for (const target of ["apiserver", "consolidater", "autoscaler"]) assert.match(dockerfile, new RegExp(`^FROM \\S+ AS ${target}$`, "m"), target);
        // Every base pinned to a version, never a floating tag.
        for (const [, image] of dockerfile.matchAll(/^ARG (?:GO|RUNTIME)_IMAGE=(\S+)$/gm)) assert.match(image, /:\d+\.\d+\.\d+(-alpine\d+\.\d+)?$/, image);
    });

    it("pushes each target as the image the catalog pins", () => {
        const job = workflow.jobs.images;
        assert.strictEqual(job.env.TAG, GEOCUBE_IMAGES.tag);
        assert.strictEqual(job.env.REGISTRY, "ghcr.io/${{ github.repository_owner }}");
        const build = job.steps.find((s: any) => String(s.uses).startsWith("docker/build-push-action@"));
        assert.deepStrictEqual([build.with.context, build.with.target], ["images/geocube", "${{ matrix.service }}"]);
        for (const service of job.strategy.matrix.service) {
            const pushed = build.with.tags
                .replace("${{ env.REGISTRY }}", GEOCUBE_IMAGES.registry)
                .replace("${{ matrix.service }}", service)
                .replace("${{ env.TAG }}", job.env.TAG);
            const key = `geocube${service[0].toUpperCase()}${service.slice(1)}` as keyof typeof IMAGES;
            assert.strictEqual(pushed, IMAGES[key], service);
        }
    });
});
