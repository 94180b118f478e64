import * as pulumi from "@pulumi/pulumi";
import { CHARTS, PLATFORM_IMAGES } from "../config/catalog";
import { catalogRelease, tlsAnnotations } from "./release";
import { k8sSecret, randomSecret } from "./secrets";
import { SYSTEM } from "./placement";
import { GROUPS_CLAIM, REALM_GROUPS } from "./keycloak";
import { LOKI_S3_USER } from "./observability/logs";

// MinIO's upstream chart and images are no longer maintained: everything
// MinIO-specific stays in this file. To swap in SeaweedFS, Garage or Ceph
// RGW, reimplement ObjectStorage (same constructor, same `endpoint`,
// `region` and `credentials()`); consumers only see S3 endpoints and Secrets.

/** Requests and limits of each container of MinIO's post-install Job. */
const JOB_RESOURCES = { requests: { cpu: "10m", memory: "128Mi" }, limits: { memory: "256Mi" } };

/** An S3 user of one consumer, limited to its own buckets. */

export interface S3User {
    name: string;
    buckets: string[];
    /** May list the names of all buckets (s3:ListAllMyBuckets), for clients that check their bucket that way. */
    listAllBuckets?: boolean;
    /** Reads objects only (the backup mirror). */
    readOnly?: boolean;
}

export interface ObjectStorageArgs {
    namespace: pulumi.Input<string>;
    users: S3User[];
    storageGb: number;
    storageClass: string;
    /** The release that creates the StorageClass of MinIO's volume. */
    storageReady: pulumi.Input<pulumi.Resource>;
    consoleHost: string;
    clusterIssuer: string;
    ingressClass: string;
    /** OIDC for the console: issuer URL and the Secret (in this namespace) with client-id/client-secret. */
    oidc: { issuerUrl: string; secretName: string };
    /** Buckets where each data scientist may write, under a prefix of their own user name (the notebooks bucket). */
    userPrefixBuckets: string[];
}

/**
 * MinIO's OpenID client id: the console logs in with it, and it is the one claim-based provider (no role_policy), so
 * STS AssumeRoleWithWebIdentity without a RoleArn validates against it. MinIO accepts a token whose `aud` (or, when
 * `aud` names others, `azp`) holds this id (minio/minio internal/config/identity/openid/jwt.go Validate, at the pinned
 * release); signature and expiry are checked against the issuer's JWKS, the issuer itself is not compared. A client
 * whose users get MinIO credentials asks Keycloak for this audience (OidcClientSpec.audiences).
 */
export const MINIO_OIDC_CLIENT = "minio-console";

/** Consumers whose buckets hold platform state (every pod's logs), not users' data: data scientists get no access. */
const PLATFORM_USERS = [LOKI_S3_USER];

/** One statement of a MinIO (IAM) policy; `condition` in IAM's form, e.g. `{ StringLike: { "s3:prefix": ["a/*"] } }`. */
export interface PolicyStatement {
    effect?: "Allow" | "Deny";
    actions: string[];
    resources?: string[];
    condition?: Record<string, Record<string, string[]>>;
}

/** The user's own name in a policy: MinIO fills it from the token's claims, in resources and in condition values alike. */
const OWN_NAME = "${jwt:preferred_username}";
const SERVICE_ACCOUNT_ACTIONS = ["admin:CreateServiceAccount", "admin:UpdateServiceAccount"];

/**
 * MinIO policies named after the realm groups, which the console's OIDC login and the notebooks' STS credentials map
 * from the groups claim: platform-admins administer MinIO (admin:* and every bucket); data-scientists read the apps'
 * buckets and, in `userPrefixBuckets`, only their own `<user name>/` prefix, which they may also write. `OWN_NAME` is a
 * policy variable (minio/pkg v3.0.23 policy/condition/keyname.go jwt:preferred_username, one of CommonKeys): MinIO
 * replaces it in resources (policy/resource.go Match) and in condition values (policy/condition/stringfunc.go
 * `substitute`). Keycloak's `profile` scope puts the claim in the access token.
 */
