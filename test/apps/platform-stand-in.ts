import * as k8s from "@pulumi/kubernetes";
import { AppName, GeoplatformConfig } from "../../config/types";
import { AppBinding, Platform } from "../../platform/types";

// The one stand-in for the platform layer in the apps tests: a Platform as
// the contract describes it, built from the stack's real config. Swap it for
// the real program's platform output once both layers are merged.

const DUMMY_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n";
export const STAND_IN_ISSUER = "https://auth.example/realms/geoplatform";

/** Bucket purposes the platform provides per app. */
const BUCKETS: Partial<Record<AppName, Record<string, string>>> = {
    jupyterhub: { notebooks: "jupyterhub-notebooks" },
    spark: { eventLogs: "spark-event-logs" },
    openeo: { results: "openeo-results" },
    geocube: { storage: "geocube-storage" },
    argo: { artifacts: "argo-artifacts" },
};
const WITH_DATABASE: AppName[] = ["jupyterhub", "geocube", "argo"];
const WITH_OIDC: AppName[] = ["jupyterhub", "argo"];
const NAMESPACES: Record<AppName, string> = { jupyterhub: "jupyterhub", spark: "spark-operator", openeo: "openeo", geocube: "geocube", argo: "argo" };

function binding(app: AppName): AppBinding {
    const namespace = NAMESPACES[app];
    const issuerUrl = STAND_IN_ISSUER;
    return {
        namespace,
        database: WITH_DATABASE.includes(app)
            ? { host: "geoplatform-pg-rw.postgres.svc", port: 5432, database: app, username: app, secretName: `${app}-db` }
            : undefined,
        objectStorage: BUCKETS[app]
            ? { endpoint: "http://minio.minio.svc:9000", region: "us-east-1", buckets: BUCKETS[app] as Record<string, string>, secretName: `${app}-s3` }
            : undefined,
        oidc: WITH_OIDC.includes(app)
            ? {
                  issuerUrl,
                  authorizeUrl: `${issuerUrl}/protocol/openid-connect/auth`,
                  tokenUrl: `${issuerUrl}/protocol/openid-connect/token`,
                  userinfoUrl: `${issuerUrl}/protocol/openid-connect/userinfo`,
                  clientId: app,
                  secretName: `${app}-oidc`,
              }
            : undefined,
    };
}

export function platformStandIn(config: GeoplatformConfig): Platform {
    return {
        provider: new k8s.Provider("stand-in", { kubeconfig: DUMMY_KUBECONFIG }),
        domain: config.domain,
        ingressClass: "traefik",
        clusterIssuer: "letsencrypt",
        storageClass: "longhorn",
        apps: Object.fromEntries(config.enabledApps.map((app) => [app, binding(app)])),
        ready: [],
    };
}
