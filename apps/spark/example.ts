import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PROCESSING_GROUP } from "../../config/types";
import { placement } from "../placement";
import { AppArgs, bucketFor, childOptions, needObjectStorage, s3CredentialEnv } from "../types";
import { SPARK_DEFAULTS_CONFIGMAP } from "./defaults";
import { SPATIAL_JOIN_PY } from "./example-script";

export const EXAMPLE_NAME = "sedona-spatial-join";
const SCRIPT_DIR = "/opt/geoplatform";

/**
 * An example SparkApplication running a Sedona spatial join. It runs in the
 * spark app's namespace because the object-storage Secret lives there; its
 * pods still go to the processing nodes.
 */
export function sparkExample(parent: pulumi.Resource, args: AppArgs, serviceAccount: string, dependsOn: pulumi.Resource[]): void {
    const { config, binding } = args;
    const storage = needObjectStorage("spark", binding);
    const bucket = bucketFor("spark", storage, "eventLogs");
    const opts = childOptions(parent, args, dependsOn);
    const namespace = binding.namespace;
    const script = new k8s.core.v1.ConfigMap(EXAMPLE_NAME, { metadata: { name: EXAMPLE_NAME, namespace }, data: { "spatial_join.py": SPATIAL_JOIN_PY } }, opts);
    const { nodeSelector, tolerations } = placement(config, PROCESSING_GROUP);
    const pod = {
        nodeSelector,
        tolerations,
        env: s3CredentialEnv(storage),
        volumeMounts: [{ name: "script", mountPath: SCRIPT_DIR }],
    };
    new k8s.apiextensions.CustomResource(
        EXAMPLE_NAME,
        {
            apiVersion: "sparkoperator.k8s.io/v1beta2",
            kind: "SparkApplication",
            metadata: { name: EXAMPLE_NAME, namespace },
            spec: {
                type: "Python",
                pythonVersion: "3",
                mode: "cluster",
                image: config.apps.spark.image,
                imagePullPolicy: "IfNotPresent",
                mainApplicationFile: `local://${SCRIPT_DIR}/spatial_join.py`,
                arguments: [`s3a://${bucket}/examples/${EXAMPLE_NAME}/`],
                sparkVersion: "3.5.6",
                sparkConfigMap: SPARK_DEFAULTS_CONFIGMAP,
                restartPolicy: { type: "Never" },
                volumes: [{ name: "script", configMap: { name: script.metadata.name } }],
                driver: { ...pod, cores: 1, coreLimit: "1", memory: "2g", serviceAccount },
                executor: { ...pod, instances: 2, cores: 1, coreLimit: "1", memory: "2g", serviceAccount },
            },
        },
        { ...opts, dependsOn: [...(opts.dependsOn as pulumi.Resource[]), script] },
    );
}
