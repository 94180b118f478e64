import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { CHARTS } from "../config/catalog";
import { NODE_GROUP_LABEL } from "../config/types";
import { validateConfig } from "../config/validate";
import { dependsTransitively } from "./harness/dependencies";
import { SECRET_SENTINEL } from "./harness/mock-outputs";
import { chartOf, releaseEntry } from "./harness/releases";
import { RecordedResource, runStack, sharedStackRuns, StackRun } from "./harness/run-stack";
import { plainSecretLeaks } from "./harness/secrets";
import { rawGeoplatformConfig, REPO_ROOT, STACKS } from "./harness/stack-config";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const SYSTEM = { [NODE_GROUP_LABEL]: "system" };

/** Where each chart takes the node selector of each of its (control) pods (keys the chart has: catalogRelease's values are typed by config/chart-values). */
const PLACEMENT_PATHS: Record<string, string[]> = {
    traefik: ["nodeSelector"],
    "cert-manager": ["nodeSelector", "webhook.nodeSelector", "cainjector.nodeSelector", "startupapicheck.nodeSelector"],
    // longhornManager.nodeSelector places the hook Jobs; the post-renderer takes it off the manager DaemonSet (test/postrender.test.ts).
    longhorn: ["longhornDriver.nodeSelector", "longhornUI.nodeSelector", "longhornManager.nodeSelector"],
    minio: ["nodeSelector"],
    "cloudnative-pg": ["nodeSelector"],
    keycloakx: ["nodeSelector"],
    "kube-prometheus-stack": [
        "prometheusOperator.nodeSelector",
        "alertmanager.alertmanagerSpec.nodeSelector",
        "prometheus.prometheusSpec.nodeSelector",
        "grafana.nodeSelector",
        "kube-state-metrics.nodeSelector",
    ],
};

/** The value at a dotted path. */
const at = (obj: unknown, dotted: string): unknown =>
    dotted.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
const byType = (run: StackRun, type: string) => run.resources.filter((r) => r.type === type);
const named = (run: StackRun, name: string) => run.resources.find((r) => r.name === name) as RecordedResource;
const release = (run: StackRun, chart: string) =>
    byType(run, RELEASE).find((r) => chartOf(r) === chart && r.urn.includes("geoplatform:platform:")) as RecordedResource;
const customResources = (run: StackRun, kind: string) => byType(run, `kubernetes:${kind}`);

