import * as k8s from "./kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../config/catalog";
import { catalogRelease } from "./release";
import { SYSTEM } from "./placement";

const ACME_SERVERS = {
    staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
    production: "https://acme-v02.api.letsencrypt.org/directory",
} as const;

export const issuerName = (environment: keyof typeof ACME_SERVERS) => `letsencrypt-${environment}`;

/** cert-manager with its CRDs, and a Let's Encrypt ClusterIssuer per environment (HTTP-01 through the ingress). */
export class CertManager extends pulumi.ComponentResource {
    readonly clusterIssuer: string;
    /**
     * Issuer of the OIDC host (auth.<domain>), production in every stack: the servers that call Keycloak (argo-server,
     * oauthenticator, Grafana, MinIO, oauth2-proxy, openEO) verify TLS against their image's public roots, which do not
     * hold the staging roots. One host well inside Let's Encrypt's limits (5 duplicate certificates a week).
     */
    readonly oidcIssuer = issuerName("production");
    /** The release, which installs the Issuer and Certificate CRDs other charts' templates use. */
    readonly release: pulumi.Resource;

    constructor(
        name: string,
        args: { namespace: pulumi.Input<string>; acmeEmail: string; environment: keyof typeof ACME_SERVERS; ingressClass: string },
        opts: pulumi.ComponentResourceOptions,
    ) {
        super("geoplatform:platform:CertManager", name, {}, opts);
        const placement = { nodeSelector: SYSTEM };
        const release = (this.release = catalogRelease(
            "cert-manager",
            CHARTS.certManager,
            args.namespace,
            {
                // keep: uninstalling the chart must not delete every Certificate in the cluster.
                crds: { enabled: true, keep: true },
                ...placement,
                webhook: { ...placement, resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } } },
                cainjector: { ...placement, resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } } },
                startupapicheck: { ...placement, resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } } },
                resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
            },
            { parent: this },
        ));
        for (const environment of Object.keys(ACME_SERVERS) as (keyof typeof ACME_SERVERS)[]) {
            new k8s.apiextensions.CustomResource(
                issuerName(environment),
                {
                    apiVersion: "cert-manager.io/v1",
                    kind: "ClusterIssuer",
                    metadata: { name: issuerName(environment) },
                    spec: {
                        acme: {
                            email: args.acmeEmail,
                            server: ACME_SERVERS[environment],
                            privateKeySecretRef: { name: `${issuerName(environment)}-account` },
                            solvers: [{ http01: { ingress: { ingressClassName: args.ingressClass } } }],
                        },
                    },
                },
                // The ClusterIssuer kind exists only once the release has installed its CRD.
                { parent: this, dependsOn: [release] },
            );
        }
        this.clusterIssuer = issuerName(args.environment);
        this.registerOutputs({ clusterIssuer: this.clusterIssuer });
    }
}
