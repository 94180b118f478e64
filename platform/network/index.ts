import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NetworkModel } from "./model";

export { NetworkModel } from "./model";
export { platformFlows, platformModel } from "./flows";

/**
 * The model's NetworkPolicies: a default-deny in every namespace the platform
 * creates, and each allowed flow's egress and ingress policies. K3s enforces
 * them with its embedded kube-router controller (docs/security.md).
 */
export class NetworkPolicies extends pulumi.ComponentResource {
    constructor(name: string, args: { model: NetworkModel; ns: (namespace: string) => pulumi.Output<string> }, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:NetworkPolicies", name, {}, opts);
        const policies = args.model.policies();
        for (const policy of policies) {
            new k8s.networking.v1.NetworkPolicy(
                `netpol-${policy.namespace}-${policy.name}`,
                // The namespace as an Output: each policy waits for its namespace.
                { metadata: { name: policy.name, namespace: args.ns(policy.namespace) }, spec: policy.spec },
                { parent: this },
            );
        }
        this.registerOutputs({ policies: policies.length });
    }
}
