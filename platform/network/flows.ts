import { ALERT_RECEIVER_PORTS, CHARTS } from "../../config/catalog";
import { AppName } from "../../config/types";
import { APP_NAMESPACES, NOTEBOOK_EXECUTOR_NAMESPACE_LABEL, NOTEBOOK_EXECUTOR_NAMESPACES, POSTGRES_NAMESPACE, PROCESSING_NAMESPACE } from "../namespaces";
import { SPARK_UI_PORT } from "../observability/monitors";
import { Endpoint, Flow, Labels, NetworkModel, Pods, PortSpec, tcp } from "./model";
import { ANYWHERE, API_SERVER_PORTS, apiServer, DNS_PORTS, HOSTS, KUBE_DNS, nodes, world } from "./peers";

// What each component needs from the network, one section per component: the
// only place flows are listed. Pod labels are those the pinned charts (or our
// raw manifests) put on the pods; test/network.test.ts checks the raw ones,
// test/charts/network.charts.ts the rendered charts'. To allow a new flow, add
// it to its component's section with one of the helpers below (or a Flow).

const NS = {
    traefik: CHARTS.traefik.namespace,
    certManager: CHARTS.certManager.namespace,
    longhorn: CHARTS.longhorn.namespace,
    minio: CHARTS.minio.namespace,
    cnpg: CHARTS.cloudnativePg.namespace,
    postgres: POSTGRES_NAMESPACE,
    keycloak: CHARTS.keycloak.namespace,
    monitoring: CHARTS.monitoring.namespace,
    processing: PROCESSING_NAMESPACE,
    ...APP_NAMESPACES,
};

/**
 * Namespaces that parallel changes add (issue 18's Loki and Alloy); their flows below apply once the program
 * creates them. At merge: CHARTS.loki.namespace.
 */
export const LOGGING_NAMESPACE = "logging";

const pods = (namespace: string, matchLabels?: Labels): Pods => ({ namespace, ...(matchLabels ? { pods: { matchLabels } } : {}) });
const named = (namespace: string, name: string) => pods(namespace, { "app.kubernetes.io/name": name });