export function groupPolicies(users: S3User[], userPrefixBuckets: string[] = []) {
    const appBuckets = [...new Set(users.filter((u) => !PLATFORM_USERS.includes(u.name)).flatMap((u) => u.buckets))];
    const sharedBuckets = appBuckets.filter((b) => !userPrefixBuckets.includes(b));
    const admins: PolicyStatement[] = [
        { resources: ["arn:aws:s3:::*"], actions: ["s3:*"] },
        // The chart's policy template renders actions and resources; admin actions take no resource.
        { actions: ["admin:*"] },
    ];
    const ownPrefix: PolicyStatement[] = [
        // Listing only under `<user>/`: ListObjects passes its `prefix` as the condition value (minio cmd/bucket-policy.go
        // getConditionValues), and StringLike with no value matches nothing (stringLikeFunc.eval), so the bucket's
        // root is refused. Not the bare `<user>`: a listing with prefix `ada` would show `adam/`'s keys; S3A always
        // lists `<dir>/`. Alone in its statement: MinIO accepts `s3:prefix` on s3:ListBucket(Versions) only and
        // refuses the whole policy otherwise (minio/pkg v3.0.23 policy/action.go actionConditionKeyMap, statement.go isValid).
        {
            resources: userPrefixBuckets.map((b) => `arn:aws:s3:::${b}`),
            actions: ["s3:ListBucket"],
            condition: { StringLike: { "s3:prefix": [`${OWN_NAME}/*`] } },
        },
        // A request that carries no prefix; it names the bucket's region, nothing of its contents.
        { resources: userPrefixBuckets.map((b) => `arn:aws:s3:::${b}`), actions: ["s3:GetBucketLocation"] },
        { resources: userPrefixBuckets.map((b) => `arn:aws:s3:::${b}/${OWN_NAME}/*`), actions: ["s3:*"] },
        // S3A's mkdirs HEADs the parent `<user>`; reading is enough (an object of that name would block the user's own
        // directory, so none may be written).
        { resources: userPrefixBuckets.map((b) => `arn:aws:s3:::${b}/${OWN_NAME}`), actions: ["s3:GetObject"] },
    ];
    const dataScientists: PolicyStatement[] = [
        { resources: sharedBuckets.map((b) => `arn:aws:s3:::${b}`), actions: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"] },
        // Read only: the sample data, event logs and the apps' results stay as the apps wrote them.
        { resources: sharedBuckets.map((b) => `arn:aws:s3:::${b}/*`), actions: ["s3:GetObject"] },
        ...(userPrefixBuckets.length > 0 ? ownPrefix : []),
        // MinIO lets a user create service accounts for themselves unless a policy denies it explicitly
        // (cmd/admin-handlers-users.go commonAddServiceAccount, DenyOnly); one would copy the session's claims
        // with no expiry and outlive the temporary credentials, the culler and a removal from the group.
        { effect: "Deny", actions: SERVICE_ACCOUNT_ACTIONS },
    ];
    return [
        { name: REALM_GROUPS.admins, statements: admins },
        { name: REALM_GROUPS.users, statements: dataScientists },
    ];
}

/** A policy's statements as the IAM document MinIO reads, rendered as the chart's templates/_helper_policy.tpl does. */
export function policyDocument(statements: PolicyStatement[]): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: statements.map((st) => ({
            Effect: st.effect ?? "Allow",
            Action: st.actions,
            ...(st.resources ? { Resource: st.resources } : {}),
            ...(st.condition ? { Condition: st.condition } : {}),
        })),
    });
}

/**
 * A statement as the chart's values take it: _helper_policy.tpl reads `conditions` as a list of `{ <operator>: <the
 * JSON members inside that operator's braces> }` and writes each fragment verbatim.
 */
