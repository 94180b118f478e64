import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../config/catalog";
import { PROCESSING_GROUP } from "../config/types";
import { hostFor, ingressAnnotations, tlsSecretName } from "./ingress";
import { placement } from "./placement";
import { AppArgs, bucketFor, childOptions, needDatabase, needObjectStorage, needOidc, processingNamespaceOf } from "./types";
import { catalogRelease, ReleaseValues } from "../platform/release";

const CHART = CHARTS.argoWorkflows;
/** Service account the chart creates in every workflow namespace; workflows run as it by default. */
export const WORKFLOW_SERVICE_ACCOUNT = "argo-workflow";

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
        workflow: { serviceAccount: { create: true, name: WORKFLOW_SERVICE_ACCOUNT }, rbac: { create: true } },
        controller: {
            // Workflows in the processing namespace find the artifact Secret there: the platform copies it.
            workflowNamespaces: [binding.namespace, processingNamespaceOf(platform)],
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
                // Without per-group service accounts every SSO user acts as the server's service account.
                rbac: { enabled: false },
            },
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
        this.release = catalogRelease(name, CHART, args.binding.namespace, argoValues(args), childOptions(this, args), "argo-workflows");
        this.registerOutputs({});
    }
}
