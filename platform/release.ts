import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ChartEntry } from "../config/catalog";
import { CHART_VALUES_VERSIONS, ChartValues } from "../config/chart-values";

/** A catalog entry whose chart has generated values types (config/chart-values, `npm run charts:types`) at its pinned version. */
export type TypedChartEntry = ChartEntry & { chart: keyof ChartValues };

type Leaf = string | number | boolean | null | undefined;

/** A chart's values type as a Release takes it: leaves and lists may be Pulumi inputs. */
export type Inputs<T> = [T] extends [Leaf] ? pulumi.Input<T> : T extends readonly (infer E)[] ? pulumi.Input<Inputs<E>[]> : T extends object ? { [K in keyof T]: Inputs<T[K]> } : T;

/**
 * The values of `E`'s chart: keys the pinned chart does not have fail to
 * compile, and so does any value while the types are of another chart version.
 */
export type ReleaseValues<E extends TypedChartEntry> = E["version"] extends (typeof CHART_VALUES_VERSIONS)[E["chart"]]
    ? Inputs<ChartValues[E["chart"]]>
    : `config/chart-values has ${E["chart"]} ${(typeof CHART_VALUES_VERSIONS)[E["chart"]]}, not ${E["version"]}: run npm run charts:types`;

/**
 * A pinned Helm release from the catalog, in its (already created) namespace,
 * awaited until ready. `releaseName` is Helm's name when it differs from the
 * resource name.
 */
export function catalogRelease<E extends TypedChartEntry>(
    name: string,
    entry: E,
    namespace: pulumi.Input<string>,
    values: ReleaseValues<E>,
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
