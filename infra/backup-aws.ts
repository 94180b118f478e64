import * as pulumi from "@pulumi/pulumi";
// Only the modules used (see infra/aws.ts).
import * as iam from "@pulumi/aws/iam";
import { Provider as AwsProvider } from "@pulumi/aws/provider";
import * as s3 from "@pulumi/aws/s3";
import { AwsConfig, GeoplatformConfig } from "../config/types";
import { BackupStore } from "./types";

/** What the backup writers do with objects: put, read, delete (retention), multipart uploads. */
const OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"];
const BUCKET_ACTIONS = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"];

/**
 * The stack's backup bucket in S3 (prod): versioned, encrypted, never public, TLS only, noncurrent versions expired,
 * and an IAM user whose one access key may use this bucket (and read the one a restore names) and nothing else.
 *
 * The bucket and its settings are `retainOnDelete`: `pulumi destroy` (or dropping them from the program) removes
 * them from the state only, and the bucket with every backup stays in AWS (docs/restore.md, "What survives").
 * The settings are retained too (a deleted public access block or versioning would leave the kept bucket open or
 * unversioned) and `deletedWith` the bucket: they need no delete of their own when it goes. The IAM user and key are
 * deleted: a restoring stack gets its own key.
 */
export class AwsBackupBucket extends pulumi.ComponentResource {
    readonly store: BackupStore;

    constructor(name: string, config: GeoplatformConfig, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:infra:AwsBackupBucket", name, {}, opts);
        const cfg = config.aws as AwsConfig;
        const stack = pulumi.getStack();
        // A provider of its own, same region and tags as the cluster's: the bucket outlives the cluster's resources.
        const provider = new AwsProvider(`${name}-aws`, { region: cfg.region, defaultTags: { tags: { "geoplatform:stack": stack } } }, { parent: this });
        const child = { parent: this, provider };

        // No current object expires by age: Longhorn's backups share blocks and Barman's base backups need their WAL, so
        // each tool deletes its own by its retention; only the versions those deletions leave behind expire here.
        const bucket = new s3.Bucket(
            `${name}`,
            { bucketPrefix: `geoplatform-${stack}-backup-`, forceDestroy: false, tags: { "geoplatform:purpose": "backup" } },
            { ...child, retainOnDelete: true },
        );
        const setting = { ...child, retainOnDelete: true, deletedWith: bucket };
        new s3.BucketPublicAccessBlock(
            `${name}-public-access`,
            { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            setting,
        );
        new s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, setting);
        const versioning = new s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, setting);
        new s3.BucketServerSideEncryptionConfiguration(
            `${name}-encryption`,
            { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
            setting,
        );
        new s3.BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        id: "expire-noncurrent-versions",
                        status: "Enabled",
                        filter: {},
                        noncurrentVersionExpiration: { noncurrentDays: config.backup.noncurrentVersionDays },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                    },
                    // A deleted object whose versions have all expired leaves a delete marker alone: remove it.
                    { id: "remove-expired-delete-markers", status: "Enabled", filter: {}, expiration: { expiredObjectDeleteMarker: true } },
                ],
            },
            { ...setting, dependsOn: [versioning] },
        );
        new s3.BucketPolicy(
            `${name}-tls-only`,
            {
                bucket: bucket.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Sid: "DenyInsecureTransport",
                            Effect: "Deny",
                            Principal: "*",
                            Action: "s3:*",
                            Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
                            Condition: { Bool: { "aws:SecureTransport": "false" } },
                        },
                    ],
                }),
            },
            setting,
        );

        const user = new iam.User(`${name}-writer`, { name: `geoplatform-${stack}-backup`, path: "/geoplatform/" }, child);
        const source = config.restore?.bucket;
        const policy = new iam.UserPolicy(
            `${name}-writer`,
            {
                user: user.name,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Action: BUCKET_ACTIONS, Resource: [bucket.arn] },
                        { Effect: "Allow", Action: OBJECT_ACTIONS, Resource: [pulumi.interpolate`${bucket.arn}/*`] },
                        // The bucket a restore reads from (a destroyed stack's retained bucket): read only.
                        ...(source
                            ? [
                                  { Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: [`arn:aws:s3:::${source}`] },
                                  { Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${source}/*`] },
                              ]
                            : []),
                    ],
                }),
            },
            child,
        );
        const key = new iam.AccessKey(`${name}-writer`, { user: user.name }, { ...child, additionalSecretOutputs: ["secret"] });

        this.store = {
            endpoint: pulumi.output(`https://s3.${cfg.region}.amazonaws.com`),
            region: cfg.region,
            bucket: bucket.bucket,
            accessKeyId: pulumi.secret(key.id),
            secretAccessKey: pulumi.secret(key.secret),
            pathStyle: false,
            ready: [bucket, policy, key],
        };
        this.registerOutputs({ bucket: bucket.bucket });
    }
}
