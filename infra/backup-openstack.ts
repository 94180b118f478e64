import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import { GeoplatformConfig, OpenStackConfig } from "../config/types";
import { BackupStore } from "./types";

/**
 * The stack's backup bucket on OpenStack (dev): an object-storage container, reached through the cloud's S3 API
 * (Swift s3api or Ceph RGW, `geoplatform:backup.s3Endpoint`) with EC2 credentials of the stack's user in its
 * project (openstack.identity.Ec2CredentialV3, Keystone `/v3/users/{id}/credentials/OS-EC2`). A cloud without
 * object storage names a bucket elsewhere instead (`geoplatform:backup.external`); then nothing is created.
 *
 * The container is `retainOnDelete`: `pulumi destroy` leaves it and its backups in the project (docs/restore.md).
 * The EC2 credential is deleted with the stack. EC2 credentials are scoped to a project, not to a container: any
 * container of the project is theirs, which is why the stack should have a project of its own.
 */
export class OpenStackBackupBucket extends pulumi.ComponentResource {
    readonly store: BackupStore;

    constructor(name: string, config: GeoplatformConfig, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:infra:OpenStackBackupBucket", name, {}, opts);
        const b = config.backup;
        if (b.external) {
            this.store = {
                endpoint: pulumi.output(b.external.endpoint),
                region: b.external.region,
                bucket: pulumi.output(b.external.bucket),
                accessKeyId: pulumi.secret(b.external.accessKeyId),
                secretAccessKey: pulumi.secret(b.external.secretAccessKey),
                pathStyle: true,
                ready: [],
            };
            this.registerOutputs({ bucket: b.external.bucket });
            return;
        }
        const os = config.openstack as OpenStackConfig;
        const provider = new openstack.Provider(`${name}-openstack`, { region: os.region }, { parent: this });
        const child = { parent: this, provider };
        // Auto-named (`<stack>-backup-<random>`): a new stack never collides with the container a destroyed one retained.
        const container = new openstack.objectstorage.Container(
            name,
            { forceDestroy: false, metadata: { "geoplatform-stack": pulumi.getStack(), "geoplatform-purpose": "backup" } },
            { ...child, retainOnDelete: true },
        );
        const credential = new openstack.identity.Ec2CredentialV3(`${name}-ec2`, {}, { ...child, additionalSecretOutputs: ["secret"] });
        this.store = {
            endpoint: pulumi.output(b.s3Endpoint as string),
            region: b.s3Region as string,
            bucket: container.name,
            accessKeyId: pulumi.secret(credential.access),
            secretAccessKey: pulumi.secret(credential.secret),
            pathStyle: true,
            ready: [container, credential],
        };
        this.registerOutputs({ bucket: container.name });
    }
}
