import * as assert from "assert";
import { spawnSync } from "child_process";
import { CHARTS, IMAGES, PLATFORM_IMAGES, SPARK_LINE } from "../../config/catalog";
import { platformSparkApplication } from "../../apps/spark/defaults";
import { NODE_GROUP_LABEL } from "../../config/types";
import { validateConfig } from "../../config/validate";
import { dependsTransitively } from "../harness/dependencies";
import { RecordedResource } from "../harness/run-stack";
import { rawGeoplatformConfig, STACKS } from "../harness/stack-config";
import { AppsRun, confOf, one, releaseNamed, runApps } from "./harness";
import { releaseChart } from "../../platform/release";

const system = { [NODE_GROUP_LABEL]: "system" };

for (const stack of STACKS) {
    describe(`apps: Spark (${stack})`, () => {
        let run: AppsRun;
        before(async () => {
            run = await runApps(stack);
        });
        const values = () => releaseNamed(run, "spark-operator").inputs.values;

        it("installs the pinned spark-operator with its control pods on system", () => {
            const r = releaseNamed(run, "spark-operator").inputs;
            assert.deepStrictEqual(
                [r.chart, r.version, r.repositoryOpts, r.namespace],
                [releaseChart(CHARTS.sparkOperator), "2.5.2", undefined, CHARTS.sparkOperator.namespace],
            );
            for (const part of ["controller", "webhook", "hook"]) assert.deepStrictEqual(values()[part].nodeSelector, system, part);
            assert.strictEqual(values().webhook.enable, true);
            assert.strictEqual(values().hook.upgradeCrd, true);
        });

        it("watches its own, the processing and openEO's namespaces, and creates the spark service account there", () => {
            assert.deepStrictEqual(values().spark.jobNamespaces, [CHARTS.sparkOperator.namespace, "processing", "openeo"]);
            assert.deepStrictEqual(values().spark.serviceAccount, { create: true, name: "spark" });
        });

        it("waits for the platform's processing namespace before installing the operator", () => {
            const ns = run.all.find((r) => r.type === "kubernetes:core/v1:Namespace" && r.inputs.metadata.name === "processing") as RecordedResource;
            assert.ok(ns, "the platform creates the processing namespace");
            assert.ok(dependsTransitively({ ...run, resources: run.all }, releaseNamed(run, "spark-operator"), ns));
        });

        it("puts Sedona, Kryo, event logs and S3A into the example SparkApplication's sparkConf/hadoopConf, credentials from its Secret", () => {
            const spec = one(run, "SparkApplication", "sedona-spatial-join").inputs.spec;
            // The operator passes these as --conf (spark.hadoop.<key> for hadoopConf); a sparkConfigMap would be ignored.
            assert.strictEqual(spec.sparkConfigMap, undefined);
            assert.strictEqual(spec.sparkConf["spark.sql.extensions"], "org.apache.sedona.sql.SedonaSqlExtensions");
            assert.strictEqual(spec.sparkConf["spark.serializer"], "org.apache.spark.serializer.KryoSerializer");
            assert.strictEqual(spec.sparkConf["spark.kryo.registrator"], "org.apache.sedona.core.serde.SedonaKryoRegistrator");
            assert.strictEqual(spec.sparkConf["spark.eventLog.enabled"], "true");
            assert.strictEqual(spec.sparkConf["spark.eventLog.dir"], "s3a://spark-event-logs/");
            assert.strictEqual(spec.hadoopConf["fs.s3a.endpoint"], "http://minio.minio.svc:9000");
            assert.strictEqual(spec.hadoopConf["fs.s3a.path.style.access"], "true");
            assert.strictEqual(spec.hadoopConf["fs.s3a.connection.ssl.enabled"], "false");
            // Hadoop 3.4's S3A is on AWS SDK v2: the v2 environment provider reads AWS_ACCESS_KEY_ID etc.
            assert.strictEqual(
                spec.hadoopConf["fs.s3a.aws.credentials.provider"],
                "software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider",
            );
            for (const role of ["driver", "executor"]) {
                assert.deepStrictEqual(
                    spec[role].env.map((e: any) => [e.name, e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key]),
                    [
                        ["AWS_ACCESS_KEY_ID", "spark-s3", "AWS_ACCESS_KEY_ID"],
                        ["AWS_SECRET_ACCESS_KEY", "spark-s3", "AWS_SECRET_ACCESS_KEY"],
                    ],
                    role,
                );
            }
            const text = JSON.stringify(spec);
            assert.ok(!/access\.key|secret\.key|MOCKSECRET/.test(text));
            // No package resolution at submit time: the jars are in the image.
            assert.strictEqual(spec.sparkConf["spark.jars.packages"], undefined);
            // Every SparkApplication the program creates carries the same platform settings.
            for (const app of run.resources.filter((r) => r.inputs.kind === "SparkApplication")) {
                for (const key of ["spark.sql.extensions", "spark.serializer", "spark.kryo.registrator", "spark.eventLog.dir"])
                    assert.strictEqual(app.inputs.spec.sparkConf[key], spec.sparkConf[key], `${app.inputs.metadata.name} ${key}`);
                assert.deepStrictEqual(app.inputs.spec.hadoopConf, spec.hadoopConf, app.inputs.metadata.name);
            }
        });

        it("reads the sample data from the samples bucket and writes to the results bucket, not the event-log bucket", () => {
            const spec = one(run, "SparkApplication", "sedona-spatial-join").inputs.spec;
            assert.deepStrictEqual(spec.arguments, ["s3a://spark-samples/sedona-sample", "s3a://spark-results/sedona-spatial-join/"]);
            assert.ok(!spec.arguments[1].includes("spark-event-logs"));
            assert.strictEqual(spec.sparkVersion, SPARK_LINE.spark);
            assert.strictEqual(spec.image, IMAGES.spark);
        });

        it("seeds the sample data with a pinned mc image under Pod Security restricted, before the job", () => {
            const job = one(run, "Job", "seed-sample-data");
            const pod = job.inputs.spec.template.spec;
            const c = pod.containers[0];
            assert.strictEqual(c.image, `${PLATFORM_IMAGES.minioClient.repository}:${PLATFORM_IMAGES.minioClient.tag}`);
            assert.deepStrictEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
            assert.deepStrictEqual(c.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true });
            const script = c.command[2];
            assert.match(script, /mc --config-dir \/tmp\/mc cp \/sample\/points\.csv \/sample\/cells\.csv platform\/spark-samples\/sedona-sample\//);
            assert.match(script, /MC_HOST_platform="http:\/\/\$\{AWS_ACCESS_KEY_ID\}:\$\{AWS_SECRET_ACCESS_KEY\}@minio\.minio\.svc:9000"/);
            assert.ok(c.env.every((e: any) => e.valueFrom.secretKeyRef.name === "spark-s3"));
            assert.strictEqual(spawnSync("shellcheck", ["-s", "sh", "-"], { input: script, encoding: "utf8" }).status, 0, "seed script is shellcheck-clean");
            const data = one(run, "ConfigMap", "sedona-sample").inputs.data;
            assert.strictEqual(data["points.csv"].trim().split("\n").length, 5001);
            assert.strictEqual(data["cells.csv"].trim().split("\n").length, 101);
            assert.ok(Buffer.byteLength(data["points.csv"]) + Buffer.byteLength(data["cells.csv"]) < 1024 * 1024, "fits a ConfigMap");
            const app = run.resources.find((r) => r.inputs.kind === "SparkApplication") as RecordedResource;
            assert.ok(dependsTransitively({ ...run, resources: run.all }, app, job), "the job waits for the seed");
        });

        it("refuses a job that overrides a platform setting, naming the key", () => {
            const storage = { endpoint: "http://minio.minio.svc:9000", region: "us-east-1", buckets: {}, secretName: "s", userSessionPolicy: "{}" };
            assert.throws(
                () => platformSparkApplication("j", { sparkConf: { "spark.eventLog.dir": "s3a://elsewhere/" }, driver: {}, executor: {} }, storage, "logs"),
                /SparkApplication j: sparkConf\.spark\.eventLog\.dir is set by the platform \(s3a:\/\/logs\/\)/,
            );
            const ok = platformSparkApplication("j", { sparkConf: { "spark.executor.instances": "4" }, driver: {}, executor: {} }, storage, "logs");
            assert.strictEqual(ok.sparkConf?.["spark.executor.instances"], "4");
            assert.strictEqual(ok.sparkConf?.["spark.sql.extensions"], "org.apache.sedona.sql.SedonaSqlExtensions");
        });

        it("runs the History Server on system with object-store credentials from the Secret, behind TLS ingress", () => {
            const spec = one(run, "Deployment", "spark-history").inputs.spec.template.spec;
            assert.deepStrictEqual(spec.nodeSelector, system);
            const env = spec.containers[0].env;
            assert.deepStrictEqual(
                env.find((e: any) => e.name === "AWS_SECRET_ACCESS_KEY"),
                { name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "spark-s3", key: "AWS_SECRET_ACCESS_KEY" } } },
            );
            assert.strictEqual(spec.containers[0].image, IMAGES.spark, "the Spark image with hadoop-aws baked in");
            assert.strictEqual(spec.initContainers, undefined, "no jar download at start");
            const conf = confOf(one(run, "ConfigMap", "spark-history").inputs.data["spark-defaults.conf"]);
            assert.strictEqual(conf["spark.history.fs.logDirectory"], "s3a://spark-event-logs/", "the bucket the jobs write their event logs to");
            assert.strictEqual(conf["spark.hadoop.fs.s3a.endpoint"], "http://minio.minio.svc:9000");
            assert.strictEqual(conf["spark.hadoop.fs.s3a.path.style.access"], "true");
            assert.deepStrictEqual(spec.volumes[0].configMap, { name: "spark-history" });
            const ing = one(run, "Ingress", "spark-history").inputs;
            assert.match(ing.spec.tls[0].hosts[0], /^spark-history\./);
            assert.strictEqual(
                ing.metadata.annotations["cert-manager.io/cluster-issuer"],
                `letsencrypt-${validateConfig(rawGeoplatformConfig(stack), stack).platform.letsEncrypt}`,
            );
        });

        it("submits the example Sedona spatial join as a v1beta2 SparkApplication on processing", () => {
            const app = one(run, "SparkApplication", "sedona-spatial-join").inputs;
            assert.strictEqual(app.apiVersion, "sparkoperator.k8s.io/v1beta2");
            for (const role of ["driver", "executor"]) {
                assert.strictEqual(app.spec[role].nodeSelector[NODE_GROUP_LABEL], "processing");
                assert.strictEqual(app.spec[role].serviceAccount, "spark");
                assert.ok(app.spec[role].env.every((e: any) => e.valueFrom?.secretKeyRef?.name === "spark-s3"));
            }
            const script = one(run, "ConfigMap", "sedona-spatial-join").inputs.data["spatial_join.py"];
            assert.match(script, /ST_Contains/);
            assert.strictEqual(app.spec.mainApplicationFile, "local:///opt/geoplatform/spatial_join.py");
        });
    });
}
