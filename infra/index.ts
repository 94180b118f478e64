import * as pulumi from "@pulumi/pulumi";
import { GeoplatformConfig } from "../config/types";
import { SshHostKeys } from "./host-keys";
import { ClusterNodes, CloudNodes } from "./types";

export { ClusterNode, ClusterNodes, SshEndpoint } from "./types";

/**
 * Creates the VMs on the stack's cloud, then learns their SSH host keys. Only
 * that cloud's module (and SDK) is loaded, which keeps the other provider out
 * of the program's start-up.
 */
export async function createInfra(config: GeoplatformConfig, opts?: pulumi.ComponentResourceOptions): Promise<ClusterNodes> {
    const name = pulumi.getStack();
    return new SshHostKeys(name, await createVms(name, config, opts), opts).clusterNodes;
}

async function createVms(name: string, config: GeoplatformConfig, opts?: pulumi.ComponentResourceOptions): Promise<CloudNodes> {
    if (config.cloud === "aws") {
        const { AwsCluster } = await import("./aws");
        return new AwsCluster(name, config, opts).clusterNodes;
    }
    const { OpenStackCluster } = await import("./openstack");
    return new OpenStackCluster(name, config, opts).clusterNodes;
}
