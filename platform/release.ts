import * as k8s from "./kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartArchive, ChartEntry } from "../config/catalog";
import { CHART_VALUES_VERSIONS, ChartValues } from "../config/chart-values";

/** A catalog entry whose chart has generated values types (config/chart-values, `npm run charts:types`) at its pinned version. */
export type TypedChartEntry = ChartEntry & { chart: keyof ChartValues };

type Leaf = string | number | boolean | null | undefined;

/** A chart's values type as a Release takes it: leaves and lists may be Pulumi inputs. */
export type Inputs<T> = [T] extends [Leaf]
    ? pulumi.Input<T>
    : T extends readonly (infer E)[]
      ? pulumi.Input<Inputs<E>[]>
      : T extends object
        ? { [K in keyof T]: Inputs<T[K]> }
        : T;

/**
 * The values of `E`'s chart: keys the pinned chart does not have fail to
 * compile, and so does any value while the types are of another chart version.
 */
export type ReleaseValues<E extends TypedChartEntry> = E["version"] extends (typeof CHART_VALUES_VERSIONS)[E["chart"]]
    ? Inputs<ChartValues[E["chart"]]>
    : `config/chart-values has ${E["chart"]} ${(typeof CHART_VALUES_VERSIONS)[E["chart"]]}, not ${E["version"]}: run npm run charts:types`;

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
 * A file of this repository as the provider opens it: relative to its working
 * directory, bin/, for the same reasons as releaseChart.
 */
export function fromProviderCwd(repoPath: string): string {
    return `../${repoPath}`;
}

/**
 * A pinned Helm release from the catalog (its cached archive), in its (already created) namespace,
 * awaited until ready. `releaseName` is Helm's name when it differs from the
 * resource name. `postrender` is a repository path of an executable Helm
 * post-renderer (helm v3 pkg/postrender/exec.go: manifests on stdin, on stdout).
 */
export function catalogRelease<E extends TypedChartEntry>(
    name: string,
    entry: E,
    namespace: pulumi.Input<string>,
    values: ReleaseValues<E>,
    opts: pulumi.CustomResourceOptions,
    releaseName = name,
    postrender?: string,
): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
        name,
        {
            name: releaseName,
            // A local archive: a preview downloads nothing, and what is deployed is what test:charts rendered.
            chart: releaseChart(entry),
            postrender: postrender === undefined ? undefined : fromProviderCwd(postrender),
            version: entry.version,
            namespace,
            createNamespace: false,
            // Checked against the chart's type above; the provider takes any map.
            values: values as pulumi.Input<Record<string, unknown>>,
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