describe("platform layer", () => {
    const runOf = sharedStackRuns();

    it("points every Release, platform and apps, at the cache from the provider's working directory (the directory of Pulumi.yaml's main)", async () => {
        // The engine starts the provider in dirname(main) (pulumi/pulumi pkg/engine/project.go getPwdMain); the provider resolves a local chart there.
        const main = (yaml.load(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { main: string }).main;
        const providerCwd = path.join(REPO_ROOT, path.dirname(main));
        for (const stack of STACKS) {
            const all = byType(runOf(stack), RELEASE);
            // Loki, Alloy, oauth2-proxy and the Barman Cloud plugin everywhere; prod also has the node termination handler (its spot group).
            assert.strictEqual(all.length, stack === "prod" ? 16 : 15, stack);
            for (const r of all) {
                const entry = releaseEntry(r);
                assert.strictEqual(path.resolve(providerCwd, r.inputs.chart), path.join(REPO_ROOT, ".charts", `${entry.chart}-${entry.version}.tgz`), r.name);
                assert.ok(!path.isAbsolute(r.inputs.chart) && r.inputs.repositoryOpts === undefined, r.name);
            }
        }
    });

    it("post-renders the Longhorn and openEO Releases alone, each with its committed executable, by a path from the provider's working directory", () => {
        const main = (yaml.load(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { main: string }).main;
        const providerCwd = path.join(REPO_ROOT, path.dirname(main));
        for (const stack of STACKS) {
            const withPostrender = byType(runOf(stack), RELEASE).filter((r) => r.inputs.postrender !== undefined);
            assert.deepStrictEqual(withPostrender.map(chartOf).sort(), ["longhorn", "sparkapplication"], stack);
            const expected: Record<string, string> = {
                longhorn: path.join(REPO_ROOT, "platform", "postrender", "longhorn-manager.js"),
                sparkapplication: path.join(REPO_ROOT, "apps", "openeo", "postrender.js"),
            };
            for (const release of withPostrender) {
                const postrender: string = release.inputs.postrender;
                // helm v3 pkg/postrender/exec.go getFullPath: a path with a separator is taken as is (exec.LookPath), relative to the provider's cwd.
                assert.ok(!path.isAbsolute(postrender) && postrender.includes("/"), postrender);
                const file = path.resolve(providerCwd, postrender);
                assert.strictEqual(file, expected[chartOf(release)]);
                assert.ok(fs.statSync(file).isFile(), file);
                assert.notStrictEqual(fs.statSync(file).mode & 0o111, 0, `${file} is not executable`);
                assert.match(fs.readFileSync(file, "utf8"), /^#!\/usr\/bin\/env node\n/);
            }
        }
    });

    for (const stack of STACKS) {
        describe(stack, () => {
            const run = () => runOf(stack);
            // The platform's own releases (the apps layer's are tested in test/apps).
            const releases = () => byType(run(), RELEASE).filter((r) => r.urn.includes("geoplatform:platform:"));

            it("installs every platform chart from its cached archive, pinned to the catalog's version, with no repository", () => {
                const charts = releases().map(chartOf);
                for (const entry of [
                    CHARTS.traefik,
                    CHARTS.certManager,
                    CHARTS.longhorn,
                    CHARTS.minio,
                    CHARTS.cloudnativePg,
                    CHARTS.keycloak,
                    CHARTS.monitoring,
                ]) {
                    assert.ok(charts.includes(entry.chart), `${entry.chart} installed`);
                }
                for (const r of releases()) {
                    const entry = releaseEntry(r);
                    assert.strictEqual(r.inputs.chart, `../.charts/${entry.chart}-${entry.version}.tgz`, r.name);
                    assert.strictEqual(r.inputs.version, entry.version, r.name);
                    assert.strictEqual(r.inputs.repositoryOpts, undefined, `${r.name} has a repository`);
                    assert.strictEqual(r.inputs.namespace, entry.namespace, r.name);
                }
            });

            it("places every component on the system group, in the keys its chart uses", () => {
                for (const r of releases()) {
                    for (const p of PLACEMENT_PATHS[chartOf(r)] ?? []) {
                        assert.deepStrictEqual(at(r.inputs.values, p), SYSTEM, `${chartOf(r)} ${p}`);
                    }
                }
                // Any other nodeSelector anywhere in the values must say system too.
                const selectors: unknown[] = [];
                const collect = (v: unknown): void => {
                    if (Array.isArray(v)) v.forEach(collect);
                    else if (v && typeof v === "object") Object.entries(v).forEach(([k, x]) => (k === "nodeSelector" ? selectors.push(x) : collect(x)));
                };
                releases().forEach((r) => collect(r.inputs.values));
                assert.ok(selectors.length >= 12);
                selectors.forEach((s) => assert.deepStrictEqual(s, SYSTEM));
                const cluster = customResources(run(), "postgresql.cnpg.io/v1:Cluster")[0];
                assert.deepStrictEqual(cluster.inputs.spec.affinity.nodeSelector, SYSTEM);
            });

            it("runs the node agents (Longhorn manager, node exporter) on processing nodes too", () => {
                const toleration = { key: NODE_GROUP_LABEL, operator: "Equal", value: "processing", effect: "NoSchedule" };
                assert.deepStrictEqual(release(run(), "longhorn").inputs.values.longhornManager.tolerations, [toleration]);
                assert.deepStrictEqual(release(run(), "kube-prometheus-stack").inputs.values["prometheus-node-exporter"].tolerations, [toleration]);
            });

            it("keeps every password, key and token out of values, manifests and outputs", () => {
                assert.deepStrictEqual(plainSecretLeaks(run().resources), []);
                const mustHoldNone = run().resources.filter(
                    (r) =>
                        r.type === RELEASE ||
                        r.type === "kubernetes:core/v1:ConfigMap" ||
                        (r.type.startsWith("kubernetes:") && r.type.includes(".") && !r.type.startsWith("kubernetes:core/v1:Secret")),
                );
                for (const r of mustHoldNone) assert.ok(!JSON.stringify(r.inputs).includes(SECRET_SENTINEL), `${r.type} ${r.name} holds a secret value`);
                const secrets = byType(run(), "kubernetes:core/v1:Secret");
                assert.ok(secrets.length >= 10);
                // A service-account token Secret is created empty: Kubernetes writes the token into it.
                const tokens = secrets.filter((s) => s.inputs.type === "kubernetes.io/service-account-token");
                for (const t of tokens) assert.deepStrictEqual([t.inputs.data, t.inputs.stringData], [undefined, undefined], t.name);
                for (const s of secrets.filter((x) => !tokens.includes(x)))
                    assert.ok(s.secretPaths.includes("stringData"), `${s.name} data is a Pulumi secret`);
                for (const output of ["keycloakAdminPassword", "realmAdminPassword", "grafanaAdminPassword", "minioRootPassword", "kubeconfig"]) {
                    assert.ok(run().secretOutputs.includes(output), output);
                }
            });

            it("issues certificates only after cert-manager, for every platform Ingress", () => {
                const certManager = release(run(), "cert-manager");
                const issuers = customResources(run(), "cert-manager.io/v1:ClusterIssuer");
                assert.deepStrictEqual(issuers.map((i) => i.name).sort(), ["letsencrypt-production", "letsencrypt-staging"]);
                for (const issuer of issuers) {
                    assert.ok(issuer.dependencies.includes(certManager.urn), issuer.name);
                    assert.strictEqual(issuer.inputs.spec.acme.email, validateConfig(rawGeoplatformConfig(stack), stack).acmeEmail);
                    assert.strictEqual(issuer.inputs.spec.acme.solvers[0].http01.ingress.ingressClassName, "traefik");
                }
            });

            it("starts PostgreSQL after its operator, and Keycloak after its database", () => {
                const operator = release(run(), "cloudnative-pg");
                const cluster = customResources(run(), "postgresql.cnpg.io/v1:Cluster")[0];
                assert.ok(cluster.dependencies.includes(operator.urn));
                const keycloakDb = named(run(), "postgres-db-keycloak");
                assert.ok(keycloakDb.dependencies.includes(cluster.urn));
                assert.ok(dependsTransitively(run(), release(run(), "keycloakx"), keycloakDb));
                assert.strictEqual(cluster.inputs.spec.postgresql.parameters.max_connections, "1024");
            });

            it("runs PostgreSQL on CNPG's PostGIS image with Barman Cloud, and has the operator create Geocube's extensions", () => {
                const cluster = customResources(run(), "postgresql.cnpg.io/v1:Cluster")[0];
                assert.match(cluster.inputs.spec.imageName, /^ghcr\.io\/cloudnative-pg\/postgis:17\.\d+-3\.\d+\.\d+-\d{12}-system-bookworm$/);
                assert.deepStrictEqual(
                    named(run(), "postgres-db-geocube").inputs.spec.extensions,
                    ["postgis", "hstore", "btree_gist"].map((name) => ({ name, ensure: "present" })),
                );
                assert.strictEqual(named(run(), "postgres-db-keycloak").inputs.spec.extensions, undefined, "only where an app needs them");
            });

            it("gives Keycloak its database and admin through Secrets, and the realm no secret", () => {
                const values = release(run(), "keycloakx").inputs.values;
                assert.deepStrictEqual(values.database, {
                    vendor: "postgres",
                    hostname: "geoplatform-pg-rw.postgres.svc",
                    port: 5432,
                    database: "keycloak",
                    username: "keycloak",
                    existingSecret: "keycloak-db",
                    existingSecretKey: "password",
                });
                assert.strictEqual(values.http.relativePath, "/");
                assert.match(values.extraEnv, /KC_BOOTSTRAP_ADMIN_PASSWORD[\s\S]*secretKeyRef/);
                const realm = JSON.parse(Object.values(named(run(), "keycloak-realm").inputs.data)[0] as string);
                const clientIds = realm.clients.map((c: any) => c.clientId).sort();
                assert.deepStrictEqual(clientIds, ["argo", "grafana", "jupyterhub", "minio-console", "oauth2-proxy", "openeo"]);
                // openEO's is public (the Python client's device flow holds no secret): no secret, the device grant on.
                const openeo = realm.clients.find((c: any) => c.clientId === "openeo");
                assert.deepStrictEqual(
                    [openeo.publicClient, openeo.secret, openeo.attributes?.["oauth2.device.authorization.grant.enabled"]],
                    [true, undefined, "true"],
                );
                // keycloak-config-cli fills $(env:NAME) from the Job's environment, which is the keycloak-realm-env Secret.
                const realmEnv = named(run(), "keycloak-realm-env");
                const job = byType(run(), "kubernetes:batch/v1:Job").find((j) => j.name === "keycloak-realm-sync") as RecordedResource;
                assert.deepStrictEqual(job.inputs.spec.template.spec.containers[0].envFrom, [{ secretRef: { name: realmEnv.inputs.metadata.name } }]);
                for (const client of realm.clients) {
                    if (client.publicClient) continue;
                    assert.match(client.secret, /^\$\(env:GEOPLATFORM_CLIENT_[A-Z0-9_]+_SECRET\)$/);
                    assert.ok(client.secret.slice(6, -1) in realmEnv.inputs.stringData, `${client.clientId} secret reaches the Job's env`);
                    const groups = client.protocolMappers.find((m: any) => m.protocolMapper === "oidc-group-membership-mapper");
                    assert.deepStrictEqual(
                        [groups?.config["claim.name"], groups?.config["full.path"]],
                        ["groups", "false"],
                        `${client.clientId} gets plain group names`,
                    );
                }
                assert.deepStrictEqual(realm.groups.map((g: any) => g.name).sort(), ["data-scientists", "platform-admins"]);
            });

            it("wires Grafana's SSO to Keycloak after its client Secret exists", () => {
                const monitoring = release(run(), "kube-prometheus-stack");
                const grafanaOidc = named(run(), "grafana-oidc");
                assert.ok(monitoring.dependencies.includes(grafanaOidc.urn));
                assert.strictEqual(grafanaOidc.inputs.metadata.namespace, "monitoring");
                const grafana = monitoring.inputs.values.grafana;
                assert.deepStrictEqual(grafana.envValueFrom.GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET, {
                    secretKeyRef: { name: "grafana-oidc", key: "client-secret" },
                });
                assert.match(
                    grafana["grafana.ini"]["auth.generic_oauth"].token_url,
                    /^https:\/\/auth\..*\/realms\/geoplatform\/protocol\/openid-connect\/token$/,
                );
                assert.deepStrictEqual(grafana.admin, { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
            });

            it("serves every UI over TLS from the stack's issuer", () => {
                const issuer = `letsencrypt-${validateConfig(rawGeoplatformConfig(stack), stack).platform.letsEncrypt}`;
                // The OIDC host (auth.<domain>) has a production certificate in every stack: test/sso.test.ts.
                const annotations = [
                    release(run(), "longhorn").inputs.values.ingress.annotations,
                    release(run(), "minio").inputs.values.consoleIngress.annotations,
                    release(run(), "kube-prometheus-stack").inputs.values.grafana.ingress.annotations,
                ];
                for (const a of annotations) assert.strictEqual(a["cert-manager.io/cluster-issuer"], issuer);
                assert.strictEqual(release(run(), "longhorn").inputs.values.ingress.tls, true);
            });

            it("labels every namespace for Pod Security admission", () => {
                const namespaces = byType(run(), "kubernetes:core/v1:Namespace");
                assert.ok(namespaces.length >= 8);
                for (const ns of namespaces)
                    assert.match(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], /^(restricted|baseline|privileged)$/);
                const level = (name: string) =>
                    namespaces.find((n) => n.inputs.metadata.name === name)?.inputs.metadata.labels["pod-security.kubernetes.io/enforce"];
                assert.strictEqual(level("postgres"), "restricted");
                assert.strictEqual(level("longhorn-system"), "privileged");
            });

            it("waits for a Ready cluster before creating anything in it", () => {
                const ready = named(run(), `${stack}-nodes-ready`);
                for (const ns of byType(run(), "kubernetes:core/v1:Namespace").filter((r) => r.urn.includes("geoplatform:platform:"))) {
                    assert.ok(dependsTransitively(run(), ns, ready), ns.name);
                }
                for (const r of releases()) assert.ok(dependsTransitively(run(), r, ready), r.name);
            });

            it("deploys independent components in parallel once the cluster is Ready", () => {
                const longhorn = release(run(), "longhorn");
                // Only what needs a volume waits for the StorageClass.
                for (const chart of ["cloudnative-pg", "cert-manager", "traefik"]) {
                    assert.ok(!dependsTransitively(run(), release(run(), chart), longhorn), `${chart} does not wait for Longhorn`);
                }
                for (const chart of ["minio", "kube-prometheus-stack"])
                    assert.ok(dependsTransitively(run(), release(run(), chart), longhorn), `${chart} waits for Longhorn`);
                // Keycloak waits for Longhorn only through its database.
                assert.ok(dependsTransitively(run(), customResources(run(), "postgresql.cnpg.io/v1:Cluster")[0], longhorn));
                // Keycloak waits for cert-manager only through its database, whose WAL archiver (the Barman Cloud plugin) needs
                // cert-manager's Certificates: take that path away and nothing else links them.
                const plugin = release(run(), "plugin-barman-cloud");
                assert.ok(dependsTransitively(run(), plugin, release(run(), "cert-manager")));
                assert.ok(
                    !dependsTransitively(run(), release(run(), "keycloakx"), release(run(), "cert-manager"), [plugin.urn]),
                    "certificates are issued after, not before",
                );
            });

            it("installs each app once its own Secrets and database exist, waiting for Keycloak only where the server needs the issuer to start", () => {
                const appRelease = (chart: string) =>
                    byType(run(), RELEASE).find((r) => chartOf(r) === chart && r.urn.includes("geoplatform:apps:")) as RecordedResource;
                const keycloak = release(run(), "keycloakx");
                const secret = (namespace: string, name: string) =>
                    byType(run(), "kubernetes:core/v1:Secret").find(
                        (r) => r.inputs.metadata.namespace === namespace && r.inputs.metadata.name === name,
                    ) as RecordedResource;
                // JupyterHub's authenticator only calls Keycloak at login; argo-server reads the discovery document at start.
                assert.ok(!dependsTransitively(run(), appRelease("jupyterhub"), keycloak), "jupyterhub does not wait for Keycloak");
                assert.ok(dependsTransitively(run(), appRelease("jupyterhub"), secret("jupyterhub", "jupyterhub-oidc")));
                assert.ok(dependsTransitively(run(), appRelease("jupyterhub"), secret("jupyterhub", "jupyterhub-db")));
                assert.ok(dependsTransitively(run(), appRelease("argo-workflows"), keycloak), "argo waits for Keycloak");
                assert.ok(!dependsTransitively(run(), appRelease("spark-operator"), keycloak), "spark does not wait for Keycloak");
                for (const chart of ["jupyterhub", "argo-workflows", "spark-operator"])
                    assert.ok(dependsTransitively(run(), appRelease(chart), release(run(), "minio")), `${chart} waits for its S3 user`);
                // No app waits for another app's database.
                assert.ok(!dependsTransitively(run(), appRelease("jupyterhub"), secret("argo", "argo-db")));
            });

            it("prepares each enabled app's namespace, database, S3 user and OIDC client", () => {
                const secretsIn = (ns: string) =>
                    byType(run(), "kubernetes:core/v1:Secret")
                        .filter((s) => s.inputs.metadata.namespace === ns)
                        .map((s) => s.inputs.metadata.name)
                        .sort();
                assert.deepStrictEqual(secretsIn("jupyterhub"), ["jupyterhub-db", "jupyterhub-oidc", "jupyterhub-s3"]);
                assert.deepStrictEqual(secretsIn("geocube"), ["geocube-db", "geocube-s3"]);
                assert.deepStrictEqual(secretsIn("spark"), ["spark-s3"]);
                // Jobs resolve Secrets in their own namespace: the shared job namespace gets the same names.
                assert.deepStrictEqual(secretsIn("processing"), ["argo-s3", "spark-s3"]);
                const processing = byType(run(), "kubernetes:core/v1:Namespace").find((n) => n.inputs.metadata.name === "processing") as RecordedResource;
                assert.strictEqual(processing.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "baseline");
                const minio = release(run(), "minio").inputs.values;
                // Backups go to the stack's bucket outside the cluster; MinIO has the apps, Loki and the mirror's reader.
                assert.deepStrictEqual(minio.users.map((u: any) => u.accessKey).sort(), [
                    "argo",
                    "backup-mirror",
                    "geocube",
                    "jupyterhub",
                    "loki",
                    "openeo",
                    "spark",
                ]);
                for (const user of minio.users)
                    assert.deepStrictEqual(Object.keys(user).sort(), ["accessKey", "existingSecret", "existingSecretKey", "policy"]);
            });
        });
    }

    it("takes dev/prod differences from the stack files", () => {
        const dev = runOf("dev");
        const prod = runOf("prod");
        const longhorn = (r: StackRun) => release(r, "longhorn").inputs.values;
        assert.strictEqual(longhorn(dev).persistence.defaultClassReplicaCount, 1);
        assert.strictEqual(longhorn(prod).persistence.defaultClassReplicaCount, 3);
        assert.strictEqual(longhorn(prod).defaultSettings.defaultReplicaCount, 3);
        const instances = (r: StackRun) => customResources(r, "postgresql.cnpg.io/v1:Cluster")[0].inputs.spec.instances;
        assert.strictEqual(instances(dev), 1);
        assert.strictEqual(instances(prod), 3);
        const issuer = (r: StackRun) => release(r, "kube-prometheus-stack").inputs.values.grafana.ingress.annotations["cert-manager.io/cluster-issuer"];
        assert.strictEqual(issuer(dev), "letsencrypt-staging");
        assert.strictEqual(issuer(prod), "letsencrypt-production");
        for (const r of [dev, prod]) {
            const backup = customResources(r, "postgresql.cnpg.io/v1:ScheduledBackup")[0];
            assert.strictEqual(backup.inputs.spec.schedule, "0 0 2 * * *");
            assert.strictEqual(customResources(r, "postgresql.cnpg.io/v1:Cluster")[0].inputs.spec.backup, undefined, "no in-tree barmanObjectStore");
        }
    });

    it("creates nothing for an app that is switched off", async () => {
        const run = await runStack("dev", { "geoplatform:apps": { jupyterhub: { enabled: false } } });
        const mentions = run.resources.filter((r) => JSON.stringify(r.inputs).includes("jupyterhub") && r.type !== "pulumi:pulumi:Stack");
        assert.deepStrictEqual(
            mentions.map((r) => `${r.type} ${r.name}`),
            [],
        );
        assert.ok(named(run, "geocube-db"), "other apps are still prepared");
    });
});
