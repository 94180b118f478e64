import * as k8s from "../platform/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { PROCESSING_GROUP } from "../config/types";
import { SPARK_PROMETHEUS_CONF } from "../platform/observability/monitors";
import { placement } from "./placement";
import { SPARK_SERVICE_ACCOUNT } from "./spark";
import { AppArgs, childOptions } from "./types";

export const SPARK_PI_TEMPLATE = "spark-pi";

/**
 * SparkApplication states the operator ends in (kubeflow/spark-operator v2.5.2 api/v1beta2 ApplicationStateType):
 * COMPLETED on success; FAILED, SUBMISSION_FAILED on failure.
 */
export const SPARK_SUCCESS = "status.applicationState.state == COMPLETED";
export const SPARK_FAILURE = "status.applicationState.state in (FAILED, SUBMISSION_FAILED)";

/** The SparkApplication the template creates: Spark's own Pi example, on processing, as the operator's job account. */
export function sparkPiManifest(args: AppArgs, namespace: string): Record<string, unknown> {
    const { nodeSelector, tolerations } = placement(args.config, PROCESSING_GROUP);
    const pod = { nodeSelector, tolerations, serviceAccount: SPARK_SERVICE_ACCOUNT, cores: 1, coreLimit: "1", memory: "1g" };
    return {
        apiVersion: "sparkoperator.k8s.io/v1beta2",
        kind: "SparkApplication",
        metadata: { generateName: `${SPARK_PI_TEMPLATE}-`, namespace },
        spec: {
            type: "Python",
            pythonVersion: "3",
            mode: "cluster",
            image: args.config.apps.spark.image,
            imagePullPolicy: "IfNotPresent",
            // Shipped in every apache/spark image (the distribution's examples/ folder).
            mainApplicationFile: "local:///opt/spark/examples/src/main/python/pi.py",
            // Argo substitutes the workflow's parameter before it creates the resource.
            arguments: ["{{inputs.parameters.partitions}}"],
            sparkVersion: "3.5.6",
            // The driver's metrics for the `spark` PodMonitor (processing namespace), as platformSparkApplication sets them.
            sparkConf: { ...SPARK_PROMETHEUS_CONF },
            restartPolicy: { type: "Never" },
            driver: pod,
            executor: { ...pod, instances: 1 },
        },
    };
}

/**
 * A WorkflowTemplate in the processing namespace whose one step runs a SparkApplication: a resource template
 * (argo-workflows v4.0.6 docs/resource-template.md, workflow/executor/resource.go) that creates it, owned by the
 * workflow (deleted with it), and waits until it reaches one of the operator's end states.
 */
export function sparkPiWorkflowTemplate(
    parent: pulumi.Resource,
    args: AppArgs,
    namespace: string,
    dependsOn: pulumi.Resource[],
): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(
        SPARK_PI_TEMPLATE,
        {
            apiVersion: "argoproj.io/v1alpha1",
            kind: "WorkflowTemplate",
            metadata: { name: SPARK_PI_TEMPLATE, namespace },
            spec: {
                entrypoint: "spark-pi",
                arguments: { parameters: [{ name: "partitions", value: "10" }] },
                templates: [
                    {
                        name: "spark-pi",
                        inputs: { parameters: [{ name: "partitions" }] },
                        resource: {
                            action: "create",
                            setOwnerReference: true,
                            successCondition: SPARK_SUCCESS,
                            failureCondition: SPARK_FAILURE,
                            manifest: yaml.dump(sparkPiManifest(args, namespace), { lineWidth: -1 }),
                        },
                    },
                ],
            },
        },
        childOptions(parent, args, dependsOn),
    );
}
