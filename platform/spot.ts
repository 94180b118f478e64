import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../config/catalog";
import { GeoplatformConfig, NODE_GROUP_LABEL } from "../config/types";
import { catalogRelease } from "./release";

/** The node groups on spot capacity, in config order (AWS only; validation refuses `spot` elsewhere and on servers). */
export const spotGroups = (config: GeoplatformConfig): string[] =>
    config.cloud === "aws"
        ? Object.entries(config.nodeGroups)
              .filter(([, g]) => g.spot)
              .map(([name]) => name)
        : [];

/**
 * The AWS Node Termination Handler in IMDS mode: a DaemonSet on the spot nodes only, that polls the instance metadata
 * service for the spot interruption notice (two minutes' warning) and EC2 scheduled events, then cordons and drains the
 * node, so its pods move before the instance goes; the kubelet's graceful shutdown (platform/k3s) covers what is left.
 * IMDS mode runs on the host network (the chart's `useHostNetwork: true`), one hop from the metadata service, so the
 * instances' IMDSv2 PUT response hop limit of 1 suffices (aws-node-termination-handler 0.27.6 `values.yaml`,
 * `useHostNetwork`; templates/daemonset.linux.yaml `hostNetwork`). No SQS queue, no IAM permission: nothing but IMDS
 * and the Kubernetes API.
 */
export class SpotTermination extends pulumi.ComponentResource {
    constructor(name: string, args: { config: GeoplatformConfig; groups: string[]; after: pulumi.Resource[] }, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:SpotTermination", name, {}, opts);
        const groups = args.groups.map((g) => ({ name: g, spec: args.config.nodeGroups[g] }));
        catalogRelease(
            "aws-node-termination-handler",
            CHARTS.nodeTerminationHandler,
            CHARTS.nodeTerminationHandler.namespace,
            {
                // IMDS mode (the default without SQS): a DaemonSet, not the queue processor's Deployment.
                enableSqsTerminationDraining: false,
                useHostNetwork: true,
                enableSpotInterruptionDraining: true,
                enableScheduledEventDraining: true,
                // Rebalance recommendations come early and often: a cordon on each would idle capacity that is not going away.
                enableRebalanceMonitoring: false,
                emitKubernetesEvents: true,
                // Taints a node with a spot interruption notice (aws-node-termination-handler/spot-itn, v1.25.6 pkg/node/node.go
                // TaintSpotItn, off unless taintNode): kube-state-metrics exports it, the SpotInterruption alert reads it.
                taintNode: true,
                // Only the spot groups: their label, and their taints tolerated (the chart's default tolerates every taint).
                daemonsetAffinity: {
                    nodeAffinity: {
                        requiredDuringSchedulingIgnoredDuringExecution: {
                            nodeSelectorTerms: [{ matchExpressions: [{ key: NODE_GROUP_LABEL, operator: "In", values: groups.map((g) => g.name) }] }],
                        },
                    },
                },
                daemonsetTolerations: groups.flatMap((g) => g.spec.taints.map((t) => ({ key: t.key, operator: "Equal", value: t.value, effect: t.effect }))),
                resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
            },
            // kube-system exists from the start; the cluster's readiness is what it waits for.
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({});
    }
}
