import * as k8s from "../platform/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../config/catalog";
import { PROCESSING_GROUP } from "../config/types";
import { REALM_GROUPS } from "../platform/keycloak";
import { hostFor, ingressAnnotations, tlsSecretName } from "./ingress";
import { placement } from "./placement";
import { AppArgs, bucketFor, childOptions, needDatabase, needObjectStorage, needOidc, processingNamespaceOf } from "./types";
import { sparkPiWorkflowTemplate } from "./argo-spark";
import { catalogRelease, ReleaseValues } from "../platform/release";

const CHART = CHARTS.argoWorkflows;
/** Service account the chart creates in every workflow namespace; workflows run as it by default. */
export const WORKFLOW_SERVICE_ACCOUNT = "argo-workflow";

/**
 * SSO RBAC (argo-workflows v4.0.6 server/auth/gatekeeper.go rbacAuthorization): the server lists the ServiceAccounts
 * of its own namespace that carry `workflows.argoproj.io/rbac-rule`, highest `rbac-rule-precedence` first, evaluates
 * each rule (an expr expression) on the ID token's claims, and acts for the user with the first match's token, read
 * from the Secret `<sa>.service-account-token` (util/secrets/secret_name.go). No match: the request is refused.
 * `groups` is the realm's GROUPS_CLAIM, plain group names (platform/keycloak.ts).
 */
export const SSO_ACCOUNTS = [
    { name: "argo-admins", group: REALM_GROUPS.admins, precedence: 2, admin: true },
    { name: "argo-users", group: REALM_GROUPS.users, precedence: 1, admin: false },
] as const;
export const tokenSecretName = (serviceAccount: string) => `${serviceAccount}.service-account-token`;

/** What the realm's groups may do in the processing namespace, the only one where workflows run. */
export function ssoRoleRules(admin: boolean): k8s.types.input.rbac.v1.PolicyRule[] {
    const read = ["get", "list", "watch"];
    const write = ["create", "update", "patch", "delete"];
    return [
        { apiGroups: ["argoproj.io"], resources: ["workflows"], verbs: [...read, ...write] },
        { apiGroups: ["argoproj.io"], resources: ["workflowtemplates", "cronworkflows"], verbs: admin ? [...read, ...write] : read },
        { apiGroups: ["argoproj.io"], resources: ["workfloweventbindings", "workflowtaskresults"], verbs: read },
        { apiGroups: [""], resources: ["pods", "pods/log", "events"], verbs: read },
        { apiGroups: ["sparkoperator.k8s.io"], resources: ["sparkapplications"], verbs: admin ? [...read, "delete"] : read },
    ];
}

/** The workflow service account's own extra rules: a resource template creates a SparkApplication and polls it (workflow/executor/resource.go). */
export const WORKFLOW_SPARK_RULES = [{ apiGroups: ["sparkoperator.k8s.io"], resources: ["sparkapplications"], verbs: ["create", "get", "list", "watch"] }];

