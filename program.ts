import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config/load";
import { createApps } from "./apps";
import { createInfra } from "./infra";
import { PlatformLayer } from "./platform";
import { K3s } from "./platform/k3s";

/** The whole platform, layer by layer; each layer's typed output feeds the next. */
export async function geoplatform() {
    // Validation throws before anything is registered: nothing half-deployed.
    const config = loadConfig();
    const cluster = await createInfra(config);
    const k3s = new K3s(pulumi.getStack(), { config, cluster });
    const ingressNode = cluster.nodes.find((n) => n.publicIp) as { publicIp: pulumi.Output<string> };
    const platform = new PlatformLayer("platform", { config, cluster: k3s, ingressIp: ingressNode.publicIp });
    const apps = createApps(config, platform.platform);

    return {
        cloud: config.cloud,
        bastionIp: cluster.bastion.host,
        apiEndpoint: pulumi.interpolate`https://${cluster.apiEndpoint}:6443`,
        ingressIps: pulumi.all(cluster.nodes.filter((n) => n.publicIp).map((n) => n.publicIp as pulumi.Output<string>)),
        nodes: cluster.nodes.map((n) => ({ name: n.name, group: n.group, role: n.role, privateIp: n.privateIp })),
        sshPrivateKey: cluster.sshPrivateKey,
        kubeconfig: k3s.kubeconfig,
        ...platform.outputs,
        jupyterUrl: apps.jupyterhub?.url,
    };
}
