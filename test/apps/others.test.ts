import * as assert from "assert";
import { CHARTS, GEOCUBE_SQL, PLATFORM_IMAGES } from "../../config/catalog";
import { geocubeSourceUrl } from "../../apps/geocube/schema";
import { APP_NAMES, NODE_GROUP_LABEL } from "../../config/types";
import { validateConfig } from "../../config/validate";
import { rawGeoplatformConfig, STACKS } from "../harness/stack-config";
import { AppsRun, byKind, one, realmClientIds, realmIssuer, RELEASE, releaseNamed, runApps } from "./harness";
import { releaseChart } from "../../platform/release";

const system = { [NODE_GROUP_LABEL]: "system" };
const processingToleration = { key: NODE_GROUP_LABEL, operator: "Equal", value: "processing", effect: "NoSchedule" };
const envOf = (spec: any, name: string) => spec.containers[0].env.find((e: any) => e.name === name);

for (const stack of STACKS) {
    describe(`apps: openEO, Geocube, Argo (${stack})`, () => {
        let run: AppsRun;
        before(async () => {
            run = await runApps(stack);
        });

        it("openEO: pinned chart, required values, driver/executor affinity, secrets by reference", () => {
            const r = releaseNamed(run, "openeo").inputs;
            assert.deepStrictEqual([r.chart, r.version, r.namespace], [releaseChart(CHARTS.openeo), "1.3.1", "openeo"]);
            const v = r.values;
            // Read by the chart's templates but absent from its values.yaml (typed in config/chart-values/sparkapplication.ts all the same).
            for (const k of ["image", "imageVersion", "mainApplicationFile"]) assert.ok(v[k], k);
            assert.strictEqual(v.rbac.serviceAccountDriver, "openeo");
            for (const role of ["driver", "executor"]) {
                const term = v[role].affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0];
                assert.deepStrictEqual(term.matchExpressions, [{ key: NODE_GROUP_LABEL, operator: "In", values: ["processing"] }]);
            }
            const env = Object.fromEntries(v.global.extraEnv.map((e: any) => [e.name, e]));
            assert.strictEqual(env.ZOOKEEPERNODES.value, "zookeeper.openeo.svc.cluster.local:2181");
            assert.strictEqual(env.BATCH_JOBS_ZOOKEEPER_ROOT_PATH.value, "/openeo/jobs");
            assert.deepStrictEqual(env.AWS_SECRET_ACCESS_KEY.valueFrom, { secretKeyRef: { name: "openeo-s3", key: "AWS_SECRET_ACCESS_KEY" } });
        });

        it("openEO: ZooKeeper on the official pinned image, a job tracker CronJob and TLS ingress", () => {
            const zk = one(run, "StatefulSet", "zookeeper").inputs.spec;
            assert.match(zk.template.spec.containers[0].image, /^zookeeper:\d+\.\d+\.\d+$/);
            assert.strictEqual(zk.volumeClaimTemplates[0].spec.storageClassName, "longhorn");
            const tracker = one(run, "CronJob", "openeo-job-tracker").inputs.spec.jobTemplate.spec.template.spec;
            // job_tracker_v2.py CliApp.parse_cli_args at openeo-geopyspark-driver 1c5e99976a3d: --app-cluster yarn|k8s|auto.
            assert.deepStrictEqual(tracker.containers[0].command, [
                "/opt/openeo/bin/python3",
                "-m",
                "openeogeotrellis.job_tracker_v2",
                "--app-cluster",
                "k8s",
                "--basic-logging",
            ]);
            assert.strictEqual(envOf(tracker, "ZOOKEEPERNODES").value, "zookeeper.openeo.svc.cluster.local:2181");
            const ing = one(run, "Ingress", "openeo").inputs;
            assert.match(ing.spec.rules[0].host, /^openeo\./);
            assert.strictEqual(ing.spec.tls[0].secretName, "openeo-tls");
            assert.deepStrictEqual(one(run, "Service", "openeo").inputs.spec.selector, { "app.kubernetes.io/name": "openeo-driver" });
        });

        it("Geocube: apiserver, consolidater and autoscaler with the flags v1.0.3 defines, pgqueue on its database, DB password from the Secret", () => {
            const api = one(run, "Deployment", "geocube-apiserver").inputs.spec.template.spec;
            const apiArgs: string[] = api.containers[0].args;
            assert.deepStrictEqual(envOf(api, "PGPASSWORD").valueFrom, { secretKeyRef: { name: "geocube-db", key: "password" } });
            const pgq = "-pgqConnection=postgresql://geocube@geoplatform-pg-rw.postgres.svc:5432/geocube";
            for (const arg of [
                "-dbConnection=postgresql://geocube@geoplatform-pg-rw.postgres.svc:5432/geocube?binary_parameters=yes",
                pgq,
                "-eventsQueue=events",
                "-consolidationsQueue=consolidations",
            ]) {
                assert.ok(apiArgs.includes(arg), arg);
            }
            // Flags of cmd/server, cmd/consolidater, cmd/autoscaler and cmd/gdalConfig.go at v1.0.3: Go's flag package exits on any other.
            const flagNames = (args: string[]) => args.map((a) => a.replace(/^-+/, "").split("=")[0]);
            const gdal = ["with-s3", "aws-endpoint", "aws-region"];
            const server = [
                "port",
                "maxConnectionAge",
                "workers",
                "cancelledJobs",
                "ingestionStorage",
                "dbConnection",
                "pgqConnection",
                "eventsQueue",
                "consolidationsQueue",
                ...gdal,
            ];
            assert.deepStrictEqual(
                flagNames(apiArgs).filter((f) => !server.includes(f)),
                [],
            );
            const worker = one(run, "ReplicationController", "geocube-consolidater").inputs.spec;
            assert.strictEqual(worker.replicas, 0);
            const workerSpec = worker.template.spec;
            assert.deepStrictEqual(workerSpec.tolerations, [processingToleration]);
            const consolidater = ["workdir", "cancelledJobs", "pgqConnection", "eventsQueue", "consolidationsQueue", ...gdal];
            assert.deepStrictEqual(
                flagNames(workerSpec.containers[0].args).filter((f) => !consolidater.includes(f)),
                [],
            );
            assert.ok(workerSpec.containers[0].args.includes(pgq));
            const scaler = one(run, "Deployment", "geocube-autoscaler").inputs.spec.template.spec;
            const autoscaler = ["update", "pgq-connection", "queue", "rc", "ns", "ratio", "minratio", "step", "max", "min", "pod.cost.path", "pod.cost.port"];
            assert.deepStrictEqual(
                flagNames(scaler.containers[0].args).filter((f) => !autoscaler.includes(f)),
                [],
            );
            for (const arg of ["-rc=geocube-consolidater", "-ns=geocube", "-queue=consolidations"]) assert.ok(scaler.containers[0].args.includes(arg), arg);
            assert.strictEqual(scaler.serviceAccountName, "geocube-autoscaler");
            const rules = one(run, "Role", "geocube-autoscaler").inputs.rules;
            assert.deepStrictEqual(
                rules
                    .find((r: any) => r.resources.includes("pods"))
                    .verbs.slice()
                    .sort(),
                ["create", "delete", "get", "list"],
            );
            assert.strictEqual(one(run, "RoleBinding", "geocube-autoscaler").inputs.subjects[0].name, "geocube-autoscaler");
            one(run, "Service", "geocube-apiserver");
            const images = validateConfig(rawGeoplatformConfig(stack), stack).apps.geocube;
            assert.strictEqual(api.containers[0].image, images.apiserverImage);
        });

        it("Geocube: datasets on a shared Longhorn volume as local paths (its storage layer has no s3://)", () => {
            const pvc = one(run, "PersistentVolumeClaim", "geocube-storage").inputs.spec;
            assert.deepStrictEqual(pvc.accessModes, ["ReadWriteMany"]);
            assert.strictEqual(pvc.storageClassName, "longhorn");
            assert.strictEqual(pvc.resources.requests.storage, `${validateConfig(rawGeoplatformConfig(stack), stack).apps.geocube.storageGb}Gi`);
            const api = one(run, "Deployment", "geocube-apiserver").inputs.spec.template.spec;
            const worker = one(run, "ReplicationController", "geocube-consolidater").inputs.spec.template.spec;
            for (const spec of [api, worker]) {
                assert.deepStrictEqual(spec.volumes.find((v: any) => v.name === "storage").persistentVolumeClaim, { claimName: "geocube-storage" });
                assert.ok(spec.containers[0].volumeMounts.some((m: any) => m.name === "storage" && m.mountPath === "/geocube-storage"));
                assert.ok(spec.containers[0].args.includes("-cancelledJobs=/geocube-storage/cancelled-jobs"));
                for (const arg of spec.containers[0].args) assert.ok(!/^-(ingestionStorage|cancelledJobs)=(s3|gs):/.test(arg), arg);
            }
            assert.ok(api.containers[0].args.includes("-ingestionStorage=/geocube-storage/datasets"));
        });

        it("Geocube: a schema Job applies the release's SQL, checked by SHA-256, before the services start", () => {
            const job = one(run, "Job", "geocube-schema");
            const spec = job.inputs.spec.template.spec;
            const urls: string[] = spec.initContainers[0].args.filter((a: string) => a.startsWith("https://"));
            assert.deepStrictEqual(
                urls,
                Object.values(GEOCUBE_SQL.files).map((f) => geocubeSourceUrl(f.path)),
            );
            for (const url of urls) assert.match(url, /\/airbusgeo\/geocube\/[0-9a-f]{40}\//);
            const env = Object.fromEntries(spec.containers[0].env.map((e: any) => [e.name, e]));
            assert.strictEqual(env.SCHEMA_SHA256.value, GEOCUBE_SQL.files["schema.sql"].sha256);
            assert.deepStrictEqual(env.PGPASSWORD.valueFrom, { secretKeyRef: { name: "geocube-db", key: "password" } });
            assert.strictEqual(spec.containers[0].image, `${PLATFORM_IMAGES.postgres.repository}:${PLATFORM_IMAGES.postgres.tag}`);
            for (const [kind, name] of [
                ["Deployment", "geocube-apiserver"],
                ["ReplicationController", "geocube-consolidater"],
                ["Deployment", "geocube-autoscaler"],
            ]) {
                assert.ok(one(run, kind, name).dependencies.includes(job.urn), `${name} waits for the schema`);
            }
        });

        it("installs every app chart pinned to the catalog and atomically: a release that does not become ready is rolled back", () => {
            const releases = run.resources.filter((r) => r.type === RELEASE);
            assert.deepStrictEqual(releases.map((r) => r.inputs.name).sort(), ["argo-workflows", "jupyterhub", "openeo", "spark-operator"]);
            for (const r of releases) {
                const entry = Object.values(CHARTS).find((c) => releaseChart(c) === r.inputs.chart);
                assert.ok(entry, r.inputs.chart);
                assert.deepStrictEqual([r.inputs.version, r.inputs.repositoryOpts], [entry.version, undefined], r.name);
                assert.deepStrictEqual([r.inputs.atomic, r.inputs.timeout, r.inputs.createNamespace], [true, 900, false], r.name);
            }
        });

        it("Argo: SSO with the realm's argo client, S3 artifacts and DB by Secret reference", () => {
            const r = releaseNamed(run, "argo-workflows").inputs;
            assert.deepStrictEqual([r.chart, r.version, r.namespace], [releaseChart(CHARTS.argoWorkflows), "1.0.18", "argo"]);
            const v = r.values;
            assert.deepStrictEqual(v.server.authModes, ["sso"]);
            assert.strictEqual(v.server.sso.issuer, realmIssuer(stack));
            assert.deepStrictEqual(v.server.sso.clientId, { name: "argo-oidc", key: "client-id" });
            assert.ok(realmClientIds(run).includes("argo"), "the realm has this client");
            assert.deepStrictEqual(v.server.sso.clientSecret, { name: "argo-oidc", key: "client-secret" });
            assert.match(v.server.sso.redirectUrl, /^https:\/\/argo\..+\/oauth2\/callback$/);
            assert.deepStrictEqual(v.artifactRepository.s3.secretKeySecret, { name: "argo-s3", key: "AWS_SECRET_ACCESS_KEY" });
            assert.strictEqual(v.artifactRepository.s3.bucket, "argo-artifacts");
            assert.strictEqual(v.artifactRepository.s3.endpoint, "minio.minio.svc:9000");
            assert.deepStrictEqual(v.controller.persistence.postgresql.passwordSecret, { name: "argo-db", key: "password" });
        });

        it("Argo: controller and server on system, workflows in the processing namespace on processing nodes", () => {
            const v = releaseNamed(run, "argo-workflows").inputs.values;
            assert.deepStrictEqual(v.controller.nodeSelector, system);
            assert.deepStrictEqual(v.server.nodeSelector, system);
            assert.ok(v.controller.workflowNamespaces.includes("processing"));
            assert.deepStrictEqual(v.controller.workflowDefaults.spec.nodeSelector, { [NODE_GROUP_LABEL]: "processing" });
            assert.deepStrictEqual(v.controller.workflowDefaults.spec.tolerations, [processingToleration]);
        });
    });
}