/** The pods flows name, by component. */
export const PODS = {
    traefik: named(NS.traefik, "traefik"),
    certManagerController: named(NS.certManager, "cert-manager"),
    certManagerWebhook: named(NS.certManager, "webhook"),
    longhornUi: pods(NS.longhorn, { app: "longhorn-ui" }),
    longhornManager: pods(NS.longhorn, { app: "longhorn-manager" }),
    longhornShareManager: pods(NS.longhorn, { "longhorn.io/component": "share-manager" }),
    minio: pods(NS.minio, { app: "minio", release: "minio" }),
    minioJob: pods(NS.minio, { app: "minio-job", release: "minio" }),
    cnpgOperator: named(NS.cnpg, "cloudnative-pg"),
    // CNPG labels every instance pod with its Cluster's name (platform/postgres.ts CLUSTER).
    postgres: pods(NS.postgres, { "cnpg.io/cluster": "geoplatform-pg" }),
    keycloak: named(NS.keycloak, "keycloakx"),
    prometheus: named(NS.monitoring, "prometheus"),
    alertmanager: named(NS.monitoring, "alertmanager"),
    grafana: named(NS.monitoring, "grafana"),
    kubeStateMetrics: named(NS.monitoring, "kube-state-metrics"),
    prometheusOperator: pods(NS.monitoring, { app: "kube-prometheus-stack-operator" }),
    hub: pods(NS.jupyterhub, { component: "hub", app: "jupyterhub" }),
    proxy: pods(NS.jupyterhub, { component: "proxy", app: "jupyterhub" }),
    singleuser: pods(NS.jupyterhub, { component: "singleuser-server", app: "jupyterhub" }),
    userScheduler: pods(NS.jupyterhub, { component: "user-scheduler", app: "jupyterhub" }),
    imageAwaiter: pods(NS.jupyterhub, { component: "image-puller", app: "jupyterhub" }),
    sparkOperatorController: pods(NS.spark, { "app.kubernetes.io/name": "spark-operator", "app.kubernetes.io/component": "controller" }),
    sparkOperatorWebhook: pods(NS.spark, { "app.kubernetes.io/name": "spark-operator", "app.kubernetes.io/component": "webhook" }),
    sparkHistory: named(NS.spark, "spark-history"),
    // Spark labels its driver and executor pods spark-role=driver|executor (apache/spark resource-managers/kubernetes Constants.scala SPARK_ROLE_LABEL).
    sparkJobsInSpark: { namespace: NS.spark, pods: { matchExpressions: [{ key: "spark-role", operator: "Exists" }] } } as Pods,
    // apps/openeo/index.ts: the API Service selects the driver by this label.
    openeoDriver: named(NS.openeo, "openeo-driver"),
    zookeeper: named(NS.openeo, "zookeeper"),
    geocubeApiserver: named(NS.geocube, "geocube-apiserver"),
    geocubeConsolidater: named(NS.geocube, "geocube-consolidater"),
    geocubeAutoscaler: named(NS.geocube, "geocube-autoscaler"),
    // Kubernetes labels a Job's pods with job-name (the schema Job's template has no labels of its own).
    geocubeSchema: pods(NS.geocube, { "job-name": "geocube-schema" }),
    argoController: named(NS.argo, "argo-workflows-workflow-controller"),
    argoServer: named(NS.argo, "argo-workflows-server"),
    argoCrdInstall: named(NS.argo, "argo-workflows-crd-install"),
    // Issue 17 SSO (oauth2-proxy 10.7.0 chart, in Keycloak's namespace: selector labels app.kubernetes.io/name; --http-address :4180).
    oauth2Proxy: named(NS.keycloak, "oauth2-proxy"),
    // The keycloak-config-cli Job reconciling the realm (platform/auth/realm-sync.ts labels).
    realmSync: named(NS.keycloak, "keycloak-realm-sync"),
    // Issue 14: the CNPG-I Barman Cloud plugin (plugin-barman-cloud 0.7.0, gRPC on 9090) and the MinIO mirror CronJob.
    barmanCloud: named(NS.cnpg, "plugin-barman-cloud"),
    minioMirror: named(NS.minio, "minio-mirror"),
    // Issue 15: the Job seeding the example's sample data.
    sparkSeed: pods(NS.spark, { "job-name": "seed-sample-data" }),
    // Issue 18: Loki (loki 18.11.0, monolithic, HTTP 3100) and Alloy (alloy 1.11.1, listenPort 12345).
    loki: named(LOGGING_NAMESPACE, "loki"),
    alloy: named(LOGGING_NAMESPACE, "alloy"),
} satisfies Record<string, Pods>;

/** Every pod of every per-user executor namespace (the hub creates them; none is governed here). */
export const NOTEBOOK_EXECUTORS: Pods = { namespace: NOTEBOOK_EXECUTOR_NAMESPACES, namespaces: { matchLabels: NOTEBOOK_EXECUTOR_NAMESPACE_LABEL } };

// Helpers for the common needs; each returns one flow.
export const flow = (name: string, from: Endpoint, to: Endpoint, ports: PortSpec[], why: string): Flow => ({ name, from, to, ports, why });
/** An Ingress backend: Traefik routes to the pods' port directly (it reads the Service's endpoints). */
export const fromTraefik = (name: string, to: Pods, port: number, why: string) => flow(`traefik-to-${name}`, PODS.traefik, to, tcp(port), why);
export const toPostgres = (name: string, from: Pods, why: string) => flow(`${name}-to-postgres`, from, PODS.postgres, tcp(5432), why);
export const toMinio = (name: string, from: Pods, why: string) => flow(`${name}-to-minio`, from, PODS.minio, tcp(9000), why);
export const scrape = (name: string, to: Pods, ports: number[], why = "metrics") => flow(`prometheus-to-${name}`, PODS.prometheus, to, tcp(...ports), why);
/** Admission (or conversion) webhook calls from the API server, which runs on the servers' host network. */
export const fromApiServer = (name: string, to: Pods, port: number, why: string) => flow(`apiserver-to-${name}`, HOSTS, to, tcp(port), why);

