import * as k8s from "../kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** What the K3s layer hands to the platform layer. */
export interface K3sCluster {
    /** Kubernetes provider for every later layer, built from the admin kubeconfig. */
    provider: k8s.Provider;
    /** Admin kubeconfig pointing at the public API endpoint (secret). */
    kubeconfig: pulumi.Output<string>;
    /** Resources that finish once every node is Ready with its labels and taints; later layers depend on them. */
    ready: pulumi.Resource[];
}
