import * as pulumi from "@pulumi/pulumi";
import { GeoplatformConfig } from "../config/types";
import { ClusterNodes } from "./types";

export { ClusterNode, ClusterNodes, SshEndpoint } from "./types";

/**
 * Creates the VMs on the stack's cloud. Only that cloud's module (and SDK) is
 * loaded, which keeps the other provider out of the program's start-up.
 */
export async function createInfra(config: GeoplatformConfig, opts?: pulumi.ComponentResourceOptions): Promise<ClusterNodes> {
    const name = pulumi.getStack();
    if (config.cloud === "aws") {
        const { AwsCluster } = await import("./aws");
        return new AwsCluster(name, config, opts).clusterNodes;
    }
    const { OpenStackCluster } = await import("./openstack");
    return new OpenStackCluster(name, config, opts).clusterNodes;
}
