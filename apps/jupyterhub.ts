import * as k8s from "../platform/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { APP_VOLUMES_GB, CHARTS } from "../config/catalog";
import { PROCESSING_GROUP } from "../config/types";
import { GROUPS_CLAIM, REALM_GROUPS } from "../platform/keycloak";
import { EXAMPLE_NOTEBOOK, exampleNotebook } from "./example-notebook";
import { hostFor, ingressAnnotations, tlsSecretName } from "./ingress";
import { CULL_EVERY_SECONDS, SERVER_MAX_AGE_SECONDS, START_TIMEOUT_SECONDS, stsPreSpawnHook } from "./jupyterhub-sts";
import { executorsHook } from "./jupyterhub-executors-hook";
import { EXECUTOR_CLUSTER_ROLE, executorObjects } from "./notebook-executors";
import { hubExecutorsAccess } from "./notebook-executors-access";
import {
    NOTEBOOK_SPARK_CONF_DIR,
    NOTEBOOK_SPARK_CONFIGMAP,
    NOTEBOOK_SPARK_RULES,
    notebookEgress,
    notebookIngress,
    notebookSparkConfigMapData,
} from "./notebook-spark";
import { placement } from "./placement";
import { AppArgs, bucketFor, childOptions, needDatabase, needObjectStorage, needOidc, splitImage } from "./types";
import { catalogRelease, ReleaseValues } from "../platform/release";

const CHART = CHARTS.jupyterhub;

/** Notebook sizes users pick at spawn time. */
const PROFILES = [
    { display_name: "Small (2 CPU, 8 GiB)", slug: "small", default: true, cpu: 2, memory: "8G" },
    { display_name: "Large (8 CPU, 32 GiB)", slug: "large", cpu: 8, memory: "32G" },
];

