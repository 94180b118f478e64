import * as pulumi from "@pulumi/pulumi";
import { GeoplatformConfig } from "../config/types";
import { Infra } from "./types";

export { BackupStore, ClusterNode, ClusterNodes, Infra, SshEndpoint } from "./types";

/**
 * Creates the VMs and the backup bucket on the stack's cloud. Only that cloud's modules (and SDK) are
 * loaded, which keeps the other provider out of the program's start-up.
 */
export async function createInfra(config: GeoplatformConfig, opts?: pulumi.ComponentResourceOptions): Promise<Infra> {
    const name = pulumi.getStack();
    if (config.cloud === "aws") {
        const { AwsCluster } = await import("./aws");
        const { AwsBackupBucket } = await import("./backup-aws");
        return { ...new AwsCluster(name, config, opts).clusterNodes, backup: new AwsBackupBucket(`${name}-backup`, config, opts).store };
    }
    const { OpenStackCluster } = await import("./openstack");
    const { OpenStackBackupBucket } = await import("./backup-openstack");
    return { ...new OpenStackCluster(name, config, opts).clusterNodes, backup: new OpenStackBackupBucket(`${name}-backup`, config, opts).store };
}
