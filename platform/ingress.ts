import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../config/catalog";
import { catalogRelease } from "./release";
import { SYSTEM } from "./placement";

export const INGRESS_CLASS = "traefik";

/**
 * Traefik as a DaemonSet on the ingress (`system`) nodes, listening on their
 * host ports 80/443: those nodes have the public addresses, so no
 * LoadBalancer Service (and no K3s servicelb) is needed. HTTP redirects to
 * HTTPS. Ingress status carries an ingress node's public IP, which is also
 * what Pulumi waits for before it calls an Ingress ready.
 */
export class Ingress extends pulumi.ComponentResource {
    readonly ingressClass = INGRESS_CLASS;
    readonly release: pulumi.Resource;

    constructor(name: string, args: { namespace: pulumi.Input<string>; publicIp: pulumi.Input<string> }, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:Ingress", name, {}, opts);
        this.release = catalogRelease(
            "traefik",
            CHARTS.traefik,
            args.namespace,
            {
                deployment: { kind: "DaemonSet" },
                // On host ports a new pod cannot start beside the old one on the same node: the chart's default
                // (maxSurge 1, maxUnavailable 0) never makes progress. One ingress node at a time goes down instead.
                updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
                nodeSelector: SYSTEM,
                ingressClass: { enabled: true, isDefaultClass: true, name: INGRESS_CLASS },
                service: { spec: { type: "ClusterIP" } },
                ports: {
                    web: { hostPort: 80, http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } } },
                    websecure: { hostPort: 443 },
                },
                providers: {
                    kubernetesIngress: {
                        publishedService: { enabled: false },
                        ingressEndpoint: { ip: args.publicIp },
                    },
                },
                resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
            },
            { parent: this },
        );
        this.registerOutputs({ ingressClass: INGRESS_CLASS });
    }
}
