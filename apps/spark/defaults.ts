import { SPARK_PROMETHEUS_CONF } from "../../platform/observability/monitors";
import { AppObjectStorage } from "../../platform/types";
import { s3CredentialEnv } from "../types";

// The settings every Spark workload of the platform needs. SparkApplications get them in spec.sparkConf and
// spec.hadoopConf, which the operator turns into spark-submit --conf flags (kubeflow/spark-operator v2.5.2
// internal/controller/sparkapplication/submission.go sparkConfOption, hadoopConfOption: spark.hadoop.<key>):
// a sparkConfigMap is only mounted as SPARK_CONF_DIR, and spark-submit --properties-file skips its
// spark-defaults.conf (kubeflow/spark-operator #691, #1183, #2795). Sedona and S3A jars are in the image.

/** Sedona's SQL functions and Kryo with Sedona's registrator (Sedona docs, "Set up Sedona": SedonaContext config). */
export const SEDONA_CONF = {
    "spark.sql.extensions": "org.apache.sedona.sql.SedonaSqlExtensions",
    "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    "spark.kryo.registrator": "org.apache.sedona.core.serde.SedonaKryoRegistrator",
} as const;

/**
 * AWS SDK v2's environment provider (hadoop-aws 3.4.1 is built on SDK v2: apache/hadoop rel/release-3.4.1
 * hadoop-tools/hadoop-aws/src/site/markdown/tools/hadoop-aws/aws_sdk_upgrade.md): AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and, for temporary credentials, AWS_SESSION_TOKEN.
 */
export const S3A_ENV_CREDENTIALS = "software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider";

/** S3A to the platform's object store, as Hadoop keys (no spark.hadoop. prefix): MinIO wants path-style URLs. */
export function s3aHadoopConf(storage: Pick<AppObjectStorage, "endpoint" | "region">, credentialsProvider = S3A_ENV_CREDENTIALS): Record<string, string> {
    return {
        "fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "fs.s3a.endpoint": storage.endpoint,
        "fs.s3a.endpoint.region": storage.region,
        "fs.s3a.path.style.access": "true",
        "fs.s3a.connection.ssl.enabled": String(storage.endpoint.startsWith("https://")),
        "fs.s3a.aws.credentials.provider": credentialsProvider,
    };
}

/** Event logs into the bucket the History Server reads. */
export function eventLogConf(eventLogBucket: string): Record<string, string> {
    return { "spark.eventLog.enabled": "true", "spark.eventLog.dir": `s3a://${eventLogBucket}/` };
}

/** The fields of a SparkApplication spec (sparkoperator.k8s.io/v1beta2) this module reads or fills. */
export interface SparkApplicationSpec {
    sparkConf?: Record<string, string>;
    hadoopConf?: Record<string, string>;
    driver: { env?: unknown[] } & Record<string, unknown>;
    executor: { env?: unknown[] } & Record<string, unknown>;
    [field: string]: unknown;
}

/**
 * The one way the platform builds a SparkApplication spec: Sedona, event-log, metrics (the driver's
 * PrometheusServlet, which the `spark` PodMonitor scrapes) and S3A settings in sparkConf/hadoopConf, and the job's S3 credentials in driver and executor env, read from the job's Secret
 * (never written into the spec). A job that sets one of these keys itself is refused: the platform's value is
 * what the History Server, Prometheus and the object store rely on.
 */
export function platformSparkApplication(name: string, spec: SparkApplicationSpec, storage: AppObjectStorage, eventLogBucket: string): SparkApplicationSpec {
    const merge = (field: "sparkConf" | "hadoopConf", platform: Record<string, string>) => {
        const own = spec[field] ?? {};
        for (const key of Object.keys(own)) {
            if (key in platform)
                throw new Error(`SparkApplication ${name}: ${field}.${key} is set by the platform (${platform[key]}); remove it from the job's spec`);
        }
        return { ...platform, ...own };
    };
    const env = s3CredentialEnv(storage);
    return {
        ...spec,
        sparkConf: merge("sparkConf", { ...SEDONA_CONF, ...eventLogConf(eventLogBucket), ...SPARK_PROMETHEUS_CONF }),
        hadoopConf: merge("hadoopConf", s3aHadoopConf(storage)),
        driver: { ...spec.driver, env: [...env, ...(spec.driver.env ?? [])] },
        executor: { ...spec.executor, env: [...env, ...(spec.executor.env ?? [])] },
    };
}

/** spark-defaults.conf text (`key value` lines) for the Spark processes that read SPARK_CONF_DIR: the History Server, notebooks. */
export function renderSparkDefaults(conf: Record<string, string>): string {
    return Object.entries(conf)
        .map(([k, v]) => `${k} ${v}`)
        .join("\n")
        .concat("\n");
}

/** Hadoop keys as Spark properties (spark.hadoop.<key>), for a spark-defaults.conf. */
export function asSparkProperties(hadoopConf: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(hadoopConf).map(([k, v]) => [`spark.hadoop.${k}`, v]));
}