export function chartStatement({ condition, ...statement }: PolicyStatement) {
    if (!condition) return statement;
    const members = (keys: Record<string, string[]>) =>
        Object.entries(keys)
            .map(([key, values]) => `${JSON.stringify(key)}: ${JSON.stringify(values)}`)
            .join(", ");
    return { ...statement, conditions: Object.entries(condition).map(([operator, keys]) => ({ [operator]: members(keys) })) };
}

/**
 * The session policy of every notebook's STS credentials: the data-scientists policy. MinIO intersects a session
 * policy with what the token's groups map to (cmd/sts-handlers.go AssumeRoleWithSSO, claims.populateSessionPolicy
 * from the `Policy` form field), so a platform admin's notebook, whose keys other notebook users can reach
 * (docs/security.md), holds no admin:* and no write outside the admin's own prefix; admins administer through the
 * console.
 */
export function notebookSessionPolicy(policies: ReturnType<typeof groupPolicies>): string {
    return policyDocument(policies.find((p) => p.name === REALM_GROUPS.users)!.statements);
}

export class ObjectStorage extends pulumi.ComponentResource {
    readonly endpoint = `http://minio.${CHARTS.minio.namespace}.svc:9000`;
    /** MinIO ignores the region, but S3 clients need one. */
    readonly region = "us-east-1";
    readonly release: pulumi.Resource;
    /** MinIO's root user (the chart's existingSecret rootUser key). */
    readonly rootUsername = "geoplatform-admin";
    readonly rootPassword: pulumi.Output<string>;
    private readonly secretKeys: Record<string, pulumi.Output<string>> = {};
    /** What a notebook's STS credentials may do at most (notebookSessionPolicy). */
    readonly notebookSessionPolicy: string;

