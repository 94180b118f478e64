import * as assert from "assert";
import { PROCESSING_TOLERATION } from "../../platform/placement";
import { BATCH_TEMPLATE_PATH } from "../../apps/openeo/files";
import { MONITORS, SPARK_METRICS_LABEL, SPARK_PROMETHEUS_CONF } from "../../platform/observability/monitors";
import { sharedStackRun } from "../harness/run-stack";
import { STACKS } from "../harness/stack-config";
import { K8sObject, kubeVersion, releasesOf, render } from "./render";

// The openEO Release as the provider installs it (real chart, values of the mocked run, its post-renderer): what the
// driver finds in its pod, and where its pods go.

for (const stack of STACKS) {
    describe(`charts: openEO's sparkapplication release (${stack})`, () => {
        let objects: K8sObject[];
        before(async () => {
            const rel = releasesOf(await sharedStackRun(stack)).find((r) => r.entry.chart === "sparkapplication");
            assert.ok(rel?.postrender, "the release has its post-renderer");
            objects = await render(rel, rel.values, { kubeVersion: kubeVersion(stack), apiVersions: ["sparkoperator.k8s.io/v1beta2"] });
        });
        const app = () => objects.find((o) => o.kind === "SparkApplication") as K8sObject;

        it("renders the backend config and layer catalog ConfigMaps and mounts them where the driver reads them", () => {
            const maps = objects
                .filter((o) => o.kind === "ConfigMap")
                .map((o) => o.metadata.name)
                .sort();
            assert.deepStrictEqual(maps, ["openeo-backend-config", "openeo-layercatalog"]);
            const driver = app().spec.driver;
            const env = Object.fromEntries(driver.env.map((e: any) => [e.name, e.value]));
            assert.strictEqual(env.OPENEO_BACKEND_CONFIG, "/opt/backend_config/backendconfig.py");
            const mounts = Object.fromEntries(driver.volumeMounts.map((m: any) => [m.mountPath, m.name]));
            assert.deepStrictEqual(mounts, {
                [BATCH_TEMPLATE_PATH]: "batch-job-template",
                "/opt/backend_config/backendconfig.py": "openeo-backend-config",
                "/opt/layercatalog.json": "openeo-layercatalog",
            });
            assert.strictEqual(env.OPENEO_CATALOG_FILES, "/opt/layercatalog.json");
            const volumes = app()
                .spec.volumes.map((v: any) => v.configMap.name)
                .sort();
            assert.deepStrictEqual(volumes, ["openeo-backend-config", "openeo-batch-job-template", "openeo-layercatalog"]);
        });

        it("gives the rendered SparkApplication the PrometheusServlet conf the openeo monitor scrapes, with no JMX exporter", () => {
            const spec = app().spec;
            for (const [key, value] of Object.entries(SPARK_PROMETHEUS_CONF)) assert.strictEqual(spec.sparkConf?.[key], value, key);
            // The UI (and so the driver's spark-ui port, which the monitor selects) stays on, at its default port.
            assert.ok(!("spark.ui.enabled" in spec.sparkConf) && !("spark.ui.port" in spec.sparkConf));
            // spec.monitoring would add a javaagent whose jar the pinned image may lack.
            assert.strictEqual(spec.monitoring, undefined);
            const monitor = MONITORS.find((m) => m.component === "openeo");
            assert.deepStrictEqual(monitor?.selector, { matchLabels: { "spark-role": "driver", [SPARK_METRICS_LABEL]: "true" } });
            assert.ok(monitor?.endpoints.every((e) => e.port === "spark-ui"));
        });

        it("sends the driver and executors to processing: the values' affinity, the post-renderer's toleration", () => {
            for (const role of ["driver", "executor"]) {
                const spec = app().spec[role];
                assert.deepStrictEqual(spec.tolerations, [PROCESSING_TOLERATION], role);
                const expr = spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0];
                assert.deepStrictEqual(expr.values, ["processing"], role);
            }
            assert.ok(!JSON.stringify(objects).includes("hostPath"));
        });
    });
}
