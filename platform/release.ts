import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ChartEntry } from "../config/catalog";

/**
 * A pinned Helm release from the catalog, in its (already created) namespace,
 * awaited until ready. `releaseName` is Helm's name when it differs from the
 * resource name.
 */
export function catalogRelease(
    name: string,
    entry: ChartEntry,
    namespace: pulumi.Input<string>,
    values: pulumi.Input<Record<string, unknown>>,
    opts: pulumi.CustomResourceOptions,
    releaseName = name,
): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
        name,
        {
            name: releaseName,
            chart: entry.chart,
            version: entry.version,
            repositoryOpts: { repo: entry.repo },
            namespace,
            createNamespace: false,
            values,
            // Roll back a release that does not become ready instead of leaving it half-installed.
            atomic: true,
            timeout: 900,
        },
        opts,
    );
}

/** TLS for an Ingress host, issued by cert-manager. */
export function tlsAnnotations(clusterIssuer: string): Record<string, string> {
    return { "cert-manager.io/cluster-issuer": clusterIssuer };
}
