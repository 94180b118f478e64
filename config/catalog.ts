// Every Helm chart geoplatform installs, in one place: where it comes from,
// the pinned version, its namespace and the node group its pods run on.
// Bump versions here, deliberately, after checking the chart's values.yaml
// (../shared/charts/ holds the pinned ones).

export type CatalogNodeGroup = "system" | "processing";

export interface ChartEntry {
    chart: string;
    /** https or oci repository. */
    repo: string;
    version: string;
    namespace: string;
    /** Node group of the component's own (control) pods. */
    nodeGroup: CatalogNodeGroup;
}

export const CHARTS = {
    traefik: { chart: "traefik", repo: "https://traefik.github.io/charts", version: "41.3.0", namespace: "traefik", nodeGroup: "system" },
    certManager: { chart: "cert-manager", repo: "https://charts.jetstack.io", version: "v1.21.1", namespace: "cert-manager", nodeGroup: "system" },
    longhorn: { chart: "longhorn", repo: "https://charts.longhorn.io", version: "1.12.1", namespace: "longhorn-system", nodeGroup: "system" },
    minio: { chart: "minio", repo: "https://charts.min.io/", version: "5.4.0", namespace: "minio", nodeGroup: "system" },
    cloudnativePg: { chart: "cloudnative-pg", repo: "https://cloudnative-pg.github.io/charts", version: "0.29.0", namespace: "cnpg-system", nodeGroup: "system" },
    keycloak: { chart: "keycloakx", repo: "https://codecentric.github.io/helm-charts", version: "7.1.11", namespace: "keycloak", nodeGroup: "system" },
    monitoring: { chart: "kube-prometheus-stack", repo: "https://prometheus-community.github.io/helm-charts", version: "88.5.3", namespace: "monitoring", nodeGroup: "system" },
    jupyterhub: { chart: "jupyterhub", repo: "https://jupyterhub.github.io/helm-chart/", version: "4.4.0", namespace: "jupyterhub", nodeGroup: "system" },
    sparkOperator: { chart: "spark-operator", repo: "https://kubeflow.github.io/spark-operator", version: "2.5.2", namespace: "spark-operator", nodeGroup: "system" },
    openeo: { chart: "sparkapplication", repo: "https://artifactory.vgt.vito.be/artifactory/helm-charts", version: "1.3.1", namespace: "openeo", nodeGroup: "processing" },
    argoWorkflows: { chart: "argo-workflows", repo: "https://argoproj.github.io/argo-helm", version: "1.0.18", namespace: "argo", nodeGroup: "system" },
} as const satisfies Record<string, ChartEntry>;

export type ChartName = keyof typeof CHARTS;

export interface ImageEntry {
    repository: string;
    tag: string;
}

/** Images geoplatform sets explicitly (the charts' own defaults are pinned by the chart version). */
export const IMAGES = {
    minio: { repository: "quay.io/minio/minio", tag: "RELEASE.2024-12-18T13-15-44Z" },
    minioClient: { repository: "quay.io/minio/mc", tag: "RELEASE.2024-11-21T17-21-54Z" },
    postgres: { repository: "ghcr.io/cloudnative-pg/postgresql", tag: "17.5" },
    keycloak: { repository: "quay.io/keycloak/keycloak", tag: "26.5.6" },
} as const satisfies Record<string, ImageEntry>;