describe("apps: toggles", () => {
    const releasesOf = (run: AppsRun) =>
        run.resources
            .filter((r) => r.type === RELEASE)
            .map((r) => r.inputs.name)
            .sort();
    const appComponents = (run: AppsRun) => run.resources.filter((r) => r.type.startsWith("geoplatform:apps:")).map((r) => r.type);

    it("creates every app when none is switched off", async () => {
        const run = await runApps("dev");
        assert.deepStrictEqual(releasesOf(run), ["argo-workflows", "jupyterhub", "openeo", "spark-operator"]);
        assert.ok(appComponents(run).includes("geoplatform:apps:Geocube"));
    });

    it("creates nothing at all with every app switched off", async () => {
        const off = Object.fromEntries(APP_NAMES.map((a) => [a, { enabled: false }]));
        const run = await runApps("prod", { "geoplatform:apps": off });
        assert.deepStrictEqual(
            run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && r.type !== "pulumi:providers:kubernetes"),
            [],
        );
    });

    const cases: { off: string[]; gone: string[]; kept: string[] }[] = [
        { off: ["jupyterhub"], gone: ["jupyterhub"], kept: ["spark-operator", "argo-workflows"] },
        { off: ["openeo"], gone: ["openeo"], kept: ["spark-operator"] },
        { off: ["argo"], gone: ["argo-workflows"], kept: ["openeo"] },
        { off: ["openeo", "spark"], gone: ["openeo", "spark-operator"], kept: ["argo-workflows"] },
    ];
    for (const { off, gone, kept } of cases) {
        it(`switching off ${off.join(" and ")} removes only its objects`, async () => {
            const run = await runApps("dev", { "geoplatform:apps": Object.fromEntries(off.map((a) => [a, { enabled: false }])) });
            for (const g of gone) assert.ok(!releasesOf(run).includes(g), g);
            for (const k of kept) assert.ok(releasesOf(run).includes(k), k);
            if (off.includes("openeo")) assert.strictEqual(byKind(run, "StatefulSet").length, 0);
            if (off.includes("spark")) assert.strictEqual(byKind(run, "SparkApplication").length, 0);
        });
    }

    it("without spark and argo there is no processing namespace; without geocube no Geocube objects", async () => {
        const run = await runApps("dev", {
            "geoplatform:apps": { spark: { enabled: false }, openeo: { enabled: false }, argo: { enabled: false }, geocube: { enabled: false } },
        });
        assert.ok(!run.all.some((r) => r.type === "kubernetes:core/v1:Namespace" && r.inputs.metadata.name === "processing"));
        assert.ok(!run.resources.some((r) => r.inputs?.metadata?.name?.startsWith?.("geocube")));
        assert.deepStrictEqual(releasesOf(run), ["jupyterhub"]);
    });
});