/** The example notebooks, mounted read-only and copied into each home at start (never over a user's copy). */
export const EXAMPLES_CONFIGMAP = "notebook-examples";
const EXAMPLES_DIR = "/opt/geoplatform/examples";
/** The spark app's bucket of sample data (platform/index.ts APP_NEEDS.spark.buckets.samples). */
export const SAMPLES_BUCKET = "spark-samples";

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
                    // Tokens in auth_state (encrypted with the chart's generated hub.config.CryptKeeper.keys): the
                    // pre-spawn hook trades the access token for the user's MinIO credentials.
                    enable_auth_state: true,
                    // Realm groups decide who logs in and who administers (oauthenticator 17.4.0 oauth2.py:
                    // allowed_groups, admin_groups, auth_state_groups_key, all requiring manage_groups). The groups
                    // claim is in the userinfo response, which auth_state keeps under "oauth_user".
                    manage_groups: true,
                    auth_state_groups_key: `oauth_user.${GROUPS_CLAIM}`,
                    allowed_groups: [REALM_GROUPS.users, REALM_GROUPS.admins],
                    admin_groups: [REALM_GROUPS.admins],
                },
            },
            // One entry: the executors' hooks wrap the STS ones, which must run first (z2jh 4.4.0 jupyterhub_config.py
            // execs the entries by sorted key; one entry makes the order explicit).
            extraConfig: {
                "geoplatform-spawn-hooks": [
                    stsPreSpawnHook(storage.endpoint, storage.userSessionPolicy),
                    executorsHook(executorObjects(config, binding.namespace), binding.namespace),
                ].join("\n"),
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
        // A server never outlives its temporary credentials.
        cull: { enabled: true, every: CULL_EVERY_SECONDS, maxAge: SERVER_MAX_AGE_SECONDS },
        proxy: {
            // Traefik (the Ingress below) is the entry point; no LoadBalancer exists on K3s without servicelb.
            service: { type: "ClusterIP" },
            chp: { nodeSelector: system.nodeSelector, tolerations: system.tolerations },
        },
        singleuser: {
            image: { name: image.name, tag: image.tag },
            startTimeout: START_TIMEOUT_SECONDS,
            // The image's CMD is the chart's singleuser.cmd, jupyterhub-singleuser (images/notebook/Dockerfile).
            cmd: "jupyterhub-singleuser",
            nodeSelector: processing.nodeSelector,
            extraTolerations: processing.tolerations,
            // No serviceAccountName: the pre-spawn hook sets each user's own (apps/jupyterhub-executors-hook.ts).
            // z2jh's iptables init container needs NET_ADMIN, which the namespace's Pod Security (baseline) refuses;
            // the singleuser NetworkPolicy blocks the metadata server instead (its nonPrivateIPs rule excepts
            // <cloudMetadata.ip>/32 and cloudMetadataServer stays false: templates/_helpers-netpol.tpl).
            cloudMetadata: { blockWithIptables: false, ip: "169.254.169.254" },
            networkPolicy: {
                enabled: true,
                egressAllowRules: { cloudMetadataServer: false, privateIPs: false, nonPrivateIPs: true },
                egress: notebookEgress(config, config.enabledApps.includes("geocube")),
                ingress: notebookIngress(),
            },
            storage: {
                type: "dynamic",
                capacity: `${APP_VOLUMES_GB.jupyterUser}Gi`,
                dynamic: { storageClass: platform.storageClass },
                // The image's HOME and working directory (images/notebook/Dockerfile): notebooks land on the volume.
                homeMountPath: "/home/jovyan",
                extraVolumes: [
                    { name: "spark-conf", configMap: { name: NOTEBOOK_SPARK_CONFIGMAP } },
                    { name: "examples", configMap: { name: EXAMPLES_CONFIGMAP } },
                ],
                extraVolumeMounts: [
                    { name: "spark-conf", mountPath: NOTEBOOK_SPARK_CONF_DIR, readOnly: true },
                    { name: "examples", mountPath: EXAMPLES_DIR, readOnly: true },
                ],
            },
            lifecycleHooks: { postStart: { exec: { command: ["sh", "-c", `mkdir -p "$HOME/examples" && cp -n ${EXAMPLES_DIR}/*.ipynb "$HOME/examples/"`] } } },
            // No object-store credentials here: the hub's pre-spawn hook adds the user's own (apps/jupyterhub-sts.ts).
            extraEnv: {
                AWS_ENDPOINT_URL: storage.endpoint,
                AWS_DEFAULT_REGION: storage.region,
                AWS_REGION: storage.region,
                SPARK_CONF_DIR: NOTEBOOK_SPARK_CONF_DIR,
                // spark.driver.host for client mode (images/notebook/geoplatform_spark.py).
                POD_IP: { valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
                NOTEBOOKS_BUCKET: bucketFor("jupyterhub", storage, "notebooks"),
                SAMPLES_BUCKET,
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

/** JupyterHub (z2jh): Keycloak login by realm group, hub DB on PostgreSQL, notebooks on the processing nodes with Spark client mode. */
export class JupyterHub extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("geoplatform:apps:JupyterHub", name, {}, opts);
        const namespace = args.binding.namespace;
        const o = childOptions(this, args);
        const storage = needObjectStorage("jupyterhub", args.binding);
        const sparkConf = new k8s.core.v1.ConfigMap(
            NOTEBOOK_SPARK_CONFIGMAP,
            { metadata: { name: NOTEBOOK_SPARK_CONFIGMAP, namespace }, data: notebookSparkConfigMapData(args.config, storage) },
            o,
        );
        const examples = new k8s.core.v1.ConfigMap(
            EXAMPLES_CONFIGMAP,
            { metadata: { name: EXAMPLES_CONFIGMAP, namespace }, data: { [EXAMPLE_NOTEBOOK]: exampleNotebook(SAMPLES_BUCKET) } },
            o,
        );
        // Spark client mode from the notebook: each user's ServiceAccount may manage executor pods and their ConfigMap
        // in the user's executor namespace (bound there by the hub), nothing else.
        const executorRole = new k8s.rbac.v1.ClusterRole(EXECUTOR_CLUSTER_ROLE, { metadata: { name: EXECUTOR_CLUSTER_ROLE }, rules: NOTEBOOK_SPARK_RULES }, o);
        const hubAccess = hubExecutorsAccess(namespace, executorObjects(args.config, namespace), {
            ...o,
            dependsOn: [...(o.dependsOn as pulumi.Resource[]), executorRole],
        });
        this.release = catalogRelease(
            name,
            CHART,
            namespace,
            jupyterhubValues(args),
            childOptions(this, args, [sparkConf, examples, executorRole, ...hubAccess]),
            "jupyterhub",
        );
        this.registerOutputs({});
    }
}
