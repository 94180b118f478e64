import * as pulumi from "@pulumi/pulumi";
import { GeoplatformConfig } from "../config/types";
import { SshHostKeys } from "./host-keys";
import { BackupStore, CloudNodes, Infra } from "./types";

export { BackupStore, ClusterNode, ClusterNodes, Infra, SshEndpoint } from "./types";

/**
 * Creates the VMs on the stack's cloud, then learns their SSH host keys, and the stack's backup bucket there. Only
 * that cloud's modules (and SDK) are loaded, which keeps the other provider out of the program's start-up.
 */
export async function createInfra(config: GeoplatformConfig, opts?: pulumi.ComponentResourceOptions): Promise<Infra> {
    const name = pulumi.getStack();
    const nodes = new SshHostKeys(name, await createVms(name, config, opts), opts).clusterNodes;
    return { ...nodes, backup: await createBackupBucket(name, config, opts) };
}

async function createVms(name: string, config: GeoplatformConfig, opts?: pulumi.ComponentResourceOptions): Promise<CloudNodes> {
    if (config.cloud === "aws") {
        const { AwsCluster } = await import("./aws");
        return new AwsCluster(name, config, opts).clusterNodes;
    }
    const { OpenStackCluster } = await import("./openstack");
    return new OpenStackCluster(name, config, opts).clusterNodes;
}

async function createBackupBucket(name: string, config: GeoplatformConfig, opts?: pulumi.ComponentResourceOptions): Promise<BackupStore> {
    if (config.cloud === "aws") {
        const { AwsBackupBucket } = await import("./backup-aws");
        return new AwsBackupBucket(`${name}-backup`, config, opts).store;
    }
    const { OpenStackBackupBucket } = await import("./backup-openstack");
    return new OpenStackBackupBucket(`${name}-backup`, config, opts).store;
}
