import * as pulumi from "@pulumi/pulumi";
import { GeoplatformConfig } from "../config/types";
import { Platform } from "../platform/types";
import { JupyterHub } from "./jupyterhub";
import { bindingOf } from "./types";

/** The enabled apps; an app switched off is absent. */
export interface Apps {
    jupyterhub?: JupyterHub;
}

/** The apps layer: creates only the apps enabled in `geoplatform:apps`, on the platform's cluster. */
export function createApps(config: GeoplatformConfig, platform: Platform, opts?: pulumi.ComponentResourceOptions): Apps {
    const enabled = new Set(config.enabledApps);
    const args = (app: Parameters<typeof bindingOf>[1]) => ({ config, platform, binding: bindingOf(platform, app) });
    const apps: Apps = {};
    if (enabled.has("jupyterhub")) apps.jupyterhub = new JupyterHub("jupyterhub", args("jupyterhub"), opts);
    return apps;
}
