import * as k8s from "../../platform/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PLATFORM_IMAGES, SPARK_LINE } from "../../config/catalog";
import { PROCESSING_GROUP } from "../../config/types";
import { podPlacement } from "../placement";
import { AppArgs, bucketFor, childOptions, needObjectStorage, resources, RESTRICTED_CONTAINER, restrictedPod, s3CredentialEnv } from "../types";
import { platformSparkApplication } from "./defaults";
import { SPATIAL_JOIN_PY } from "./example-script";
import { cellsCsv, pointsCsv, SAMPLE_PREFIX } from "./sample-data";

export const EXAMPLE_NAME = "sedona-spatial-join";
export const SEED_JOB = "seed-sample-data";
const SCRIPT_DIR = "/opt/geoplatform";
const SAMPLE_DIR = "/sample";
/** The Spark image's user (apache/spark: uid 185). */
const SPARK_UID = 185;

/** Uploads the sample files with mc, credentials from the Secret's env (MC_HOST_<alias>: mc's alias-from-env form). */
export function seedScript(endpoint: string, bucket: string): string {
    const url = new URL(endpoint);
    return [
        "set -eu",
        `export MC_HOST_platform="${url.protocol}//\${AWS_ACCESS_KEY_ID}:\${AWS_SECRET_ACCESS_KEY}@${url.host}"`,
        `mc --config-dir /tmp/mc cp ${SAMPLE_DIR}/points.csv ${SAMPLE_DIR}/cells.csv platform/${bucket}/${SAMPLE_PREFIX}/`,
    ].join("\n");
}

/**
 * The example: a Job seeds the sample dataset into the samples bucket, then a SparkApplication runs a Sedona
 * spatial join on it and writes to the results bucket. Both run in the spark app's namespace, where the
 * object-storage Secret lives; their pods go to the processing nodes.
 */
export function sparkExample(parent: pulumi.Resource, args: AppArgs, serviceAccount: string, dependsOn: pulumi.Resource[]): void {
    const { config, binding } = args;
    const storage = needObjectStorage("spark", binding);
    const samples = bucketFor("spark", storage, "samples");
    const results = bucketFor("spark", storage, "results");
    const eventLogs = bucketFor("spark", storage, "eventLogs");
    const opts = childOptions(parent, args, dependsOn);
    const namespace = binding.namespace;
    const placement = podPlacement(config, PROCESSING_GROUP);

    const data = new k8s.core.v1.ConfigMap(
        SAMPLE_PREFIX,
        { metadata: { name: SAMPLE_PREFIX, namespace }, data: { "points.csv": pointsCsv(), "cells.csv": cellsCsv() } },
        opts,
    );
    // The provider waits for a Job to complete: the SparkApplication below is created once the data is there.
    const seed = new k8s.batch.v1.Job(
        SEED_JOB,
        {
            metadata: { name: SEED_JOB, namespace },
            spec: {
                backoffLimit: 3,
                activeDeadlineSeconds: 300,
                template: {
                    spec: {
                        ...placement,
                        restartPolicy: "OnFailure",
                        securityContext: restrictedPod(1000, 1000),
                        containers: [
                            {
                                name: "mc",
                                image: `${PLATFORM_IMAGES.minioClient.repository}:${PLATFORM_IMAGES.minioClient.tag}`,
                                command: ["/bin/sh", "-c", seedScript(storage.endpoint, samples)],
                                env: s3CredentialEnv(storage),
                                resources: resources("50m", "64Mi", "500m", "128Mi"),
                                securityContext: { ...RESTRICTED_CONTAINER, readOnlyRootFilesystem: true },
                                volumeMounts: [
                                    { name: "sample", mountPath: SAMPLE_DIR, readOnly: true },
                                    { name: "tmp", mountPath: "/tmp" },
                                ],
                            },
                        ],
                        volumes: [
                            { name: "sample", configMap: { name: data.metadata.name } },
                            { name: "tmp", emptyDir: {} },
                        ],
                    },
                },
            },
        },
        { ...opts, dependsOn: [...(opts.dependsOn as pulumi.Resource[]), data] },
    );

    const script = new k8s.core.v1.ConfigMap(EXAMPLE_NAME, { metadata: { name: EXAMPLE_NAME, namespace }, data: { "spatial_join.py": SPATIAL_JOIN_PY } }, opts);
    const pod = {
        ...placement,
        volumeMounts: [{ name: "script", mountPath: SCRIPT_DIR }],
        podSecurityContext: restrictedPod(SPARK_UID, SPARK_UID),
        securityContext: RESTRICTED_CONTAINER,
        serviceAccount,
    };
    const spec = platformSparkApplication(
        EXAMPLE_NAME,
        {
            type: "Python",
            pythonVersion: "3",
            mode: "cluster",
            image: config.apps.spark.image,
            imagePullPolicy: "IfNotPresent",
            mainApplicationFile: `local://${SCRIPT_DIR}/spatial_join.py`,
            arguments: [`s3a://${samples}/${SAMPLE_PREFIX}`, `s3a://${results}/${EXAMPLE_NAME}/`],
            sparkVersion: SPARK_LINE.spark,
            restartPolicy: { type: "Never" },
            volumes: [{ name: "script", configMap: { name: EXAMPLE_NAME } }],
            driver: { ...pod, cores: 1, coreLimit: "1", memory: "2g" },
            executor: { ...pod, instances: 2, cores: 1, coreLimit: "1", memory: "2g" },
        },
        storage,
        eventLogs,
    );
    new k8s.apiextensions.CustomResource(
        EXAMPLE_NAME,
        { apiVersion: "sparkoperator.k8s.io/v1beta2", kind: "SparkApplication", metadata: { name: EXAMPLE_NAME, namespace }, spec },
        { ...opts, dependsOn: [...(opts.dependsOn as pulumi.Resource[]), script, seed] },
    );
}
