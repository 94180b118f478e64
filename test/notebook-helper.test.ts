import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { DRIVER_PORT } from "../apps/notebook-spark";
import { REPO_ROOT } from "./harness/stack-config";

// images/notebook/geoplatform_spark.py, run by python3 with stand-ins for pyspark's SparkSession builder and
// Sedona's SedonaContext that record what the helper configures.

const HARNESS = String.raw`
import json, os, sys, types

calls = []
class Builder:
    def appName(self, n): calls.append(["appName", n]); return self
    def master(self, m): calls.append(["master", m]); return self
    def config(self, k, v): calls.append(["config", k, v]); return self
    def getOrCreate(self): return "session"

pyspark = types.ModuleType("pyspark"); sql = types.ModuleType("pyspark.sql")
sql.SparkSession = types.SimpleNamespace(builder=Builder())
sedona = types.ModuleType("sedona"); spark = types.ModuleType("sedona.spark")
spark.SedonaContext = types.SimpleNamespace(create=lambda s: {"sedona": s})
sys.modules.update({"pyspark": pyspark, "pyspark.sql": sql, "sedona": sedona, "sedona.spark": spark})
sys.path.insert(0, sys.argv[1])
os.environ.update(json.loads(sys.argv[2]))
import geoplatform_spark
result = geoplatform_spark.session(sys.argv[3], executors=int(sys.argv[4]))
print(json.dumps({"calls": calls, "result": result}))
`;

function run(env: Record<string, string>, app: string, executors: number) {
    const out = execFileSync("python3", ["-c", HARNESS, path.join(REPO_ROOT, "images/notebook"), JSON.stringify(env), app, String(executors)], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "" },
    });
    const { calls, result } = JSON.parse(out) as { calls: string[][]; result: unknown };
    const conf = Object.fromEntries(calls.filter((c) => c[0] === "config").map((c) => [c[1], c[2]]));
    const master = calls.find((c) => c[0] === "master")?.[1];
    return { conf, master, result };
}

const USER = {
    JUPYTERHUB_USER: "Ada.Lovelace",
    AWS_ACCESS_KEY_ID: "AK",
    AWS_SECRET_ACCESS_KEY: "SK",
    AWS_SESSION_TOKEN: "ST",
    POD_IP: "10.42.3.7",
    NOTEBOOK_EXECUTOR_NAMESPACE: "nbx-ada-lovelace---a99708eb",
};

describe("images: notebook session helper (geoplatform_spark)", () => {
    it("starts a local Sedona session with the user's temporary credentials for S3A", () => {
        const r = run(USER, "nb", 0);
        assert.strictEqual(r.master, "local[*]");
        assert.deepStrictEqual(r.result, { sedona: "session" }, "wrapped by SedonaContext.create");
        assert.strictEqual(r.conf["spark.hadoop.fs.s3a.access.key"], "AK");
        assert.strictEqual(r.conf["spark.hadoop.fs.s3a.session.token"], "ST");
        assert.strictEqual(r.conf["spark.hadoop.fs.s3a.aws.credentials.provider"], "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider");
    });

    it("starts client mode on Kubernetes with the pod's IP as driver host, the user's executor namespace and a per-user executor name prefix", () => {
        const r = run(USER, "Sedona Cluster", 2);
        assert.strictEqual(r.conf["spark.kubernetes.namespace"], "nbx-ada-lovelace---a99708eb", "the namespace the hub made for this user");
        assert.strictEqual(r.master, "k8s://https://kubernetes.default.svc:443");
        assert.strictEqual(r.conf["spark.submit.deployMode"], "client");
        assert.strictEqual(r.conf["spark.driver.host"], "10.42.3.7");
        assert.strictEqual(r.conf["spark.executor.instances"], "2");
        assert.match(r.conf["spark.kubernetes.executor.podNamePrefix"], /^ada-lovelace-sedona-cluster-[0-9a-f]{4}$/);
        // Ports come from spark-defaults.conf (the NetworkPolicies name them), not from the helper.
        assert.strictEqual(r.conf["spark.driver.port"], undefined);
        assert.ok(DRIVER_PORT > 0);
    });

    // apache/spark resource-managers/kubernetes Config.scala isValidExecutorPodNamePrefix: a DNS-1123 label, and
    // "-exec-" plus Int.MaxValue's 10 digits must still fit in 63 characters.
    const validPrefix = (p: string) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p) && p.length + 16 <= 63;

    it("gives a valid executor name prefix when the 40th character is a separator, and never an empty base", () => {
        // "ada-" + 35 characters of app name puts "-" (from the space) at position 40.
        const app = "x".repeat(35) + " more";
        const prefix = run({ ...USER, JUPYTERHUB_USER: "ada" }, app, 2).conf["spark.kubernetes.executor.podNamePrefix"];
        assert.match(prefix, new RegExp(`^ada-${"x".repeat(35)}-[0-9a-f]{4}$`));
        assert.ok(validPrefix(prefix), prefix);
        const long = run({ ...USER, JUPYTERHUB_USER: "a".repeat(80) }, "nb", 2).conf["spark.kubernetes.executor.podNamePrefix"];
        assert.ok(validPrefix(long), long);
        const symbols = run({ ...USER, JUPYTERHUB_USER: "ü" }, "ß", 2).conf["spark.kubernetes.executor.podNamePrefix"];
        assert.match(symbols, /^notebook-[0-9a-f]{4}$/);
    });

    it("gives two kernels of one user with the same app name different executor name prefixes", () => {
        const prefixes = new Set([1, 2, 3].map(() => run(USER, "Sedona Cluster", 2).conf["spark.kubernetes.executor.podNamePrefix"]));
        assert.strictEqual(prefixes.size, 3);
    });

    it("sets no credentials when the hub gave none, so S3 access fails rather than using someone else's", () => {
        const r = run({ JUPYTERHUB_USER: "ada" }, "nb", 0);
        assert.ok(!Object.keys(r.conf).some((k) => k.startsWith("spark.hadoop.fs.s3a.")), JSON.stringify(r.conf));
    });
});