export interface FlowContext {
    /** Every namespace the platform creates: each gets its DNS flow. */
    namespaces: string[];
    apps: AppName[];
    /** The VMs' network (OpenStack networkCidr, AWS vpcCidr). */
    nodeCidr: string;
}

/**
 * Every flow the platform and its enabled apps need. Per namespace: DNS and
 * the API server for every pod (flows named `<namespace>-dns`,
 * `<namespace>-apiserver`) where the namespace's pods talk to Kubernetes.
 * The world on 443 (`toWorld`) is for named pods only: ACME, the OIDC
 * back-channel through auth.<domain>'s public address, downloads.
 */
export function platformFlows(ctx: FlowContext): Flow[] {
    const on = (app: AppName) => ctx.apps.includes(app);
    const api = apiServer(ctx.nodeCidr);
    const toApi = (name: string, from: Pods, why: string) => flow(`${name}-apiserver`, from, api, API_SERVER_PORTS, why);
    const toWorld = (name: string, from: Pods, ports: number[], why: string) => flow(`${name}-to-world`, from, world(ctx.nodeCidr), tcp(...ports), why);
    const keycloak = (name: string, from: Pods) =>
        toWorld(`${name}-oidc`, from, [443], "OIDC back-channel (discovery, token, userinfo) to https://auth.<domain>, the ingress nodes' public address");

    const has = (ns: string) => ctx.namespaces.includes(ns);
    // Spark drivers' UI port, where PrometheusServlet serves the driver's and executors' metrics (platform/observability/monitors.ts).
    const sparkScrape = (ns: string) =>
        scrape(`spark-pods-${ns}`, pods(ns, { "spark-role": "driver" }), [SPARK_UI_PORT.port], "Spark metrics (PrometheusServlet on the driver's UI)");
    const flows: Flow[] = ctx.namespaces.map((ns) => flow(`${ns}-dns`, pods(ns), KUBE_DNS, DNS_PORTS, "name resolution (CoreDNS)"));

    flows.push(
        // Traefik: the only entry from outside; its pods listen on 8000/8443 behind host ports 80/443 (CNI portmap DNAT keeps the client's address).
        flow("world-to-traefik", ANYWHERE, PODS.traefik, tcp(8000, 8443), "HTTP and HTTPS from clients, through the ingress nodes' host ports"),
        toApi("traefik", PODS.traefik, "watches Ingresses, Services, EndpointSlices, Middlewares"),
        scrape("traefik", PODS.traefik, [9100]),
        // HTTP-01: the ACME server reaches cert-manager's solver pod in the Ingress's namespace through Traefik (cert-manager
        // pkg/apis/acme/v1/types.go SolverIdentificationLabelKey; pkg/issuer/acme/http/http.go acmeSolverListenPort 8089).
        ...[NS.keycloak, NS.monitoring, NS.longhorn, NS.minio, ...(["jupyterhub", "spark", "openeo", "argo"] as AppName[]).filter(on).map((a) => NS[a])].map(
            (ns) =>
                fromTraefik(
                    `acme-solver-${ns}`,
                    pods(ns, { "acme.cert-manager.io/http01-solver": "true" }),
                    8089,
                    "ACME HTTP-01 challenge answered by cert-manager's solver pod",
                ),
        ),

        // cert-manager.
        toApi("cert-manager", pods(NS.certManager), "controller, cainjector, webhook and startupapicheck use the API"),
        toWorld(
            "cert-manager-acme",
            PODS.certManagerController,
            [443, 80],
            "ACME (Let's Encrypt) on 443; the HTTP-01 self-check fetches http://<host>/.well-known/ on 80",
        ),
        fromApiServer("cert-manager-webhook", PODS.certManagerWebhook, 10250, "admission webhook (cert-manager resources)"),
        scrape("cert-manager", pods(NS.certManager), [9402]),

        // Longhorn: the chart's own policies (networkPolicies.*, platform/longhorn.ts) restrict ingress among its pods; ours add what comes from outside.
        toApi("longhorn", pods(NS.longhorn), "manager, driver deployer, CSI sidecars use the API"),
        // Egress only: the chart's ingress policies say which Longhorn component may reach which (an ingress rule of ours would widen them).
        {
            ...flow(
                "longhorn-internal",
                pods(NS.longhorn),
                pods(NS.longhorn),
                [],
                "manager, instance managers, CSI plugin, share managers and UI talk to each other",
            ),
            only: "egress",
        },
        flow(
            "longhorn-manager-to-share-manager",
            PODS.longhornManager,
            PODS.longhornShareManager,
            [],
            "the manager drives each share manager (no chart policy covers share managers)",
        ),
        fromTraefik("longhorn-ui", PODS.longhornUi, 8000, "Longhorn UI"),
        scrape("longhorn-manager", PODS.longhornManager, [9500], "metrics (/metrics on the manager's API port)"),
        flow("hosts-to-longhorn-share-manager", HOSTS, PODS.longhornShareManager, tcp(2049), "the nodes' NFS client mounts RWX volumes (Geocube's storage)"),

        // MinIO.
        fromTraefik("minio-console", PODS.minio, 9001, "MinIO console"),
        toMinio("minio-job", PODS.minioJob, "post-install Job creates buckets, users and policies"),
        keycloak("minio", PODS.minio),
        scrape("minio", PODS.minio, [9000]),

        // CloudNativePG: the operator and the cluster.
        toApi("cnpg", pods(NS.cnpg), "operator"),
        fromApiServer("cnpg-webhook", PODS.cnpgOperator, 9443, "admission webhooks (Cluster, Database, Backup, ...)"),
        flow("cnpg-to-postgres-status", PODS.cnpgOperator, PODS.postgres, tcp(8000), "operator reads each instance manager's status"),
        scrape("cnpg", PODS.cnpgOperator, [8080]),
        toApi("postgres", pods(NS.postgres), "instance managers and bootstrap Jobs use the API"),
        flow("postgres-replication", PODS.postgres, PODS.postgres, tcp(5432, 8000), "streaming replication and instance-manager calls between instances"),
        scrape("postgres", PODS.postgres, [9187]),

        // Keycloak.
        fromTraefik("keycloak", PODS.keycloak, 8080, "Keycloak (realm login, admin console)"),
        toPostgres("keycloak", PODS.keycloak, "Keycloak's database"),
        scrape("keycloak", PODS.keycloak, [9000], "metrics on the management port"),

        // kube-prometheus-stack.
        toApi("monitoring", pods(NS.monitoring), "Prometheus discovery, operator, kube-state-metrics, Grafana sidecars, admission Jobs"),
        fromApiServer("prometheus-operator-webhook", PODS.prometheusOperator, 10250, "admission webhook (PrometheusRule, AlertmanagerConfig)"),
        fromTraefik("grafana", PODS.grafana, 3000, "Grafana"),
        keycloak("grafana", PODS.grafana),
        flow("grafana-to-prometheus", PODS.grafana, PODS.prometheus, tcp(9090), "Grafana's data source"),
        flow("grafana-to-alertmanager", PODS.grafana, PODS.alertmanager, tcp(9093), "Grafana's Alertmanager data source"),
        flow(
            "prometheus-to-nodes",
            PODS.prometheus,
            nodes(ctx.nodeCidr),
            tcp(9100, 10250, 6443),
            "node exporter (host network), kubelet and cAdvisor, API server metrics",
        ),
        flow("prometheus-to-coredns", PODS.prometheus, KUBE_DNS, tcp(9153), "CoreDNS metrics"),
        scrape("kube-state-metrics", PODS.kubeStateMetrics, [8080]),
        scrape("prometheus-operator", PODS.prometheusOperator, [10250]),
        scrape("alertmanager", PODS.alertmanager, [9093, 8080], "alerts, and metrics of Alertmanager and its config reloader"),
        // prometheus-operator v0.93.0 pkg/alertmanager/statefulset.go: --cluster.listen-address and --cluster.peer on 9094, TCP and UDP gossip.
        flow(
            "alertmanager-mesh",
            PODS.alertmanager,
            PODS.alertmanager,
            [...tcp(9094), { protocol: "UDP", port: 9094 }],
            "replicas gossip silences and the notification log, so each alert is sent once",
        ),
        scrape("grafana", PODS.grafana, [3000]),
        toWorld(
            "alertmanager",
            PODS.alertmanager,
            [ALERT_RECEIVER_PORTS.https, ...ALERT_RECEIVER_PORTS.smtp],
            "receivers: webhooks and chat over HTTPS, e-mail over SMTP submission",
        ),

        // SSO gate and realm reconciliation (issue 17 items 2-3).
        fromTraefik("oauth2-proxy", PODS.oauth2Proxy, 4180, "forward auth of every gated Ingress, and the gate's own /oauth2/ routes"),
        keycloak("oauth2-proxy", PODS.oauth2Proxy),
        flow(
            "keycloak-realm-sync",
            PODS.realmSync,
            PODS.keycloak,
            tcp(8080),
            "keycloak-config-cli reconciles the realm through Keycloak's Service (port 80 to 8080)",
        ),

        // Backups outside the cluster (issue 14): the stack's bucket is public S3 or Swift's S3 endpoint.
        toWorld("longhorn-backups", pods(NS.longhorn), [443], "volume backups to the stack's external bucket"),
        toWorld("postgres-backups", PODS.postgres, [443], "Barman Cloud base backups and WAL to the stack's external bucket"),
        flow("cnpg-to-barman-cloud", PODS.cnpgOperator, PODS.barmanCloud, tcp(9090), "the operator calls the Barman Cloud plugin (CNPG-I over TLS)"),
        toMinio("minio-mirror", PODS.minioMirror, "the mirror CronJob reads every app bucket"),
        toWorld("minio-mirror", PODS.minioMirror, [443], "and copies it to the stack's external bucket"),
    );

    if (on("jupyterhub")) {
        // z2jh 4.4.0 ships policies of its own for hub, proxy and singleuser (broader: the hub may reach every private address);
        // these repeat what those pods need so the namespace works with or without them.
        flows.push(
            fromTraefik("jupyterhub-proxy", PODS.proxy, 8000, "JupyterHub (configurable-http-proxy)"),
            flow("jupyterhub-proxy-to-hub", PODS.proxy, PODS.hub, tcp(8081), "proxy forwards /hub to the hub"),
            flow("jupyterhub-hub-to-proxy", PODS.hub, PODS.proxy, tcp(8001), "hub configures routes on the proxy's API"),
            flow("jupyterhub-proxy-to-singleuser", PODS.proxy, PODS.singleuser, tcp(8888), "proxy forwards /user/<name> to the notebook"),
            flow("jupyterhub-hub-to-singleuser", PODS.hub, PODS.singleuser, tcp(8888), "hub checks the notebook servers"),
            flow(
                "jupyterhub-singleuser-to-hub",
                PODS.singleuser,
                PODS.hub,
                tcp(8081),
                "notebook servers report activity and authenticate users through the hub API",
            ),
            toApi("jupyterhub-hub", PODS.hub, "KubeSpawner creates users' pods and volumes"),
            toApi("jupyterhub-user-scheduler", PODS.userScheduler, "the user scheduler binds user pods"),
            toApi("jupyterhub-image-awaiter", PODS.imageAwaiter, "the pre-puller hook waits for its DaemonSet"),
            toPostgres("jupyterhub", PODS.hub, "the hub's database"),
            keycloak("jupyterhub", PODS.hub),
            scrape("jupyterhub-hub", PODS.hub, [8081], "metrics at /hub/metrics"),
            toMinio("jupyterhub-singleuser", PODS.singleuser, "notebooks read and write the notebooks bucket"),
            toWorld("jupyterhub-singleuser", PODS.singleuser, [443], "notebooks install packages (PyPI, conda-forge) and read public data"),
        );
        if (on("geocube")) flows.push(flow("jupyterhub-to-geocube", PODS.singleuser, PODS.geocubeApiserver, tcp(8080), "notebooks call Geocube's gRPC API"));
    }

    if (on("spark")) {
        flows.push(
            toApi("spark", pods(NS.spark), "operator controller and webhook, hook Job, drivers create executors"),
            fromApiServer("spark-operator-webhook", PODS.sparkOperatorWebhook, 9443, "admission webhooks (SparkApplication, driver and executor pods)"),
            scrape("spark-operator", pods(NS.spark, { "app.kubernetes.io/name": "spark-operator" }), [8080]),
            fromTraefik("spark-history", PODS.sparkHistory, 18080, "Spark History Server"),
            toMinio("spark-history", PODS.sparkHistory, "reads event logs"),
            flow(
                "spark-jobs-internal",
                PODS.sparkJobsInSpark,
                PODS.sparkJobsInSpark,
                [],
                "driver and executors (the example job) talk on Spark's dynamic ports",
            ),
            toMinio("spark-jobs", PODS.sparkJobsInSpark, "jobs read and write their buckets, write event logs"),
            toWorld("spark-jobs", PODS.sparkJobsInSpark, [443], "jobs read public data (HTTPS, S3); Sedona and S3A jars are in the image"),
            sparkScrape(NS.spark),
            toMinio("spark-seed", PODS.sparkSeed, "the seed Job writes the example's sample data"),
        );
    }

    if (ctx.namespaces.includes(NS.processing)) {
        // Users' Spark applications and Argo workflows: any pod here may be a driver, executor or workflow step.
        flows.push(
            toApi("processing", pods(NS.processing), "drivers create executors; Argo's executor reports step results"),
            flow("processing-internal", pods(NS.processing), pods(NS.processing), [], "Spark drivers and executors, workflow steps"),
            toMinio("processing", pods(NS.processing), "jobs' data, Argo artifacts, Spark event logs"),
            toWorld("processing", pods(NS.processing), [443], "packages (Maven Central, PyPI) and public data (HTTPS, S3)"),
            sparkScrape(NS.processing),
        );
        if (on("geocube")) flows.push(flow("processing-to-geocube", pods(NS.processing), PODS.geocubeApiserver, tcp(8080), "jobs call Geocube's gRPC API"));
    }

    if (on("openeo")) {
        flows.push(
            toApi("openeo", pods(NS.openeo), "the driver creates batch-job SparkApplications and pods; the job tracker reads them"),
            flow("openeo-internal", pods(NS.openeo), pods(NS.openeo), [], "driver, executors, batch jobs, job tracker and ZooKeeper"),
            toMinio("openeo", pods(NS.openeo), "results bucket"),
            toWorld("openeo", pods(NS.openeo), [443], "packages, the STAC API and its assets, and the OIDC back-channel to https://auth.<domain>"),
            fromTraefik("openeo", PODS.openeoDriver, 50001, "openEO API"),
            sparkScrape(NS.openeo),
        );
    }

    if (on("geocube")) {
        flows.push(
            ...[
                ["geocube-apiserver", PODS.geocubeApiserver],
                ["geocube-consolidater", PODS.geocubeConsolidater],
                ["geocube-autoscaler", PODS.geocubeAutoscaler],
                ["geocube-schema", PODS.geocubeSchema],
            ].map(([name, from]) => toPostgres(name as string, from as Pods, "Geocube's database and pgqueue")),
            toMinio("geocube-apiserver", PODS.geocubeApiserver, "GDAL reads source datasets"),
            toMinio("geocube-consolidater", PODS.geocubeConsolidater, "GDAL reads source datasets"),
            toApi("geocube-autoscaler", PODS.geocubeAutoscaler, "creates and deletes consolidater pods"),
            flow("geocube-autoscaler-to-consolidater", PODS.geocubeAutoscaler, PODS.geocubeConsolidater, tcp(9000), "asks a worker its termination cost"),
            toWorld("geocube-schema", PODS.geocubeSchema, [443], "fetches the pinned schema SQL from raw.githubusercontent.com"),
        );
    }

    if (on("argo")) {
        flows.push(
            toApi("argo", pods(NS.argo), "controller, server, CRD Job, workflow pods in this namespace"),
            fromTraefik("argo-server", PODS.argoServer, 2746, "Argo Workflows UI and API"),
            keycloak("argo-server", PODS.argoServer),
            toPostgres("argo-controller", PODS.argoController, "workflow archive"),
            toPostgres("argo-server", PODS.argoServer, "reads the workflow archive"),
            toMinio("argo", pods(NS.argo), "artifacts (controller, server, workflow pods)"),
            scrape("argo-controller", PODS.argoController, [9090]),
            // argo-workflows 1.0.18 templates/crds-install-job.yaml: crdBaseURL defaults to raw.githubusercontent.com/argoproj/argo-helm.
            toWorld("argo-crd-install", PODS.argoCrdInstall, [443], "the pre-install hook Job downloads the full CRDs from GitHub"),
        );
    }
    if (on("jupyterhub")) {
        // Client-mode Spark from notebooks (issue 15): the kernel is the driver (ports fixed at 7078/7079), executors run
        // in the user's own namespace, which the hub creates with its own policies (apps/notebook-executors.ts): here
        // only the notebooks' side. Any executor namespace may call any notebook's driver ports: the executors' egress
        // (the hub's, per user) reaches their own user's notebook only, and the driver refuses a peer without the
        // application's secret (spark.authenticate).
        flows.push(
            toApi("jupyterhub-singleuser", PODS.singleuser, "the notebook's driver creates and watches its executor pods"),
            flow("jupyterhub-to-notebook-executors", PODS.singleuser, NOTEBOOK_EXECUTORS, tcp(7079), "the driver fetches blocks from its executors"),
            flow(
                "notebook-executors-to-jupyterhub",
                NOTEBOOK_EXECUTORS,
                PODS.singleuser,
                tcp(7078, 7079),
                "executors call their driver back (RPC, block manager)",
            ),
            toMinio("notebook-executors", NOTEBOOK_EXECUTORS, "executors read and write the user's buckets"),
            toMinio("jupyterhub-hub-sts", PODS.hub, "the hub's pre-spawn hook asks MinIO's STS for the user's temporary credentials"),
        );
    }

    if (has(LOGGING_NAMESPACE)) {
        // Logs (issue 18): Alloy on every node tails pods through the API and pushes to Loki, which keeps chunks in MinIO.
        flows.push(
            toApi("logging", pods(LOGGING_NAMESPACE), "Alloy discovers pods and tails their logs through the API"),
            flow("logging-internal", pods(LOGGING_NAMESPACE), pods(LOGGING_NAMESPACE), [], "Alloy pushes to Loki; Loki's own components and caches"),
            flow("grafana-to-loki", PODS.grafana, PODS.loki, tcp(3100), "Grafana's Loki data source"),
            toMinio("loki", PODS.loki, "chunks and index in Loki's bucket"),
            scrape("loki", PODS.loki, [3100]),
            scrape("alloy", PODS.alloy, [12345]),
        );
    }
    return flows;
}

/** The model of a platform: the namespaces it creates, the flows above and any `extra`. */
export function platformModel(ctx: FlowContext, extra: Flow[] = []): NetworkModel {
    const model = new NetworkModel(ctx.namespaces, [KUBE_DNS.namespace, NOTEBOOK_EXECUTORS.namespace]);
    for (const f of [...platformFlows(ctx), ...extra]) model.allow(f);
    return model;
}
