import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { APP_VOLUMES_GB, CHARTS } from "../config/catalog";
import { PROCESSING_GROUP } from "../config/types";
import { hostFor, ingressAnnotations, tlsSecretName } from "./ingress";
import { placement } from "./placement";
import { AppArgs, bucketFor, childOptions, needDatabase, needObjectStorage, needOidc, splitImage } from "./types";
import { catalogRelease, ReleaseValues } from "../platform/release";

const CHART = CHARTS.jupyterhub;

/** Notebook sizes users pick at spawn time. */
const PROFILES = [
    { display_name: "Small (2 CPU, 8 GiB)", slug: "small", default: true, cpu: 2, memory: "8G" },
    { display_name: "Large (8 CPU, 32 GiB)", slug: "large", cpu: 8, memory: "32G" },
];

/** z2jh values; exported so tests can check them without a cluster. */
export function jupyterhubValues({ config, platform, binding }: AppArgs): ReleaseValues<typeof CHART> {
    const db = needDatabase("jupyterhub", binding);
    const oidc = needOidc("jupyterhub", binding);
    const storage = needObjectStorage("jupyterhub", binding);
    const host = hostFor(platform, "jupyter");
    const system = placement(config, CHART.nodeGroup);
    const processing = placement(config, PROCESSING_GROUP);
    const image = splitImage(config.apps.jupyterhub.singleuserImage);
    // z2jh's extraEnv takes a map of name -> EnvVar fields; secrets stay in their Secret.
    const fromSecret = (secretName: string, key: string) => ({ valueFrom: { secretKeyRef: { name: secretName, key } } });

    return {
        hub: {
            config: {
                // authenticate_prometheus off: Prometheus scrapes /hub/metrics without a token (platform/observability/monitors.ts).
                JupyterHub: { authenticator_class: "generic-oauth", authenticate_prometheus: false },
                GenericOAuthenticator: {
                    client_id: oidc.clientId,
                    oauth_callback_url: `https://${host}/hub/oauth_callback`,
                    authorize_url: oidc.authorizeUrl,
                    token_url: oidc.tokenUrl,
                    userdata_url: oidc.userinfoUrl,
                    login_service: "Keycloak",
                    username_claim: "preferred_username",
                    scope: ["openid", "profile", "email"],
                    // JupyterHub 5 admits nobody by default: every user of the realm may log in.
                    allow_all: true,
                },
            },
            // The password comes from PGPASSWORD (libpq), never from the URL.
            db: { type: "postgres", url: `postgresql+psycopg2://${db.username}@${db.host}:${db.port}/${db.database}` },
            extraEnv: {
                OAUTH_CLIENT_SECRET: fromSecret(oidc.secretName, "client-secret"),
                PGPASSWORD: fromSecret(db.secretName, "password"),
            },
            nodeSelector: system.nodeSelector,
            tolerations: system.tolerations,
        },
        proxy: {
            // Traefik (the Ingress below) is the entry point; no LoadBalancer exists on K3s without servicelb.
            service: { type: "ClusterIP" },
            chp: { nodeSelector: system.nodeSelector, tolerations: system.tolerations },
        },
        singleuser: {
            image: { name: image.name, tag: image.tag },
            nodeSelector: processing.nodeSelector,
            extraTolerations: processing.tolerations,
            storage: { type: "dynamic", capacity: `${APP_VOLUMES_GB.jupyterUser}Gi`, dynamic: { storageClass: platform.storageClass } },
            extraEnv: {
                AWS_ACCESS_KEY_ID: fromSecret(storage.secretName, "AWS_ACCESS_KEY_ID"),
                AWS_SECRET_ACCESS_KEY: fromSecret(storage.secretName, "AWS_SECRET_ACCESS_KEY"),
                AWS_ENDPOINT_URL: storage.endpoint,
                AWS_DEFAULT_REGION: storage.region,
                NOTEBOOKS_BUCKET: bucketFor("jupyterhub", storage, "notebooks"),
            },
            profileList: PROFILES.map((p) => ({
                display_name: p.display_name,
                slug: p.slug,
                ...(p.default ? { default: true } : {}),
                kubespawner_override: { cpu_guarantee: p.cpu / 2, cpu_limit: p.cpu, mem_guarantee: p.memory, mem_limit: p.memory },
            })),
        },
        scheduling: {
            userScheduler: { nodeSelector: system.nodeSelector, tolerations: system.tolerations },
            // Placement is by our node-group label, not z2jh's node-purpose label, which no node carries.
            corePods: { nodeAffinity: { matchNodePurpose: "ignore" } },
            userPods: { nodeAffinity: { matchNodePurpose: "ignore" } },
        },
        prePuller: { hook: { nodeSelector: system.nodeSelector, tolerations: system.tolerations } },
        ingress: {
            enabled: true,
            ingressClassName: platform.ingressClass,
            annotations: ingressAnnotations(platform),
            hosts: [host],
            tls: [{ hosts: [host], secretName: tlsSecretName("jupyter") }],
        },
    };
}

/** JupyterHub (z2jh): Keycloak login, hub DB on PostgreSQL, notebooks on the processing nodes. */
export class JupyterHub extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:apps:JupyterHub", name, {}, opts);
        this.release = catalogRelease(name, CHART, args.binding.namespace, jupyterhubValues(args), childOptions(this, args), "jupyterhub");
        this.registerOutputs({});
    }
}
