import * as k8s from "../platform/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Platform } from "../platform/types";

// Every app UI/API is served at <service>.<domain> over TLS: Traefik routes
// it, cert-manager issues the certificate named in the annotation.

export function hostFor(platform: Platform, service: string): string {
    return `${service}.${platform.domain}`;
}

export function tlsSecretName(service: string): string {
    return `${service}-tls`;
}

export function ingressAnnotations(platform: Platform): Record<string, string> {
    return { "cert-manager.io/cluster-issuer": platform.clusterIssuer };
}

export interface IngressArgs {
    platform: Platform;
    namespace: string;
    /** First DNS label of the host. */
    service: string;
    backendService: pulumi.Input<string>;
    backendPort: number;
    /** Traefik middlewares (router.middlewares annotation value), e.g. platform.sso.middleware for a UI without a login of its own. */
    middlewares?: string;
}

/** A TLS Ingress for `<service>.<domain>` to one Service port. */
export function tlsIngress(name: string, args: IngressArgs, opts: pulumi.CustomResourceOptions): k8s.networking.v1.Ingress {
    const host = hostFor(args.platform, args.service);
    return new k8s.networking.v1.Ingress(
        name,
        {
            metadata: {
                name: args.service,
                namespace: args.namespace,
                annotations: {
                    ...ingressAnnotations(args.platform),
                    ...(args.middlewares ? { "traefik.ingress.kubernetes.io/router.middlewares": args.middlewares } : {}),
                },
            },
            spec: {
                ingressClassName: args.platform.ingressClass,
                tls: [{ hosts: [host], secretName: tlsSecretName(args.service) }],
                rules: [
                    {
                        host,
                        http: {
                            paths: [
                                {
                                    path: "/",
                                    pathType: "Prefix",
                                    backend: { service: { name: args.backendService, port: { number: args.backendPort } } },
                                },
                            ],
                        },
                    },
                ],
            },
        },
        opts,
    );
}
