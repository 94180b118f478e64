import * as pulumi from "@pulumi/pulumi";
import { GeoplatformConfig } from "../config/types";
import { Platform } from "../platform/types";
import { ArgoWorkflows } from "./argo";
import { Geocube } from "./geocube";
import { JupyterHub } from "./jupyterhub";
import { OpenEo } from "./openeo";
import { PROCESSING_NAMESPACE, ProcessingNamespace } from "./processing-namespace";
import { Spark } from "./spark";
import { bindingOf } from "./types";

/** The enabled apps; an app switched off is absent. */
export interface Apps {
    jupyterhub?: JupyterHub;
    processing?: ProcessingNamespace;
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
    // The shared job namespace exists only for the apps that submit jobs into it.
    if (enabled.has("spark") || enabled.has("argo")) apps.processing = new ProcessingNamespace("processing", { platform }, opts);
    const processing = apps.processing ? [apps.processing] : [];
    if (enabled.has("spark")) {
        const spark = args("spark");
        // The operator runs the spark namespace's own jobs, the shared processing namespace's, and openEO's.
        const jobNamespaces = [spark.binding.namespace, PROCESSING_NAMESPACE];
        if (enabled.has("openeo")) jobNamespaces.push(bindingOf(platform, "openeo").namespace);
        apps.spark = new Spark("spark", { ...spark, jobNamespaces, jobNamespaceResources: processing }, opts);
    }
    // Config validation guarantees spark is on whenever openEO is.
    if (enabled.has("openeo") && apps.spark) apps.openeo = new OpenEo("openeo", { ...args("openeo"), sparkOperator: apps.spark.operator }, opts);
    if (enabled.has("geocube")) apps.geocube = new Geocube("geocube", args("geocube"), opts);
    if (enabled.has("argo") && apps.processing) apps.argo = new ArgoWorkflows("argo", { ...args("argo"), workflowNamespace: apps.processing }, opts);
    return apps;
}
