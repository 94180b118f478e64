import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { platformModel } from "../platform/network";
import { PODS } from "../platform/network/flows";
import { NetworkModel, tcp } from "../platform/network/model";
import { HOST_TUNNEL_ADDRESSES } from "../platform/network/peers";
import { End, evaluate, PolicyObject, selects } from "./harness/netpol";
import { RecordedResource, sharedStackRuns, StackRun } from "./harness/run-stack";
import { rawGeoplatformConfig, REPO_ROOT, STACKS } from "./harness/stack-config";
import { validateConfig } from "../config/validate";
import { executorNetworkPolicies, TOKENS } from "../apps/notebook-executors";

const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const policiesOf = (run: StackRun): PolicyObject[] =>
    run.resources.filter((r) => r.type === NETPOL).map((r) => ({ namespace: r.inputs.metadata.namespace, name: r.inputs.metadata.name, spec: r.inputs.spec }));
const namespacesOf = (run: StackRun) => run.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace").map((r) => r.inputs.metadata.name as string);

// Pods as the charts and manifests label them (labels copied from the rendered charts, not from platform/network/flows.ts).
const pod = (namespace: string, labels: Record<string, string>, ip = "10.42.3.17"): End => ({ namespace, labels, ip });
const P = {
    traefik: pod("traefik", { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-traefik" }),
    keycloak: pod("keycloak", { "app.kubernetes.io/name": "keycloakx", "app.kubernetes.io/instance": "keycloak" }),
    grafana: pod("monitoring", { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "monitoring" }),
    prometheus: pod("monitoring", { "app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": "monitoring-kube-prometheus-prometheus" }),
    alertmanager: pod("monitoring", { "app.kubernetes.io/name": "alertmanager" }),
    promOperator: pod("monitoring", { app: "kube-prometheus-stack-operator", "app.kubernetes.io/name": "kube-prometheus-stack-prometheus-operator" }),
    postgres: pod("postgres", { "cnpg.io/cluster": "geoplatform-pg", "cnpg.io/instanceRole": "primary" }),
    cnpg: pod("cnpg-system", { "app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": "cloudnative-pg" }),
    minio: pod("minio", { app: "minio", release: "minio" }),
    certManager: pod("cert-manager", { "app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller" }),
    certWebhook: pod("cert-manager", { "app.kubernetes.io/name": "webhook", "app.kubernetes.io/component": "webhook" }),
    longhornManager: pod("longhorn-system", { app: "longhorn-manager" }),
    longhornUi: pod("longhorn-system", { app: "longhorn-ui" }),
    shareManager: pod("longhorn-system", { "longhorn.io/component": "share-manager" }),
    hub: pod("jupyterhub", { component: "hub", app: "jupyterhub", release: "jupyterhub" }),
    proxy: pod("jupyterhub", { component: "proxy", app: "jupyterhub", release: "jupyterhub" }),
    notebook: pod("jupyterhub", { component: "singleuser-server", app: "jupyterhub", release: "jupyterhub" }),
    sparkHistory: pod("spark", { "app.kubernetes.io/name": "spark-history" }),
    sparkWebhook: pod("spark", { "app.kubernetes.io/name": "spark-operator", "app.kubernetes.io/component": "webhook" }),
    driver: pod("processing", { "spark-role": "driver" }),
    executor: pod("processing", { "spark-role": "executor" }, "10.42.4.9"),
    zookeeper: pod("openeo", { "app.kubernetes.io/name": "zookeeper" }),
    openeoDriver: pod("openeo", { "app.kubernetes.io/name": "openeo-driver", "spark-role": "driver" }),
    geocubeApi: pod("geocube", { "app.kubernetes.io/name": "geocube-apiserver" }),
    geocubeWorker: pod("geocube", { "app.kubernetes.io/name": "geocube-consolidater" }),
    argoServer: pod("argo", { "app.kubernetes.io/name": "argo-workflows-server" }),
    argoController: pod("argo", { "app.kubernetes.io/name": "argo-workflows-workflow-controller" }),
};
/** A pod of a namespace the platform does not police (K3s's kube-system, or one an admin creates): its egress is open. */
const STRANGER: End = pod("default", { app: "anything" }, "10.42.8.40");
const COREDNS: End = pod("kube-system", { "k8s-app": "kube-dns" });
const WORLD = (ip = "198.51.100.20"): End => ({ ip });
const SERVER = (run: StackRun): End => ({ ip: run.stack === "dev" ? "10.10.1.10" : "10.20.1.10" });
/** Another node's host network, as a pod sees it: its flannel VXLAN address. */
const REMOTE_HOST: End = { ip: "10.42.5.0" };

/** Flows that must pass, and the one egress and one ingress policy that must pass each ("-": no policy of ours on that side). */
type Case = [string, End | ((run: StackRun) => End), End | ((run: StackRun) => End), number, "TCP" | "UDP", string, string];
const ALLOWED: Case[] = [
    ["a client on the internet reaches Traefik's websecure port", WORLD(), P.traefik, 8443, "TCP", "-", "traefik/ingress-world-to-traefik"],
    ["Traefik routes to Keycloak", P.traefik, P.keycloak, 8080, "TCP", "traefik/egress-traefik-to-keycloak", "keycloak/ingress-traefik-to-keycloak"],
    ["Traefik routes to Grafana", P.traefik, P.grafana, 3000, "TCP", "traefik/egress-traefik-to-grafana", "monitoring/ingress-traefik-to-grafana"],
    [
        "Traefik routes to the Longhorn UI",
        P.traefik,
        P.longhornUi,
        8000,
        "TCP",
        "traefik/egress-traefik-to-longhorn-ui",
        "longhorn-system/ingress-traefik-to-longhorn-ui",
    ],
    [
        "Traefik routes to JupyterHub's proxy",
        P.traefik,
        P.proxy,
        8000,
        "TCP",
        "traefik/egress-traefik-to-jupyterhub-proxy",
        "jupyterhub/ingress-traefik-to-jupyterhub-proxy",
    ],
    [
        "Traefik routes to the Spark History Server",
        P.traefik,
        P.sparkHistory,
        18080,
        "TCP",
        "traefik/egress-traefik-to-spark-history",
        "spark/ingress-traefik-to-spark-history",
    ],
    ["Traefik routes to openEO", P.traefik, P.openeoDriver, 50001, "TCP", "traefik/egress-traefik-to-openeo", "openeo/ingress-traefik-to-openeo"],
    ["Traefik routes to Argo", P.traefik, P.argoServer, 2746, "TCP", "traefik/egress-traefik-to-argo-server", "argo/ingress-traefik-to-argo-server"],
    [
        "Traefik routes to an ACME solver in keycloak",
        P.traefik,
        pod("keycloak", { "acme.cert-manager.io/http01-solver": "true" }),
        8089,
        "TCP",
        "traefik/egress-traefik-to-acme-solver-keycloak",
        "keycloak/ingress-traefik-to-acme-solver-keycloak",
    ],
    ["Keycloak uses PostgreSQL", P.keycloak, P.postgres, 5432, "TCP", "keycloak/egress-keycloak-to-postgres", "postgres/ingress-keycloak-to-postgres"],
    ["the hub uses PostgreSQL", P.hub, P.postgres, 5432, "TCP", "jupyterhub/egress-jupyterhub-to-postgres", "postgres/ingress-jupyterhub-to-postgres"],
    [
        "Geocube's API uses PostgreSQL",
        P.geocubeApi,
        P.postgres,
        5432,
        "TCP",
        "geocube/egress-geocube-apiserver-to-postgres",
        "postgres/ingress-geocube-apiserver-to-postgres",
    ],
    [
        "Argo's controller archives in PostgreSQL",
        P.argoController,
        P.postgres,
        5432,
        "TCP",
        "argo/egress-argo-controller-to-postgres",
        "postgres/ingress-argo-controller-to-postgres",
    ],
    [
        "a notebook uses MinIO",
        P.notebook,
        P.minio,
        9000,
        "TCP",
        "jupyterhub/egress-jupyterhub-singleuser-to-minio",
        "minio/ingress-jupyterhub-singleuser-to-minio",
    ],
    ["a Spark driver in processing uses MinIO", P.driver, P.minio, 9000, "TCP", "processing/egress-processing-to-minio", "minio/ingress-processing-to-minio"],
    ["a driver reaches its executor", P.driver, P.executor, 37011, "TCP", "processing/egress-processing-internal", "processing/ingress-processing-internal"],
    ["openEO's driver uses ZooKeeper", P.openeoDriver, P.zookeeper, 2181, "TCP", "openeo/egress-openeo-internal", "openeo/ingress-openeo-internal"],
    ["a notebook calls Geocube", P.notebook, P.geocubeApi, 8080, "TCP", "jupyterhub/egress-jupyterhub-to-geocube", "geocube/ingress-jupyterhub-to-geocube"],
    [
        "Prometheus scrapes the Longhorn manager",
        P.prometheus,
        P.longhornManager,
        9500,
        "TCP",
        "monitoring/egress-prometheus-to-longhorn-manager",
        "longhorn-system/ingress-prometheus-to-longhorn-manager",
    ],
    [
        "Prometheus scrapes PostgreSQL",
        P.prometheus,
        P.postgres,
        9187,
        "TCP",
        "monitoring/egress-prometheus-to-postgres",
        "postgres/ingress-prometheus-to-postgres",
    ],
    ["Prometheus scrapes Traefik", P.prometheus, P.traefik, 9100, "TCP", "monitoring/egress-prometheus-to-traefik", "traefik/ingress-prometheus-to-traefik"],
    ["Prometheus scrapes a kubelet", P.prometheus, SERVER, 10250, "TCP", "monitoring/egress-prometheus-to-nodes", "-"],
    ["Grafana queries Prometheus", P.grafana, P.prometheus, 9090, "TCP", "monitoring/egress-grafana-to-prometheus", "monitoring/ingress-grafana-to-prometheus"],
    ["a Spark driver resolves a name", P.driver, COREDNS, 53, "UDP", "processing/egress-processing-dns", "-"],
    ["Keycloak resolves a name over TCP", P.keycloak, COREDNS, 53, "TCP", "keycloak/egress-keycloak-dns", "-"],
    ["a Spark driver creates executors through the API server", P.driver, SERVER, 6443, "TCP", "processing/egress-processing-apiserver", "-"],
    ["Traefik watches the API server", P.traefik, SERVER, 6443, "TCP", "traefik/egress-traefik-apiserver", "-"],
    ["the hub spawns through the API server", P.hub, SERVER, 6443, "TCP", "jupyterhub/egress-jupyterhub-hub-apiserver", "-"],
    // Issue 15: a notebook's kernel is a client-mode Spark driver that creates its executor pods.
    [
        "a notebook's Spark driver creates executors through the API server",
        P.notebook,
        SERVER,
        6443,
        "TCP",
        "jupyterhub/egress-jupyterhub-singleuser-apiserver",
        "-",
    ],
    ["Grafana's OIDC back-channel to auth.<domain>", P.grafana, WORLD("203.0.113.80"), 443, "TCP", "monitoring/egress-grafana-oidc-to-world", "-"],
    ["the hub's OIDC back-channel", P.hub, WORLD("203.0.113.80"), 443, "TCP", "jupyterhub/egress-jupyterhub-oidc-to-world", "-"],
    ["cert-manager talks ACME", P.certManager, WORLD("172.65.32.248"), 443, "TCP", "cert-manager/egress-cert-manager-acme-to-world", "-"],
    [
        "the API server calls cert-manager's webhook from another node",
        REMOTE_HOST,
        P.certWebhook,
        10250,
        "TCP",
        "-",
        "cert-manager/ingress-apiserver-to-cert-manager-webhook",
    ],
    ["the API server calls CNPG's webhook from another node", REMOTE_HOST, P.cnpg, 9443, "TCP", "-", "cnpg-system/ingress-apiserver-to-cnpg-webhook"],
    ["the API server calls the Spark operator's webhook", REMOTE_HOST, P.sparkWebhook, 9443, "TCP", "-", "spark/ingress-apiserver-to-spark-operator-webhook"],
    [
        "the API server calls the Prometheus operator's webhook",
        REMOTE_HOST,
        P.promOperator,
        10250,
        "TCP",
        "-",
        "monitoring/ingress-apiserver-to-prometheus-operator-webhook",
    ],
    [
        "Traefik asks oauth2-proxy (forward auth)",
        P.traefik,
        pod("keycloak", { "app.kubernetes.io/name": "oauth2-proxy", "app.kubernetes.io/instance": "oauth2-proxy" }),
        4180,
        "TCP",
        "traefik/egress-traefik-to-oauth2-proxy",
        "keycloak/ingress-traefik-to-oauth2-proxy",
    ],
    [
        "the realm Job calls Keycloak's admin API",
        pod("keycloak", { "app.kubernetes.io/name": "keycloak-realm-sync" }),
        P.keycloak,
        8080,
        "TCP",
        "keycloak/egress-keycloak-realm-sync",
        "keycloak/ingress-keycloak-realm-sync",
    ],
    ["Alertmanager mails a receiver", P.alertmanager, WORLD(), 587, "TCP", "monitoring/egress-alertmanager-to-world", "-"],
    ["PostgreSQL archives WAL to the external bucket", P.postgres, WORLD("52.95.110.1"), 443, "TCP", "postgres/egress-postgres-backups-to-world", "-"],
    [
        "CNPG calls the Barman Cloud plugin",
        P.cnpg,
        pod("cnpg-system", { "app.kubernetes.io/name": "plugin-barman-cloud" }),
        9090,
        "TCP",
        "cnpg-system/egress-cnpg-to-barman-cloud",
        "cnpg-system/ingress-cnpg-to-barman-cloud",
    ],
    [
        "Prometheus scrapes a Spark driver's UI",
        P.prometheus,
        P.driver,
        4040,
        "TCP",
        "monitoring/egress-prometheus-to-spark-pods-processing",
        "processing/ingress-prometheus-to-spark-pods-processing",
    ],
    [
        "Prometheus scrapes the hub",
        P.prometheus,
        P.hub,
        8081,
        "TCP",
        "monitoring/egress-prometheus-to-jupyterhub-hub",
        "jupyterhub/ingress-prometheus-to-jupyterhub-hub",
    ],
    [
        "the seed Job writes sample data",
        pod("spark", { "job-name": "seed-sample-data" }),
        P.minio,
        9000,
        "TCP",
        "spark/egress-spark-seed-to-minio",
        "minio/ingress-spark-seed-to-minio",
    ],
    ["a node mounts a Longhorn RWX volume over NFS", REMOTE_HOST, P.shareManager, 2049, "TCP", "-", "longhorn-system/ingress-hosts-to-longhorn-share-manager"],
];

/** Flows that must not pass. */
const DENIED: [string, End | ((run: StackRun) => End), End | ((run: StackRun) => End), number, "TCP" | "UDP"][] = [
    ["a Spark job to the Longhorn manager API", P.driver, P.longhornManager, 9500, "TCP"],
    ["a notebook to the Longhorn manager API", P.notebook, P.longhornManager, 9500, "TCP"],
    ["a notebook to Prometheus", P.notebook, P.prometheus, 9090, "TCP"],
    ["a Spark job to Alertmanager", P.driver, P.alertmanager, 9093, "TCP"],
    ["a Spark job to openEO's ZooKeeper", P.driver, P.zookeeper, 2181, "TCP"],
    ["a notebook to openEO's ZooKeeper", P.notebook, P.zookeeper, 2181, "TCP"],
    ["a Spark job to PostgreSQL", P.driver, P.postgres, 5432, "TCP"],
    ["a notebook to PostgreSQL", P.notebook, P.postgres, 5432, "TCP"],
    ["Traefik to PostgreSQL", P.traefik, P.postgres, 5432, "TCP"],
    ["a notebook to Keycloak's pod, around Traefik", P.notebook, P.keycloak, 8080, "TCP"],
    ["a pod (not a host) to cert-manager's webhook", P.notebook, P.certWebhook, 10250, "TCP"],
    ["a pod (not a host) to CNPG's webhook", P.driver, P.cnpg, 9443, "TCP"],
    ["a Spark job to the instance metadata service", P.driver, WORLD("169.254.169.254"), 80, "TCP"],
    ["a notebook to the kubelet", P.notebook, SERVER, 10250, "TCP"],
    ["Keycloak to the world on 22", P.keycloak, WORLD(), 22, "TCP"],
    ["PostgreSQL to the world but HTTPS", P.postgres, WORLD(), 80, "TCP"],
    ["the internet to Keycloak's pod", WORLD(), P.keycloak, 8080, "TCP"],
    ["the internet to MinIO's S3 port", WORLD(), P.minio, 9000, "TCP"],
    // Backups leave the cluster (issue 14): neither PostgreSQL nor Longhorn writes to MinIO any more.
    ["PostgreSQL to MinIO", P.postgres, P.minio, 9000, "TCP"],
    ["Longhorn's manager to MinIO", P.longhornManager, P.minio, 9000, "TCP"],
    ["Geocube's workers from a Spark job", P.driver, P.geocubeWorker, 9000, "TCP"],
    ["a notebook to oauth2-proxy, around Traefik", P.notebook, pod("keycloak", { "app.kubernetes.io/name": "oauth2-proxy" }), 4180, "TCP"],
    ["a Spark job to the Barman Cloud plugin", P.driver, pod("cnpg-system", { "app.kubernetes.io/name": "plugin-barman-cloud" }), 9090, "TCP"],
    ["Alertmanager to the world on 22", P.alertmanager, WORLD(), 22, "TCP"],
    // From a pod of a namespace the platform does not police (open egress): only the destination's ingress decides.
    ["any pod to the Longhorn manager API", STRANGER, P.longhornManager, 9500, "TCP"],
    ["any pod to Prometheus", STRANGER, P.prometheus, 9090, "TCP"],
    ["any pod to Alertmanager", STRANGER, P.alertmanager, 9093, "TCP"],
    ["any pod to ZooKeeper", STRANGER, P.zookeeper, 2181, "TCP"],
    ["any pod to PostgreSQL", STRANGER, P.postgres, 5432, "TCP"],
    ["any pod to MinIO", STRANGER, P.minio, 9000, "TCP"],
    ["any pod to Geocube", STRANGER, P.geocubeApi, 8080, "TCP"],
    ["any pod to cert-manager's webhook", STRANGER, P.certWebhook, 10250, "TCP"],
    ["any pod to the hub", STRANGER, P.hub, 8081, "TCP"],
    ["any pod to a Spark executor", STRANGER, P.executor, 37011, "TCP"],
    // A pod no ingress flow names: only the namespace's default-deny stops this.
    ["any pod to Geocube's autoscaler", STRANGER, pod("geocube", { "app.kubernetes.io/name": "geocube-autoscaler" }), 8080, "TCP"],
    // A pod no flow names at all: only the namespace's default-deny stops it.
    ["JupyterHub's image puller to the world", pod("jupyterhub", { component: "continuous-image-puller", app: "jupyterhub" }), WORLD(), 443, "TCP"],
    ["JupyterHub's image puller to MinIO", pod("jupyterhub", { component: "continuous-image-puller", app: "jupyterhub" }), P.minio, 9000, "TCP"],
];

const resolve = (end: End | ((run: StackRun) => End), run: StackRun) => (typeof end === "function" ? end(run) : end);
const one = (v: string[] | "unrestricted") => (v === "unrestricted" ? "-" : v.join(","));

describe("network policies", () => {
    const runOf = sharedStackRuns();

    for (const stack of STACKS) {
        it(`${stack}: every namespace the program creates has a default-deny of all ingress and egress, and policies only in those namespaces`, () => {
            const run = runOf(stack);
            const namespaces = namespacesOf(run);
            assert.ok(namespaces.length >= 14, namespaces.join(","));
            const policies = policiesOf(run);
            for (const ns of namespaces) {
                const deny = policies.filter((p) => p.namespace === ns && p.name === "default-deny");
                assert.strictEqual(deny.length, 1, ns);
                assert.deepStrictEqual(deny[0].spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] }, ns);
            }
            assert.deepStrictEqual([...new Set(policies.map((p) => p.namespace))].sort(), [...namespaces].sort());
        });

        it(`${stack}: each flow a component needs passes, by exactly the policies written for it`, () => {
            const run = runOf(stack);
            const policies = policiesOf(run);
            for (const [what, from, to, port, protocol, egress, ingress] of ALLOWED) {
                const v = evaluate(policies, resolve(from, run), resolve(to, run), port, protocol);
                assert.deepStrictEqual([one(v.egress), one(v.ingress)], [egress, ingress], what);
                assert.ok(v.allowed, what);
            }
        });

        it(`${stack}: flows nothing needs are denied`, () => {
            const run = runOf(stack);
            const policies = policiesOf(run);
            for (const [what, from, to, port, protocol] of DENIED)
                assert.strictEqual(evaluate(policies, resolve(from, run), resolve(to, run), port, protocol).allowed, false, what);
        });

        it(`${stack}: the API server on the webhook pod's own node passes kube-router's LOCAL rule, not a policy`, () => {
            const policies = policiesOf(runOf(stack));
            assert.strictEqual(evaluate(policies, { ip: "10.42.3.1", localNode: true }, P.longhornManager, 9502).allowed, true);
            // Without the LOCAL rule the same source is no tunnel address (.1 is cni0's) and is refused.
            assert.strictEqual(evaluate(policies, { ip: "10.42.3.1" }, P.certWebhook, 10250).allowed, false);
        });

        it(`${stack}: the selectors of the pods the program creates itself (not through a chart) pick those pods`, () => {
            const run = runOf(stack);
            const templates = run.resources
                .filter((r: RecordedResource) => r.custom && ["Deployment", "StatefulSet", "ReplicationController"].includes(r.inputs.kind))
                .map((r) => ({
                    namespace: r.inputs.metadata.namespace as string,
                    labels: (r.inputs.spec.template.metadata?.labels ?? {}) as Record<string, string>,
                }));
            for (const key of ["sparkHistory", "zookeeper", "geocubeApiserver", "geocubeConsolidater", "geocubeAutoscaler"] as const) {
                const { namespace, pods } = PODS[key];
                assert.strictEqual(templates.filter((t) => t.namespace === namespace && selects(pods, t.labels)).length, 1, key);
            }
        });
    }

    const base = [
        "traefik",
        "cert-manager",
        "longhorn-system",
        "minio",
        "cnpg-system",
        "postgres",
        "keycloak",
        "monitoring",
        "jupyterhub",
        "spark",
        "processing",
    ];
    it("flows of the namespaces parallel changes add (logs) apply once those namespaces exist; the notebooks' with JupyterHub", () => {
        const model = platformModel({ namespaces: [...base, "logging"], apps: ["jupyterhub", "spark"], nodeCidr: "10.10.0.0/16" });
        const policies = model.policies();
        const alloy = pod("logging", { "app.kubernetes.io/name": "alloy" });
        const loki = pod("logging", { "app.kubernetes.io/name": "loki", "app.kubernetes.io/component": "single-binary" });
        // An executor in a user's namespace (the hub creates it, labelled; apps/notebook-executors.ts writes its own side).
        const executor: End = {
            namespace: "nbx-ada",
            labels: { "spark-role": "executor" },
            namespaceLabels: { "geoplatform.io/notebook-executors": "true" },
            ip: "10.42.6.8",
        };
        const unlabelled: End = { namespace: "nbx-ada", labels: { "spark-role": "executor" }, ip: "10.42.6.8" };
        const allowed: [string, End, End, number, string, string][] = [
            ["Alloy pushes to Loki", alloy, loki, 3100, "logging/egress-logging-internal", "logging/ingress-logging-internal"],
            ["Grafana queries Loki", P.grafana, loki, 3100, "monitoring/egress-grafana-to-loki", "logging/ingress-grafana-to-loki"],
            ["Loki writes chunks to MinIO", loki, P.minio, 9000, "logging/egress-loki-to-minio", "minio/ingress-loki-to-minio"],
            ["Alloy tails logs through the API server", alloy, { ip: "10.10.1.10" }, 6443, "logging/egress-logging-apiserver", "-"],
            ["an executor calls its driver back", executor, P.notebook, 7078, "-", "jupyterhub/ingress-notebook-executors-to-jupyterhub"],
            ["the driver fetches a block", P.notebook, executor, 7079, "jupyterhub/egress-jupyterhub-to-notebook-executors", "-"],
            ["the notebook's driver creates executors", P.notebook, { ip: "10.10.1.10" }, 6443, "jupyterhub/egress-jupyterhub-singleuser-apiserver", "-"],
            ["the hub asks MinIO's STS", P.hub, P.minio, 9000, "jupyterhub/egress-jupyterhub-hub-sts-to-minio", "minio/ingress-jupyterhub-hub-sts-to-minio"],
        ];
        for (const [what, from, to, port, egress, ingress] of allowed) {
            const v = evaluate(policies, from, to, port);
            assert.deepStrictEqual([one(v.egress), one(v.ingress)], [egress, ingress], what);
        }
        for (const [what, from, to, port] of [
            ["an executor to PostgreSQL", executor, P.postgres, 5432],
            ["a Spark job to Loki", P.driver, loki, 3100],
            ["an executor to the notebook's shell port", executor, P.notebook, 8888],
            ["a pod of an unlabelled namespace to the driver", unlabelled, P.notebook, 7078],
            ["Alloy to PostgreSQL", alloy, P.postgres, 5432],
        ] as [string, End, End, number][])
            assert.strictEqual(evaluate(policies, from, to, port).allowed, false, what);
        // Without the logging namespace, none of its flows is written.
        const without = platformModel({ namespaces: base, apps: ["jupyterhub", "spark"], nodeCidr: "10.10.0.0/16" });
        assert.ok(!without.flows.some((f) => /^(logging-|grafana-to-loki|loki-|prometheus-to-(loki|alloy))/.test(f.name)));
    });

    it("a user's executor namespace, with the hub's policies, reaches that user's notebook and no other's", () => {
        const platform = platformModel({ namespaces: base, apps: ["jupyterhub", "spark"], nodeCidr: "10.10.0.0/16" }).policies();
        const config = validateConfig(rawGeoplatformConfig("dev"), "dev");
        const user = (ns: string, label: string) =>
            JSON.parse(JSON.stringify(executorNetworkPolicies(config, "jupyterhub")), (_k, v) =>
                v === TOKENS.namespace ? ns : v === TOKENS.usernameLabel ? label : v,
            ).map((p: any) => ({ ...p, namespace: ns }));
        const policies = [...platform, ...user("nbx-ada", "ada"), ...user("nbx-bob", "bob")];
        const labels = { "geoplatform.io/notebook-executors": "true" };
        const executor = (ns: string): End => ({ namespace: ns, labels: { "spark-role": "executor" }, namespaceLabels: labels, ip: "10.42.6.8" });
        const notebook = (name: string): End => ({
            namespace: "jupyterhub",
            labels: { ...(P.notebook as { labels: Record<string, string> }).labels, "hub.jupyter.org/username": name },
            ip: "10.42.3.9",
        });
        assert.deepStrictEqual(
            [
                one(evaluate(policies, executor("nbx-ada"), notebook("ada"), 7078).egress),
                one(evaluate(policies, executor("nbx-ada"), notebook("ada"), 7078).ingress),
            ],
            ["nbx-ada/egress-executors-to-notebook", "jupyterhub/ingress-notebook-executors-to-jupyterhub"],
        );
        assert.strictEqual(evaluate(policies, notebook("ada"), executor("nbx-ada"), 7079).allowed, true, "the driver fetches a block");
        assert.strictEqual(evaluate(policies, executor("nbx-ada"), executor("nbx-ada"), 7079).allowed, true, "shuffle");
        assert.strictEqual(evaluate(policies, executor("nbx-ada"), P.minio, 9000).allowed, true, "MinIO");
        assert.strictEqual(evaluate(policies, executor("nbx-ada"), { ip: "140.82.121.4" }, 443).allowed, true, "the world");
        assert.strictEqual(evaluate(policies, executor("nbx-ada"), { ip: "169.254.169.254" }, 443).allowed, false, "no metadata server");
        assert.strictEqual(evaluate(policies, executor("nbx-ada"), notebook("bob"), 7078).allowed, false, "another user's driver");
        assert.strictEqual(evaluate(policies, executor("nbx-ada"), executor("nbx-bob"), 7079).allowed, false, "another user's executors");
        assert.strictEqual(evaluate(policies, notebook("bob"), executor("nbx-ada"), 7079).allowed, false, "another user's notebook");
        assert.strictEqual(evaluate(policies, executor("nbx-ada"), P.postgres, 5432).allowed, false, "PostgreSQL");
    });

    it("the hosts' addresses are the .0 of each node's /24 in 10.42.0.0/16, which no pod gets", () => {
        assert.strictEqual(HOST_TUNNEL_ADDRESSES.length, 256);
        assert.strictEqual(HOST_TUNNEL_ADDRESSES[0], "10.42.0.0/32");
        assert.strictEqual(HOST_TUNNEL_ADDRESSES[255], "10.42.255.0/32");
    });

    it("refuses a flow it cannot write, naming the flow and the reason", () => {
        const model = () => new NetworkModel(["a", "b"], ["kube-system"]);
        const ok = { name: "a-to-b", from: { namespace: "a" }, to: { namespace: "b" }, ports: [], why: "test" };
        assert.throws(() => model().allow(ok).allow(ok), /network flow a-to-b: a flow of that name is already allowed/);
        assert.throws(
            () => model().allow({ ...ok, to: { namespace: "c" } }),
            /network flow a-to-b: namespace c is neither created by the platform \(a, b\) nor one of kube-system/,
        );
        assert.throws(() => model().allow({ ...ok, name: "A_B" }), /the name must be a DNS label/);
        assert.throws(
            () => model().allow({ ...ok, from: { addresses: "x", cidrs: ["1.2.3.4/32"] }, to: { addresses: "y", cidrs: ["5.6.7.8/32"] } }),
            /both addresses/,
        );
    });

    it("a platform without apps has no app namespace flows, and every flow's namespaces exist", () => {
        const model = platformModel({
            namespaces: ["traefik", "cert-manager", "longhorn-system", "minio", "cnpg-system", "postgres", "keycloak", "monitoring"],
            apps: [],
            nodeCidr: "10.10.0.0/16",
        });
        assert.ok(model.flows.length > 30);
        assert.ok(!model.flows.some((f) => /jupyterhub|spark|openeo|geocube|argo|processing/.test(f.name)));
    });

    it("an egress-only flow leaves the destination's ingress to its own policies", () => {
        const model = new NetworkModel(["a", "b"], []);
        model.allow({ name: "a-to-b", from: { namespace: "a" }, to: { namespace: "b" }, ports: [], why: "test", only: "egress" });
        assert.deepStrictEqual(
            model.policies().map((p) => `${p.namespace}/${p.name}`),
            ["a/default-deny", "b/default-deny", "a/egress-a-to-b"],
        );
    });

    it("pods of label-selected namespaces are matched by that selector, and only namespaces it does not govern may be", () => {
        const selected = { namespace: "users-*", namespaces: { matchLabels: { users: "true" } } };
        const model = new NetworkModel(["a"], ["users-*"]);
        model.allow({ name: "users-to-a", from: selected, to: { namespace: "a" }, ports: tcp(80), why: "test" });
        assert.deepStrictEqual(model.policies()[1], {
            namespace: "a",
            name: "ingress-users-to-a",
            spec: {
                podSelector: {},
                policyTypes: ["Ingress"],
                ingress: [{ from: [{ namespaceSelector: { matchLabels: { users: "true" } }, podSelector: {} }], ports: tcp(80) }],
            },
        });
        assert.throws(
            () =>
                new NetworkModel(["a", "b"], []).allow({
                    name: "b-to-a",
                    from: { ...selected, namespace: "b" },
                    to: { namespace: "a" },
                    ports: [],
                    why: "test",
                }),
            /network flow b-to-a: b is governed: its pods are selected by its name/,
        );
    });

    it("a flow to a namespace the platform did not create is refused, by name", () => {
        assert.throws(
            () => platformModel({ namespaces: ["traefik"], apps: [], nodeCidr: "10.10.0.0/16" }),
            /network flow prometheus-to-traefik: namespace monitoring is neither created by the platform \(traefik\) nor one of kube-system/,
        );
    });

    it("docs/security.md names every flow of the full platform", () => {
        const doc = fs.readFileSync(path.join(REPO_ROOT, "docs", "security.md"), "utf8");
        // Every app's namespace, and the logging one the observability stack adds.
        const all = [...base, "openeo", "geocube", "argo", "logging"];
        const model = platformModel({ namespaces: all, apps: ["jupyterhub", "spark", "openeo", "geocube", "argo"], nodeCidr: "10.10.0.0/16" });
        const missing = model.flows.filter((f) => !doc.includes(`\`${f.name}\``)).map((f) => f.name);
        assert.deepStrictEqual(missing, []);
    });
});
