import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartArchive, ChartEntry } from "../config/catalog";

/**
 * The chart of a catalog entry as the Kubernetes provider opens it: the archive
 * `npm run charts` checked into .charts/, as a path relative to the provider's
 * working directory, so it reads the same on every machine and checkout.
 * The engine starts every plugin in the directory of Pulumi.yaml's `main`
 * (pulumi/pulumi pkg/engine/project.go getPwdMain: a file `main` gives pwd =
 * its directory, bin/; pkg/resource/plugin/provider_plugin.go newPlugin(ctx,
 * ctx.Pwd, ...) and plugin.go `cmd.Dir = pwd`), and the provider resolves a
 * local chart against its own working directory (pulumi/pulumi-kubernetes
 * provider/pkg/provider/helm_release.go localChart: os.Stat(name),
 * filepath.Abs(name)). Hence `../.charts/...` from bin/. docs/platform.md has
 * the details; test/platform.test.ts pins the resolution.
 */
export function releaseChart(entry: ChartEntry): string {
    return `../${chartArchive(entry)}`;
}

/**
 * A pinned Helm release from the catalog (its cached archive), in its (already created) namespace,
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
            // A local archive: a preview downloads nothing, and what is deployed is what test:charts rendered.
            chart: releaseChart(entry),
            version: entry.version,
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
