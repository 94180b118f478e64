import { SPARK_PACKAGES } from "../../config/catalog";
import { AppObjectStorage } from "../../platform/types";

/** The ConfigMap (key spark-defaults.conf) every Spark job of the platform starts from. */
export const SPARK_DEFAULTS_CONFIGMAP = "spark-defaults";

/**
 * Sedona-ready Spark defaults: Sedona's SQL functions, Kryo with Sedona's
 * registrator, S3A to the platform object store and event logs in the
 * eventLogs bucket. Credentials come from AWS_* env vars set from the
 * object-storage Secret; none is written here.
 */
export function sparkDefaults(storage: AppObjectStorage, eventLogBucket: string): Record<string, string> {
    return {
        "spark.jars.packages": SPARK_PACKAGES.join(","),
        // The image's user has no writable home: resolve packages under /tmp.
        "spark.jars.ivy": "/tmp/.ivy2",
        "spark.sql.extensions": "org.apache.sedona.sql.SedonaSqlExtensions",
        "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
        "spark.kryo.registrator": "org.apache.sedona.core.serde.SedonaKryoRegistrator",
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": storage.endpoint,
        "spark.hadoop.fs.s3a.endpoint.region": storage.region,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": String(storage.endpoint.startsWith("https://")),
        "spark.hadoop.fs.s3a.aws.credentials.provider": "com.amazonaws.auth.EnvironmentVariableCredentialsProvider",
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": `s3a://${eventLogBucket}/`,
        "spark.history.fs.logDirectory": `s3a://${eventLogBucket}/`,
    };
}

export function renderSparkDefaults(conf: Record<string, string>): string {
    return Object.entries(conf)
        .map(([k, v]) => `${k} ${v}`)
        .join("\n")
        .concat("\n");
}
