import * as k8s from "./kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AppName } from "../config/types";

// The contract between the platform layer and the apps layer. Apps never see
// a secret value: they get the names of Secrets the platform created in the
// app's own namespace, and reference them (secretKeyRef, existingSecret).

/** A PostgreSQL database and role on the shared cluster. */
export interface AppDatabase {
    /** In-cluster read-write service host, e.g. geoplatform-pg-rw.postgres.svc. */
    host: string;
    port: number;
    database: string;
    username: string;
    /** kubernetes.io/basic-auth Secret in the app's namespace, keys `username` and `password`. */
    secretName: string;
}

/** S3-compatible credentials of the app's own object-storage user. */
export interface AppObjectStorage {
    /** In-cluster S3 endpoint URL, e.g. http://minio.minio.svc:9000. */
    endpoint: string;
    region: string;
    /** Buckets the app's user may use, by purpose (e.g. `eventLogs`, `results`). */
    buckets: Record<string, string>;
    /** Secret in the app's namespace, keys `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`. */
    secretName: string;
    /** The IAM document that limits users' temporary (STS) credentials: the data-scientists policy. */
    userSessionPolicy: string;
}

/** The app's OIDC client in the Keycloak realm. */
export interface AppOidcClient {
    /** Realm issuer, e.g. https://auth.<domain>/realms/geoplatform. */
    issuerUrl: string;
    authorizeUrl: string;
    tokenUrl: string;
    userinfoUrl: string;
    clientId: string;
    /** Secret in the app's namespace, keys `client-id` and `client-secret`. */
    secretName: string;
}

/** Everything the platform prepared for one app. */
export interface AppBinding {
    /** Namespace created (with Pod Security labels) for the app. */
    namespace: string;
    database?: AppDatabase;
    objectStorage?: AppObjectStorage;
    oidc?: AppOidcClient;
    /** What the app's install waits for: its Secrets, database, S3 user and buckets (and Keycloak, for an app that needs the issuer to start). */
    ready: pulumi.Resource[];
}

export interface Platform {
    provider: k8s.Provider;
    /** Base DNS domain; an app is served at <app>.<domain>. */
    domain: string;
    ingressClass: string;
    /** cert-manager ClusterIssuer for Ingress TLS (annotation cert-manager.io/cluster-issuer). */
    clusterIssuer: string;
    /** Default (Longhorn) StorageClass. */
    storageClass: string;
    /**
     * The shared job namespace where users' Spark applications and Argo workflows run,
     * when spark or argo is enabled. It holds copies of those apps' object-storage
     * Secrets under the same names (`spark-s3`, `argo-s3`), because jobs resolve
     * Secret references in their own namespace.
     */
    processingNamespace?: string;
    /** Bindings of the enabled apps only. */
    apps: Partial<Record<AppName, AppBinding>>;
    /**
     * The SSO gate (oauth2-proxy forward auth) for UIs without a login of their own: the value of an Ingress's
     * `traefik.ingress.kubernetes.io/router.middlewares` annotation. `middleware` lets in members of any realm group,
     * `adminMiddleware` platform-admins only. Only `hosts` may use them: each has oauth2-proxy's /oauth2/ routes.
     */
    sso: { middleware: string; adminMiddleware: string; hosts: string[] };
}