/** argo-workflows chart values; exported for tests. */
export function argoValues({ config, platform, binding }: AppArgs): ReleaseValues<typeof CHART> {
    const oidc = needOidc("argo", binding);
    const storage = needObjectStorage("argo", binding);
    const db = needDatabase("argo", binding);
    const host = hostFor(platform, "argo");
    const system = placement(config, CHART.nodeGroup);
    const processing = placement(config, PROCESSING_GROUP);
    const endpoint = new URL(storage.endpoint);
    return {
        // Full CRDs come from a pre-install hook Job (templates/crds-install-job.yaml); crds.keep is read only by the minimal CRDs (templates/crds.yaml), so it is not set.
        crds: {
            install: true,
            upgradeJob: {
                nodeSelector: system.nodeSelector,
                tolerations: system.tolerations,
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
            },
        },
        // The chart's Role for the workflow service account (templates/controller/workflow-role.yaml) plus workflow.rbac.rules.
        workflow: {
            serviceAccount: { create: true, name: WORKFLOW_SERVICE_ACCOUNT },
            rbac: { create: true, ...(config.enabledApps.includes("spark") ? { rules: WORKFLOW_SPARK_RULES } : {}) },
        },
        controller: {
            // Workflows run in the processing namespace only (the SSO accounts may act nowhere else); they find the artifact
            // Secret there, which the platform copies. The chart adds its own namespace to the service account's anyway.
            workflowNamespaces: [processingNamespaceOf(platform)],
            nodeSelector: system.nodeSelector,
            tolerations: system.tolerations,
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
            // Prometheus metrics on container port `metrics` (9090), scraped by platform/observability/monitors.ts.
            metricsConfig: { enabled: true },
            // Every workflow's pods go to the processing nodes unless the workflow says otherwise.
            workflowDefaults: {
                spec: { serviceAccountName: WORKFLOW_SERVICE_ACCOUNT, nodeSelector: processing.nodeSelector, tolerations: processing.tolerations },
            },
            // Finished workflows are archived in PostgreSQL rather than kept in etcd.
            persistence: {
                archive: true,
                postgresql: {
                    host: db.host,
                    port: db.port,
                    database: db.database,
                    tableName: "argo_workflows",
                    userNameSecret: { name: db.secretName, key: "username" },
                    passwordSecret: { name: db.secretName, key: "password" },
                    ssl: false,
                },
            },
        },
        server: {
            nodeSelector: system.nodeSelector,
            tolerations: system.tolerations,
            resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
            authModes: ["sso"],
            sso: {
                enabled: true,
                issuer: oidc.issuerUrl,
                clientId: { name: oidc.secretName, key: "client-id" },
                clientSecret: { name: oidc.secretName, key: "client-secret" },
                redirectUrl: `https://${host}/oauth2/callback`,
                scopes: ["openid", "profile", "email"],
                // Each user acts as the service account their realm groups select (SSO_ACCOUNTS); the server may read
                // only those accounts' token Secrets (templates/server/server-cluster-roles.yaml secretWhitelist).
                rbac: { enabled: true, secretWhitelist: SSO_ACCOUNTS.map((a) => tokenSecretName(a.name)) },
            },
            // No ClusterWorkflowTemplates: the server needs no cluster-wide rights on them.
            clusterWorkflowTemplates: { enabled: false },
            ingress: {
                enabled: true,
                ingressClassName: platform.ingressClass,
                annotations: ingressAnnotations(platform),
                hosts: [host],
                tls: [{ secretName: tlsSecretName("argo"), hosts: [host] }],
            },
        },
        artifactRepository: {
            s3: {
                bucket: bucketFor("argo", storage, "artifacts"),
                endpoint: endpoint.host,
                region: storage.region,
                insecure: endpoint.protocol === "http:",
                accessKeySecret: { name: storage.secretName, key: "AWS_ACCESS_KEY_ID" },
                secretKeySecret: { name: storage.secretName, key: "AWS_SECRET_ACCESS_KEY" },
            },
        },
    };
}

/** Argo Workflows: SSO through Keycloak, artifacts on the object store, workflows on the processing nodes. */
export class ArgoWorkflows extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:apps:ArgoWorkflows", name, {}, opts);
        const namespace = args.binding.namespace;
        const processing = processingNamespaceOf(args.platform);
        const o = childOptions(this, args);
        // The accounts exist before the server starts, so its first SSO login finds them.
        const accounts = SSO_ACCOUNTS.flatMap((a) => {
            const sa = new k8s.core.v1.ServiceAccount(
                a.name,
                {
                    metadata: {
                        name: a.name,
                        namespace,
                        annotations: {
                            "workflows.argoproj.io/rbac-rule": `'${a.group}' in groups`,
                            "workflows.argoproj.io/rbac-rule-precedence": String(a.precedence),
                        },
                    },
                },
                o,
            );
            // Kubernetes fills a token Secret of this type for the named account (no token is created otherwise since 1.24).
            const token = new k8s.core.v1.Secret(
                tokenSecretName(a.name),
                {
                    metadata: { name: tokenSecretName(a.name), namespace, annotations: { "kubernetes.io/service-account.name": a.name } },
                    type: "kubernetes.io/service-account-token",
                },
                { ...o, dependsOn: [...(o.dependsOn as pulumi.Resource[]), sa] },
            );
            const role = new k8s.rbac.v1.Role(a.name, { metadata: { name: a.name, namespace: processing }, rules: ssoRoleRules(a.admin) }, o);
            const binding = new k8s.rbac.v1.RoleBinding(
                a.name,
                {
                    metadata: { name: a.name, namespace: processing },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                    subjects: [{ kind: "ServiceAccount", name: a.name, namespace }],
                },
                o,
            );
            return [sa, token, binding];
        });
        this.release = catalogRelease(
            name,
            CHART,
            namespace,
            argoValues(args),
            { ...o, dependsOn: [...(o.dependsOn as pulumi.Resource[]), ...accounts] },
            "argo-workflows",
        );
        // Needs the chart's CRDs and the operator's; without Spark there is nothing to run.
        if (args.config.enabledApps.includes("spark")) sparkPiWorkflowTemplate(this, args, processing, [this.release]);
        this.registerOutputs({});
    }
}