    constructor(name: string, args: ObjectStorageArgs, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:ObjectStorage", name, {}, opts);
        const namespace = args.namespace;
        const policies = groupPolicies(args.users, args.userPrefixBuckets);
        this.notebookSessionPolicy = notebookSessionPolicy(policies);
        this.rootPassword = randomSecret("minio-root", this).value;
        const root = k8sSecret("minio-root", { namespace, data: { rootUser: this.rootUsername, rootPassword: this.rootPassword } }, { parent: this });
        const userSecrets = args.users.map((user) => {
            this.secretKeys[user.name] = randomSecret(`minio-user-${user.name}`, this, 40).value;
            return k8sSecret(`minio-user-${user.name}`, { namespace, data: { secretKey: this.secretKeys[user.name] } }, { parent: this });
        });

        this.release = catalogRelease(
            "minio",
            CHARTS.minio,
            namespace,
            {
                mode: "standalone",
                image: { repository: PLATFORM_IMAGES.minio.repository, tag: PLATFORM_IMAGES.minio.tag },
                mcImage: { repository: PLATFORM_IMAGES.minioClient.repository, tag: PLATFORM_IMAGES.minioClient.tag },
                existingSecret: "minio-root",
                persistence: { enabled: true, storageClass: args.storageClass, size: `${args.storageGb}Gi` },
                // One ReadWriteOnce volume: the chart's default surge (100%) starts the new pod while the old one still
                // holds it (Multi-Attach error); stop the old pod first.
                deploymentUpdate: { type: "Recreate" },
                // The chart asks for 16Gi of memory by default.
                resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { memory: "4Gi" } },
                nodeSelector: SYSTEM,
                // The post-install Job (buckets, users, policies) reads postJob.nodeSelector, only when the top-level nodeSelector is set too (templates/post-job.yaml).
                postJob: { nodeSelector: SYSTEM },
                // The post-job's containers (templates/post-job.yaml); the chart requests memory but sets no limit.
                makePolicyJob: { resources: JOB_RESOURCES },
                makeBucketJob: { resources: JOB_RESOURCES },
                makeUserJob: { resources: JOB_RESOURCES },
                buckets: [...new Set(args.users.flatMap((u) => u.buckets))].map((bucket) => ({ name: bucket, policy: "none", purge: false })),
                policies: [
                    ...policies.map((p) => ({ name: p.name, statements: p.statements.map(chartStatement) })),
                    ...args.users.map((user) => ({
                        name: `${user.name}-rw`,
                        statements: [
                            {
                                resources: user.buckets.map((b) => `arn:aws:s3:::${b}`),
                                actions: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                            },
                            { resources: user.buckets.map((b) => `arn:aws:s3:::${b}/*`), actions: user.readOnly ? ["s3:GetObject"] : ["s3:*"] },
                            ...(user.listAllBuckets ? [{ resources: ["arn:aws:s3:::*"], actions: ["s3:ListAllMyBuckets"] }] : []),
                        ],
                    })),
                ],
                // Replaces the chart's default `console` user and its well-known password.
                users: args.users.map((user) => ({
                    accessKey: user.name,
                    existingSecret: `minio-user-${user.name}`,
                    existingSecretKey: "secretKey",
                    policy: `${user.name}-rw`,
                })),
                consoleIngress: {
                    enabled: true,
                    ingressClassName: args.ingressClass,
                    annotations: tlsAnnotations(args.clusterIssuer),
                    hosts: [args.consoleHost],
                    tls: [{ secretName: "minio-console-tls", hosts: [args.consoleHost] }],
                },
                oidc: {
                    enabled: true,
                    configUrl: `${args.oidc.issuerUrl}/.well-known/openid-configuration`,
                    existingClientSecretName: args.oidc.secretName,
                    existingClientIdKey: "client-id",
                    existingClientSecretKey: "client-secret",
                    // The realm's groups claim (a JSON array): MinIO applies every policy named like one of the user's groups
                    // (minio/pkg v3.0.23 policy.GetValuesFromClaims takes an array or a comma-separated string; IAM drops
                    // names with no policy, and refuses a login left with none: cmd/sts-handlers.go).
                    // The same claim-based provider serves the notebooks' STS exchange (apps/jupyterhub-sts.ts): MinIO allows
                    // one provider without role_policy (openid.go LookupConfig, errSingleProvider), and with no RoleArn in the
                    // request STS uses it (sts-handlers.go AssumeRoleWithSSO, DummyRoleARN). No rolePolicy here: with one,
                    // claimName is refused.
                    claimName: GROUPS_CLAIM,
                    scopes: "openid,profile,email",
                    redirectUri: `https://${args.consoleHost}/oauth_callback`,
                    displayName: "geoplatform SSO",
                },
            },
            { parent: this, dependsOn: [root, args.storageReady, ...userSecrets] },
        );
        this.registerOutputs({ endpoint: this.endpoint });
    }

    /** The secret key of `user` (a Pulumi secret), for a consumer that builds its own Secret from it (the backup mirror's mc alias). */
    secretKey(user: string): pulumi.Output<string> {
        const key = this.secretKeys[user];
        if (!key) throw new Error(`object storage has no user ${user}`);
        return key;
    }

    /**
     * A Secret in `namespace` with the S3 keys of `user` (AWS_ACCESS_KEY_ID,
     * AWS_SECRET_ACCESS_KEY, plus `extra`), named `kubernetesName` in the
     * cluster when the resource name must differ (the same Secret in two namespaces).
     */
    credentials(
        secretName: string,
        namespace: pulumi.Input<string>,
        user: string,
        parent: pulumi.Resource,
        extra: Record<string, string> = {},
        kubernetesName = secretName,
    ) {
        const secretKey = this.secretKeys[user];
        if (!secretKey) throw new Error(`object storage has no user ${user}`);
        return k8sSecret(
            secretName,
            { name: kubernetesName, namespace, data: { AWS_ACCESS_KEY_ID: user, AWS_SECRET_ACCESS_KEY: secretKey, ...extra } },
            { parent },
        );
    }
}
