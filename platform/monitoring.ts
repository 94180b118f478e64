import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../config/catalog";
import { PlatformConfig } from "../config/types";
import { catalogRelease, tlsAnnotations } from "./release";
import { PROCESSING_TOLERATION, SYSTEM } from "./placement";
import { k8sSecret, randomSecret } from "./secrets";
import { alertmanagerConfig, CUSTOM_RESOURCE_RBAC, CUSTOM_RESOURCE_STATE, LOKI_URL, RECEIVER_SECRET } from "./observability";
import { GROUPS_CLAIM, REALM_GROUPS } from "./keycloak";

/**
 * Grafana roles from the realm groups (JMESPath over the ID token / userinfo claims, grafana/grafana
 * pkg/login/social/connectors/generic_oauth.go). Strict: a realm account in neither group gets no Grafana login.
 */
export const GRAFANA_ROLE_MAPPING = {
    role_attribute_path: `contains(${GROUPS_CLAIM}[*], '${REALM_GROUPS.admins}') && 'Admin' || contains(${GROUPS_CLAIM}[*], '${REALM_GROUPS.users}') && 'Editor'`,
    role_attribute_strict: true,
    // Admin here is Grafana's organisation role; the server-admin flag stays with the break-glass local admin.
    allow_assign_grafana_admin: false,
};

export interface MonitoringArgs {
    namespace: pulumi.Input<string>;
    settings: PlatformConfig["prometheus"];
    /** Where alerts go (the receivers' credentials are in `receivers`, a Secret in this namespace). */
    alerting: PlatformConfig["alerting"];
    receivers: pulumi.Resource;
    /** Sized per stack: the number of system nodes Alertmanager spreads over. */
    alertmanagerReplicas: number;
    /** Prometheus servers (config/storage.ts prometheusReplicas), kept on distinct nodes. */
    prometheusReplicas: number;
    storageClass: string;
    /** The release that creates the StorageClass of Prometheus' volume. */
    storageReady: pulumi.Resource;
    host: string;
    clusterIssuer: string;
    ingressClass: string;
    /** Grafana's OIDC client: its Secret in this namespace (client-id/client-secret) and the realm's endpoints. */
    oidc: { secretName: string; secret: pulumi.Resource; issuerUrl: string };
}

/**
 * kube-prometheus-stack: Prometheus on Longhorn with the stack's retention,
 * Grafana with SSO through Keycloak (and a break-glass admin from a Secret),
 * node exporters on every node. K3s runs the control plane in one process
 * and exposes no separate scheduler, controller-manager, proxy or etcd
 * metrics endpoints, so those scrapes are off.
 */
export class Monitoring extends pulumi.ComponentResource {
    /** Grafana's local administrator (the chart's admin.existingSecret userKey). */
    readonly grafanaAdminUsername = "admin";
    readonly grafanaAdminPassword: pulumi.Output<string>;
    /** The release: its CRDs (ServiceMonitor, PodMonitor, PrometheusRule) exist once it is ready. */
    readonly release: pulumi.Resource;

