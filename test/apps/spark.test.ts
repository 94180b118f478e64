import * as assert from "assert";
import { CHARTS } from "../../config/catalog";
import { NODE_GROUP_LABEL } from "../../config/types";
import { validateConfig } from "../../config/validate";
import { dependsTransitively } from "../harness/dependencies";
import { RecordedResource } from "../harness/run-stack";
import { rawGeoplatformConfig, STACKS } from "../harness/stack-config";
import { AppsRun, one, releaseNamed, runApps } from "./harness";
import { releaseChart } from "../../platform/release";

const system = { [NODE_GROUP_LABEL]: "system" };

/** spark-defaults.conf parsed back into a map. */
function confOf(text: string): Record<string, string> {
    return Object.fromEntries(
        text
            .trim()
            .split("\n")
            .map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]),
    );
}

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

        it("configures Sedona, Kryo, S3A and event logs in spark-defaults, without credentials", () => {
            const text = one(run, "ConfigMap", "spark-defaults").inputs.data["spark-defaults.conf"];
            const conf = confOf(text);
            assert.strictEqual(conf["spark.sql.extensions"], "org.apache.sedona.sql.SedonaSqlExtensions");
            assert.strictEqual(conf["spark.serializer"], "org.apache.spark.serializer.KryoSerializer");
            assert.strictEqual(conf["spark.kryo.registrator"], "org.apache.sedona.core.serde.SedonaKryoRegistrator");
            assert.strictEqual(conf["spark.hadoop.fs.s3a.endpoint"], "http://minio.minio.svc:9000");
            assert.strictEqual(conf["spark.hadoop.fs.s3a.aws.credentials.provider"], "com.amazonaws.auth.EnvironmentVariableCredentialsProvider");
            assert.strictEqual(conf["spark.eventLog.dir"], "s3a://spark-event-logs/");
            assert.match(conf["spark.jars.packages"], /sedona-spark-shaded-3\.5_2\.12:\d/);
            assert.ok(!/access\.key|secret\.key/.test(text));
        });

        it("runs the History Server on system with object-store credentials from the Secret, behind TLS ingress", () => {
            const spec = one(run, "Deployment", "spark-history").inputs.spec.template.spec;
            assert.deepStrictEqual(spec.nodeSelector, system);
            const env = spec.containers[0].env;
            assert.deepStrictEqual(
                env.find((e: any) => e.name === "AWS_SECRET_ACCESS_KEY"),
                { name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "spark-s3", key: "AWS_SECRET_ACCESS_KEY" } } },
            );
            assert.deepStrictEqual(spec.volumes[0].configMap, { name: "spark-defaults" });
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
            assert.strictEqual(app.spec.sparkConfigMap, "spark-defaults");
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
