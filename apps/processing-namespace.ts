import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PROCESSING_GROUP } from "../config/types";
import { Platform } from "../platform/types";

/** The shared job namespace: Spark applications and Argo workflows submitted by users run here. */
export const PROCESSING_NAMESPACE = PROCESSING_GROUP;

/** The `processing` namespace with Pod Security labels; Spark driver images need baseline, restricted is warned about. */
export class ProcessingNamespace extends pulumi.ComponentResource {
    readonly name: pulumi.Output<string>;

    constructor(name: string, args: { platform: Platform }, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:apps:ProcessingNamespace", name, {}, opts);
        const ns = new k8s.core.v1.Namespace(
            name,
            {
                metadata: {
                    name: PROCESSING_NAMESPACE,
                    labels: {
                        "pod-security.kubernetes.io/enforce": "baseline",
                        "pod-security.kubernetes.io/warn": "restricted",
                        "pod-security.kubernetes.io/audit": "restricted",
                    },
                },
            },
            { parent: this, provider: args.platform.provider },
        );
        this.name = ns.metadata.name;
        this.registerOutputs({ name: this.name });
    }
}
