import * as pulumi from "@pulumi/pulumi";
import { GeoplatformConfig } from "../config/types";
import { Platform } from "../platform/types";
import { ArgoWorkflows } from "./argo";
import { Geocube } from "./geocube";
import { hostFor } from "./ingress";
import { JupyterHub } from "./jupyterhub";
import { OpenEo } from "./openeo";
import { Spark } from "./spark";
import { bindingOf, processingNamespaceOf } from "./types";

/** The enabled apps; an app switched off is absent. */
export interface Apps {
    jupyterhub?: JupyterHub;
    spark?: Spark;
    openeo?: OpenEo;
    geocube?: Geocube;
    argo?: ArgoWorkflows;
}

/** The apps layer: creates only the apps enabled in `geoplatform:apps`, on the platform's cluster. */
export function createApps(config: GeoplatformConfig, platform: Platform, opts?: pulumi.ComponentResourceOptions): Apps {
    const enabled = new Set(config.enabledApps);
    const args = (app: Parameters<typeof bindingOf>[1]) => ({ config, platform, binding: bindingOf(platform, app) });
    const apps: Apps = {};
    if (enabled.has("jupyterhub")) apps.jupyterhub = new JupyterHub("jupyterhub", args("jupyterhub"), opts);
    if (enabled.has("spark")) {
        const spark = args("spark");
        // The operator runs the spark namespace's own jobs, the shared processing namespace's, and openEO's.
        const jobNamespaces = [spark.binding.namespace, processingNamespaceOf(platform)];
        if (enabled.has("openeo")) jobNamespaces.push(bindingOf(platform, "openeo").namespace);
        apps.spark = new Spark("spark", { ...spark, jobNamespaces }, opts);
    }
    // Config validation guarantees spark is on whenever openEO is.
    if (enabled.has("openeo") && apps.spark) apps.openeo = new OpenEo("openeo", { ...args("openeo"), sparkOperator: apps.spark.operator }, opts);
    if (enabled.has("geocube")) apps.geocube = new Geocube("geocube", args("geocube"), opts);
    if (enabled.has("argo")) apps.argo = new ArgoWorkflows("argo", args("argo"), opts);
    return apps;
}

/** Each enabled app's public address (Geocube serves gRPC inside the cluster only). */
export function appUrls(platform: Platform, apps: Apps): Record<string, string> {
    const url = (service: string) => `https://${hostFor(platform, service)}`;
    return {
        ...(apps.jupyterhub && { jupyterhub: url("jupyter") }),
        ...(apps.spark && { sparkHistory: url("spark-history") }),
        ...(apps.openeo && { openeo: url("openeo") }),
        ...(apps.argo && { argo: url("argo") }),
    };
}
