import * as k8s from "./kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../config/catalog";
import { AppName } from "../config/types";

export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

/** Namespace of the PostgreSQL cluster itself (the operator lives in CHARTS.cloudnativePg.namespace). */
export const POSTGRES_NAMESPACE = "postgres";

/**
 * Pod Security Admission level per platform namespace: restricted where the
 * chart's pods comply. Exceptions: Traefik binds host ports 80/443, Longhorn
 * runs privileged node agents (iSCSI, mounts), the node exporter reads the
 * host's namespaces; MinIO and Keycloak charts do not set seccomp profiles.
 */
const PLATFORM_LEVELS: Record<string, PodSecurityLevel> = {
    [CHARTS.traefik.namespace]: "privileged",
    [CHARTS.certManager.namespace]: "restricted",
    [CHARTS.longhorn.namespace]: "privileged",
    [CHARTS.minio.namespace]: "baseline",
    [CHARTS.cloudnativePg.namespace]: "restricted",
    [POSTGRES_NAMESPACE]: "restricted",
    [CHARTS.keycloak.namespace]: "baseline",
    [CHARTS.monitoring.namespace]: "privileged",
    // Loki's pods comply with restricted; Alloy's chart sets no seccomp profile.
    [CHARTS.loki.namespace]: "baseline",
};

/** Shared namespace of users' batch jobs (Spark applications, Argo workflows). */
export const PROCESSING_NAMESPACE = "processing";
/** Apps whose jobs run in the processing namespace. */
export const PROCESSING_APPS: AppName[] = ["spark", "argo"];

/**
 * The executors that notebooks start in Spark client mode (apps/jupyterhub.ts) run in one namespace per user,
 * `<prefix><user's slug>`, which the hub creates at spawn (apps/notebook-executors.ts): a user's ServiceAccount may
 * manage pods in its own only. They hold no Secret (a user who may create pods in a namespace may mount its
 * Secrets) and enforce Pod Security restricted. The label marks them, for the notebooks' NetworkPolicies and the
 * admission policy that bounds what the hub may create.
 */
export const NOTEBOOK_EXECUTOR_NAMESPACE_PREFIX = "nbx-";
export const NOTEBOOK_EXECUTOR_NAMESPACE_LABEL = { "geoplatform.io/notebook-executors": "true" };
/** How flows and docs name those namespaces together (no namespace has this name). */
export const NOTEBOOK_EXECUTOR_NAMESPACES = `${NOTEBOOK_EXECUTOR_NAMESPACE_PREFIX}*`;

/** Pod Security labels of a namespace: enforce at its level, warn and audit at restricted. */
export const podSecurityLabels = (level: PodSecurityLevel): Record<string, string> => ({
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
});

/** App namespaces (created here so a disabled app gets none): user and batch pods need baseline. */
export const APP_NAMESPACES: Record<AppName, string> = {
    jupyterhub: CHARTS.jupyterhub.namespace,
    spark: CHARTS.sparkOperator.namespace,
    openeo: CHARTS.openeo.namespace,
    geocube: "geocube",
    argo: CHARTS.argoWorkflows.namespace,
};

/** Namespaces with Pod Security labels: enforce at their level, warn and audit at restricted. */
export class Namespaces extends pulumi.ComponentResource {
    readonly byName: Record<string, k8s.core.v1.Namespace> = {};

    constructor(name: string, args: { apps: AppName[]; after: pulumi.Resource[] }, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:Namespaces", name, {}, opts);
        const levels: Record<string, PodSecurityLevel> = { ...PLATFORM_LEVELS };
        for (const app of args.apps) levels[APP_NAMESPACES[app]] = "baseline";
        if (args.apps.some((app) => PROCESSING_APPS.includes(app))) levels[PROCESSING_NAMESPACE] = "baseline";
        for (const [namespace, level] of Object.entries(levels)) {
            this.byName[namespace] = new k8s.core.v1.Namespace(
                `ns-${namespace}`,
                {
                    metadata: { name: namespace, labels: podSecurityLabels(level) },
                },
                // A component's dependsOn does not reach its children: each namespace waits for the cluster itself.
                { parent: this, dependsOn: args.after },
            );
        }
        this.registerOutputs({ namespaces: Object.keys(levels) });
    }

    /** The namespace's name as an Output, so whatever is created in it waits for it. */
    ns(name: string): pulumi.Output<string> {
        const namespace = this.byName[name];
        if (!namespace) throw new Error(`no namespace ${name} was created`);
        return namespace.metadata.name;
    }
}