    constructor(name: string, args: MonitoringArgs, opts: pulumi.ComponentResourceOptions) {
        super("geoplatform:platform:Monitoring", name, {}, opts);
        const namespace = args.namespace;
        this.grafanaAdminPassword = randomSecret("grafana-admin", this).value;
        const admin = k8sSecret(
            "grafana-admin",
            { namespace, data: { "admin-user": this.grafanaAdminUsername, "admin-password": this.grafanaAdminPassword } },
            { parent: this },
        );
        const realm = args.oidc.issuerUrl;

        this.release = catalogRelease(
            "monitoring",
            CHARTS.monitoring,
            namespace,
            {
                crds: { enabled: true },
                kubeControllerManager: { enabled: false },
                kubeScheduler: { enabled: false },
                kubeProxy: { enabled: false },
                kubeEtcd: { enabled: false },
                prometheusOperator: {
                    nodeSelector: SYSTEM,
                    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
                    // The admission webhook's create and patch hook Jobs both read admissionWebhooks.patch (templates/prometheus-operator/admission-webhooks/job-patch/).
                    admissionWebhooks: { patch: { nodeSelector: SYSTEM, resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } } } },
                },
                alertmanager: {
                    // Receivers and routes from stack config; credentials as files of the receivers' Secret (platform/observability/alerting.ts).
                    config: alertmanagerConfig(args.alerting).config,
                    alertmanagerSpec: {
                        nodeSelector: SYSTEM,
                        replicas: args.alertmanagerReplicas,
                        secrets: [RECEIVER_SECRET],
                        resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "128Mi" } },
                    },
                },
                prometheus: {
                    prometheusSpec: {
                        nodeSelector: SYSTEM,
                        replicas: args.prometheusReplicas,
                        // Two replicas on one node would fail together (templates/prometheus/prometheus.yaml: "hard" is a required anti-affinity on the hostname).
                        podAntiAffinity: "hard",
                        // Select every ServiceMonitor, PodMonitor and PrometheusRule in every namespace (platform/observability/, charts' own),
                        // not only those labelled release=monitoring (templates/prometheus/prometheus.yaml).
                        serviceMonitorSelectorNilUsesHelmValues: false,
                        podMonitorSelectorNilUsesHelmValues: false,
                        ruleSelectorNilUsesHelmValues: false,
                        retention: args.settings.retention,
                        storageSpec: {
                            volumeClaimTemplate: {
                                spec: {
                                    storageClassName: args.storageClass,
                                    accessModes: ["ReadWriteOnce"],
                                    resources: { requests: { storage: `${args.settings.storageGb}Gi` } },
                                },
                            },
                        },
                    },
                },
                "kube-state-metrics": {
                    nodeSelector: SYSTEM,
                    resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                    // etcd snapshots and Longhorn backups as metrics, for the backup alerts (platform/observability/rules.ts).
                    customResourceState: { enabled: true, config: CUSTOM_RESOURCE_STATE },
                    rbac: { extraRules: CUSTOM_RESOURCE_RBAC },
                },
                // Node metrics are wanted from every node, processing included.
                "prometheus-node-exporter": {
                    tolerations: [PROCESSING_TOLERATION],
                    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
                },
                grafana: {
                    nodeSelector: SYSTEM,
                    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                    // The dashboard and datasource sidecars (charts/grafana templates/_pod.tpl).
                    sidecar: { resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "128Mi" } } },
                    admin: { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" },
                    // Logs: Loki, single-tenant, reached in the cluster (platform/observability/logs.ts).
                    additionalDataSources: [
                        { name: "Loki", uid: "loki", type: "loki", access: "proxy", url: LOKI_URL, editable: false, jsonData: { maxLines: 5000 } },
                    ],
                    envValueFrom: {
                        GF_AUTH_GENERIC_OAUTH_CLIENT_ID: { secretKeyRef: { name: args.oidc.secretName, key: "client-id" } },
                        GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET: { secretKeyRef: { name: args.oidc.secretName, key: "client-secret" } },
                    },
                    "grafana.ini": {
                        server: { root_url: `https://${args.host}` },
                        "auth.generic_oauth": {
                            enabled: true,
                            name: "geoplatform SSO",
                            scopes: "openid profile email",
                            auth_url: `${realm}/protocol/openid-connect/auth`,
                            token_url: `${realm}/protocol/openid-connect/token`,
                            api_url: `${realm}/protocol/openid-connect/userinfo`,
                            allow_sign_up: true,
                            // Grafana's login (${__user.login} in dashboards) is the realm username, as JupyterHub's and the
                            // logs' `user` label: Keycloak's userinfo has no `login` or `username` field, which Grafana tries
                            // first (grafana/grafana pkg/login/social/connectors/generic_oauth.go extractLogin).
                            login_attribute_path: "preferred_username",
                            ...GRAFANA_ROLE_MAPPING,
                        },
                    },
                    ingress: {
                        enabled: true,
                        ingressClassName: args.ingressClass,
                        annotations: tlsAnnotations(args.clusterIssuer),
                        hosts: [args.host],
                        tls: [{ secretName: "grafana-tls", hosts: [args.host] }],
                    },
                },
            },
            { parent: this, dependsOn: [admin, args.oidc.secret, args.storageReady, args.receivers] },
        );
        this.registerOutputs({});
    }
}
