import * as k8s from "../../platform/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../../config/catalog";
import { placement } from "../placement";
import { AppArgs, childOptions } from "../types";
import { sparkExample } from "./example";
import { historyServer } from "./history-server";
import { catalogRelease, ReleaseValues } from "../../platform/release";

const CHART = CHARTS.sparkOperator;
/** Service account the operator's chart creates in every job namespace for drivers and executors. */
export const SPARK_SERVICE_ACCOUNT = "spark";

export interface SparkArgs extends AppArgs {
    /** Namespaces whose SparkApplications the operator runs (the platform creates them). */
    jobNamespaces: pulumi.Input<string>[];
}

/** kubeflow spark-operator values; exported for tests. */
export function sparkOperatorValues(args: SparkArgs): ReleaseValues<typeof CHART> {
    const { nodeSelector, tolerations } = placement(args.config, CHART.nodeGroup);
    const control = { nodeSelector, tolerations };
    return {
        hook: { upgradeCrd: true, ...control },
        controller: { ...control, resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } } },
        webhook: { enable: true, ...control, resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } } },
        spark: { jobNamespaces: args.jobNamespaces, serviceAccount: { create: true, name: SPARK_SERVICE_ACCOUNT } },
    };
}

/** Spark with Sedona: the operator, the History Server and an example job (settings: defaults.ts platformSparkApplication). */
export class Spark extends pulumi.ComponentResource {
    readonly operator: k8s.helm.v3.Release;

    constructor(name: string, args: SparkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:apps:Spark", name, {}, opts);
        const { binding } = args;
        this.operator = catalogRelease(`${name}-operator`, CHART, binding.namespace, sparkOperatorValues(args), childOptions(this, args), "spark-operator");
        historyServer(this, args);
        sparkExample(this, args, SPARK_SERVICE_ACCOUNT, [this.operator]);
        this.registerOutputs({});
    }
}
