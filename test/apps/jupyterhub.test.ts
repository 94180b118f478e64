import * as assert from "assert";
import { CHARTS, IMAGES } from "../../config/catalog";
import { NODE_GROUP_LABEL } from "../../config/types";
import { validateConfig } from "../../config/validate";
import { rawGeoplatformConfig, STACKS } from "../harness/stack-config";
import { AppsRun, confOf, one, realmClientIds, realmIssuer, releaseNamed, runApps } from "./harness";
import { releaseChart } from "../../platform/release";
import * as yaml from "js-yaml";
import { STS_DURATION_SECONDS } from "../../apps/jupyterhub-sts";
import { GROUPS_CLAIM, REALM_GROUPS } from "../../platform/keycloak";
import { dependsTransitively } from "../harness/dependencies";
import { RecordedResource } from "../harness/run-stack";

const processingTaint = { key: NODE_GROUP_LABEL, operator: "Equal", value: "processing", effect: "NoSchedule" };

for (const stack of STACKS) {
    describe(`apps: JupyterHub (${stack})`, () => {
        let run: AppsRun;
        before(async () => {
            run = await runApps(stack);
        });
        const values = () => releaseNamed(run, "jupyterhub").inputs.values;

        it("installs the pinned z2jh chart in the app's namespace", () => {
            const r = releaseNamed(run, "jupyterhub").inputs;
            assert.deepStrictEqual([r.chart, r.version, r.repositoryOpts, r.namespace], [releaseChart(CHARTS.jupyterhub), "4.4.0", undefined, "jupyterhub"]);
        });

        // Keys are checked at compile time (config/chart-values/jupyterhub.ts). The chart's schema,
        // jupyterhub/values.schema.yaml in jupyterhub/zero-to-jupyterhub-k8s at tag 4.4.0, is not in
        // the chart archive (its .helmignore leaves it out; the published chart carries it as
        // values.schema.json), so what it says about the values we set is pinned here.
        it("passes the chart's values schema where it constrains the values we set", () => {
            const v = values();
            assert.ok(["sqlite-pvc", "sqlite-memory", "mysql", "postgres", "other"].includes(v.hub.db.type), "hub.db.type enum");
            assert.ok(["dynamic", "static", "none"].includes(v.singleuser.storage.type), "singleuser.storage.type enum");
            assert.ok(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].includes(v.proxy.service.type), "proxy.service.type enum");
            for (const pods of ["corePods", "userPods"])
                assert.ok(["ignore", "prefer", "require"].includes(v.scheduling[pods].nodeAffinity.matchNodePurpose), `scheduling.${pods} enum`);
            // singleuser.image: exactly name and tag, both strings; hub.config: class names (capitalised) to objects.
            assert.deepStrictEqual(Object.keys(v.singleuser.image).sort(), ["name", "tag"]);
            assert.ok(typeof v.singleuser.image.name === "string" && typeof v.singleuser.image.tag === "string");
            for (const [cls, conf] of Object.entries(v.hub.config))
                assert.ok(/^[A-Z]/.test(cls) && typeof conf === "object" && !Array.isArray(conf), `hub.config.${cls}`);
        });

        it("runs hub, proxy, user scheduler and image awaiter on system; user pods on processing, tolerating its taint", () => {
            const v = values();
            const system = { [NODE_GROUP_LABEL]: "system" };
            for (const key of ["hub", "proxy.chp", "scheduling.userScheduler", "prePuller.hook"]) {
                const nodeSelector = key.split(".").reduce((o: any, k) => o[k], v).nodeSelector;
                assert.deepStrictEqual(nodeSelector, system, key);
            }
            assert.deepStrictEqual(v.singleuser.nodeSelector, { [NODE_GROUP_LABEL]: "processing" });
            assert.deepStrictEqual(v.singleuser.extraTolerations, [processingTaint]);
            assert.strictEqual(v.scheduling.userPods.nodeAffinity.matchNodePurpose, "ignore");
            assert.strictEqual(v.proxy.service.type, "ClusterIP");
        });

        it("logs in through the realm's jupyterhub client, secret from its Secret", () => {
            const v = values();
            const oauth = v.hub.config.GenericOAuthenticator;
            assert.strictEqual(v.hub.config.JupyterHub.authenticator_class, "generic-oauth");
            assert.strictEqual(oauth.client_id, "jupyterhub");
            assert.ok(realmClientIds(run).includes(oauth.client_id), "the realm has this client");
            assert.strictEqual(oauth.authorize_url, `${realmIssuer(stack)}/protocol/openid-connect/auth`);
            assert.strictEqual(oauth.token_url, `${realmIssuer(stack)}/protocol/openid-connect/token`);
            assert.strictEqual(oauth.userdata_url, `${realmIssuer(stack)}/protocol/openid-connect/userinfo`);
            const domain = validateConfig(rawGeoplatformConfig(stack), stack).domain;
            assert.strictEqual(oauth.oauth_callback_url, `https://jupyter.${domain}/hub/oauth_callback`);
            assert.strictEqual(oauth.allow_all, undefined, "admission by realm group, not everyone");
            assert.ok(!("client_secret" in oauth));
            assert.deepStrictEqual(v.hub.extraEnv.OAUTH_CLIENT_SECRET, { valueFrom: { secretKeyRef: { name: "jupyterhub-oidc", key: "client-secret" } } });
        });

        it("keeps the hub database on PostgreSQL with the password from the basic-auth Secret", () => {
            const v = values();
            assert.strictEqual(v.hub.db.type, "postgres");
            assert.strictEqual(v.hub.db.url, "postgresql+psycopg2://jupyterhub@geoplatform-pg-rw.postgres.svc:5432/jupyterhub");
            assert.ok(!("password" in v.hub.db));
            assert.deepStrictEqual(v.hub.extraEnv.PGPASSWORD, { valueFrom: { secretKeyRef: { name: "jupyterhub-db", key: "password" } } });
        });

        it("gives notebooks Longhorn volumes, a small/large profile list, the pinned image and the notebooks bucket", () => {
            const s = values().singleuser;
            assert.strictEqual(s.storage.dynamic.storageClass, "longhorn");
            assert.deepStrictEqual(
                s.profileList.map((p: any) => p.slug),
                ["small", "large"],
            );
            assert.notStrictEqual(s.image.tag, "latest");
            assert.ok(s.image.name && s.image.tag);
            assert.strictEqual(s.extraEnv.NOTEBOOKS_BUCKET, "jupyterhub-notebooks");
        });

        it("admits the realm's data scientists and admins by group, admins from platform-admins (oauthenticator 17.4.0)", () => {
            const oauth = values().hub.config.GenericOAuthenticator;
            assert.strictEqual(oauth.manage_groups, true, "allowed_groups, admin_groups and auth_state_groups_key require it");
            assert.strictEqual(oauth.enable_auth_state, true);
            assert.strictEqual(oauth.auth_state_groups_key, `oauth_user.${GROUPS_CLAIM}`);
            assert.deepStrictEqual([...oauth.allowed_groups].sort(), [REALM_GROUPS.admins, REALM_GROUPS.users].sort());
            assert.deepStrictEqual(oauth.admin_groups, [REALM_GROUPS.admins]);
            // 17.x renamed GenericOAuthenticator.claim_groups_key to auth_state_groups_key.
            assert.strictEqual(oauth.claim_groups_key, undefined);
        });

        it("gives each user their own temporary MinIO credentials at spawn, and no shared key", () => {
            const v = values();
            const env = v.singleuser.extraEnv;
            for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) assert.strictEqual(env[key], undefined, key);
            assert.ok(!JSON.stringify(v.singleuser).includes("jupyterhub-s3"), "the app's shared S3 Secret never reaches a notebook");
            const hook = v.hub.extraConfig["geoplatform-spawn-hooks"];
            assert.match(hook, /^c\.Spawner\.pre_spawn_hook = geoplatform_minio_credentials$/m);
            assert.match(hook, /^c\.Spawner\.post_stop_hook = geoplatform_minio_credentials_cleanup$/m);
            assert.match(hook, /_STS_ENDPOINT = "http:\/\/minio\.minio\.svc:9000"/);
            assert.match(hook, /"Action": "AssumeRoleWithWebIdentity"/);
            // Issued before the pod starts; the culler acts up to one period after maxAge.
            assert.ok(
                v.cull.maxAge > 0 && v.cull.maxAge + v.cull.every + v.singleuser.startTimeout <= STS_DURATION_SECONDS,
                "the culler stops a server before its credentials expire",
            );
            assert.match(hook, new RegExp(`_STS_DURATION = "${STS_DURATION_SECONDS}"`));
        });

        it("gives boto3 and S3A the same endpoint and region: AWS_ENDPOINT_URL and spark-defaults via SPARK_CONF_DIR", () => {
            const s = values().singleuser;
            assert.strictEqual(s.extraEnv.AWS_ENDPOINT_URL, "http://minio.minio.svc:9000");
            assert.strictEqual(s.extraEnv.AWS_DEFAULT_REGION, "us-east-1");
            assert.strictEqual(s.extraEnv.SPARK_CONF_DIR, "/etc/geoplatform/spark");
            const mount = s.storage.extraVolumeMounts.find((m: any) => m.mountPath === s.extraEnv.SPARK_CONF_DIR);
            const volume = s.storage.extraVolumes.find((x: any) => x.name === mount.name);
            const conf = confOf(one(run, "ConfigMap", volume.configMap.name).inputs.data["spark-defaults.conf"]);
            assert.strictEqual(conf["spark.hadoop.fs.s3a.endpoint"], s.extraEnv.AWS_ENDPOINT_URL);
            assert.strictEqual(conf["spark.hadoop.fs.s3a.endpoint.region"], s.extraEnv.AWS_DEFAULT_REGION);
            assert.strictEqual(conf["spark.hadoop.fs.s3a.path.style.access"], "true");
            assert.strictEqual(conf["spark.sql.extensions"], "org.apache.sedona.sql.SedonaSqlExtensions");
            assert.ok(!/access\.key|secret\.key/.test(JSON.stringify(conf)));
        });

        it("blocks the metadata server by NetworkPolicy, not z2jh's NET_ADMIN init container the namespace's Pod Security refuses", () => {
            const s = values().singleuser;
            assert.strictEqual(s.cloudMetadata.blockWithIptables, false);
            assert.strictEqual(s.networkPolicy.enabled, true);
            assert.strictEqual(s.networkPolicy.egressAllowRules.cloudMetadataServer, false);
            assert.strictEqual(s.networkPolicy.egressAllowRules.privateIPs, false);
            const ns = run.all.find((r) => r.type === "kubernetes:core/v1:Namespace" && r.inputs.metadata.name === "jupyterhub") as RecordedResource;
            assert.strictEqual(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "baseline");
        });

        it("lets notebooks reach MinIO, their executors, the Kubernetes API and Geocube, and executors call the driver back", () => {
            const np = values().singleuser.networkPolicy;
            const to = (ns: string) => np.egress.find((r: any) => r.to[0].namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === ns);
            assert.deepStrictEqual(to("minio").ports, [{ port: 9000, protocol: "TCP" }]);
            const executors = { namespaceSelector: { matchLabels: { "geoplatform.io/notebook-executors": "true" } } };
            assert.deepStrictEqual(
                np.egress.find((r: any) => r.to[0].namespaceSelector?.matchLabels["geoplatform.io/notebook-executors"]),
                {
                    to: [executors],
                    ports: [{ port: 7079, protocol: "TCP" }],
                },
            );
            assert.deepStrictEqual(to("geocube").ports, [{ port: 8080, protocol: "TCP" }]);
            const cidr = validateConfig(rawGeoplatformConfig(stack), stack)[stack === "dev" ? "openstack" : "aws"] as any;
            const api = np.egress.find((r: any) => r.to[0].ipBlock);
            assert.deepStrictEqual(api, { to: [{ ipBlock: { cidr: cidr.networkCidr ?? cidr.vpcCidr } }], ports: [{ port: 6443, protocol: "TCP" }] });
            assert.deepStrictEqual(np.ingress, [
                {
                    from: [executors],
                    ports: [
                        { port: 7078, protocol: "TCP" },
                        { port: 7079, protocol: "TCP" },
                    ],
                },
            ]);
            const conf = confOf(one(run, "ConfigMap", "notebook-spark-conf").inputs.data["spark-defaults.conf"]);
            assert.strictEqual(conf["spark.driver.port"], "7078");
            assert.strictEqual(conf["spark.blockManager.port"], "7079");
            assert.strictEqual(conf["spark.driver.blockManager.port"], "7079");
        });

        it("runs Spark client mode as each user's own ServiceAccount, bound by the hub to pods and ConfigMaps in the user's namespace", () => {
            const s = values().singleuser;
            assert.strictEqual(s.serviceAccountName, undefined, "the pre-spawn hook sets each user's");
            assert.match(values().hub.extraConfig["geoplatform-spawn-hooks"], /^\s+spawner\.service_account = sa$/m);
            assert.deepStrictEqual(s.extraEnv.POD_IP, { valueFrom: { fieldRef: { fieldPath: "status.podIP" } } });
            const role = one(run, "ClusterRole", "geoplatform-notebook-executors").inputs;
            assert.deepStrictEqual(role.rules, [
                { apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "list", "watch", "delete", "deletecollection"] },
                { apiGroups: [""], resources: ["configmaps"], verbs: ["create", "get", "list", "watch", "delete", "deletecollection"] },
            ]);
            assert.ok(!run.all.some((r) => r.type === "kubernetes:core/v1:Namespace" && r.inputs.metadata.name === "notebook-spark"), "no shared namespace");
            assert.ok(!run.all.some((r) => r.type === "kubernetes:core/v1:ServiceAccount" && r.inputs.metadata.name === "notebook-spark"), "no shared account");
        });

        it("lets the hub open executor namespaces only as the admission policy allows, which exists before those rights", () => {
            const clusterRole = one(run, "ClusterRole", "geoplatform-jupyterhub-executor-namespaces");
            assert.deepStrictEqual(clusterRole.inputs.rules, [
                { apiGroups: [""], resources: ["namespaces"], verbs: ["create", "patch"] },
                { apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings"], verbs: ["create"] },
                { apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["bind"], resourceNames: ["geoplatform-notebook-executors"] },
                { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["create", "update"] },
                { apiGroups: [""], resources: ["pods", "configmaps"], verbs: ["deletecollection"] },
            ]);
            const hub = [{ kind: "ServiceAccount", name: "hub", namespace: "jupyterhub" }];
            assert.deepStrictEqual(one(run, "ClusterRoleBinding", "geoplatform-jupyterhub-executor-namespaces").inputs.subjects, hub);
            const role = one(run, "Role", "geoplatform-jupyterhub-user-service-accounts").inputs;
            assert.deepStrictEqual(
                [role.metadata.namespace, role.rules],
                ["jupyterhub", [{ apiGroups: [""], resources: ["serviceaccounts"], verbs: ["create"] }]],
            );
            assert.deepStrictEqual(one(run, "RoleBinding", "geoplatform-jupyterhub-user-service-accounts").inputs.subjects, hub);
            const policy = one(run, "ValidatingAdmissionPolicy", "geoplatform-jupyterhub-hub");
            assert.deepStrictEqual(policy.inputs.spec.matchConditions, [
                { name: "hub-only", expression: "request.userInfo.username == 'system:serviceaccount:jupyterhub:hub'" },
            ]);
            assert.strictEqual(policy.inputs.spec.failurePolicy, "Fail");
            const binding = one(run, "ValidatingAdmissionPolicyBinding", "geoplatform-jupyterhub-hub");
            assert.deepStrictEqual(binding.inputs.spec, { policyName: "geoplatform-jupyterhub-hub", validationActions: ["Deny"] });
            const graph = { ...run, resources: run.all };
            assert.ok(dependsTransitively(graph, clusterRole, binding), "rights only once confined");
            assert.ok(dependsTransitively(graph, releaseNamed(run, "jupyterhub"), clusterRole), "the hub starts with its rights");
        });

        it("puts executors on processing with a restricted pod template and the platform's Spark image", () => {
            const data = one(run, "ConfigMap", "notebook-spark-conf").inputs.data;
            const conf = confOf(data["spark-defaults.conf"]);
            assert.strictEqual(conf["spark.kubernetes.namespace"], undefined, "the user's own, from the hub (NOTEBOOK_EXECUTOR_NAMESPACE)");
            assert.strictEqual(conf["spark.authenticate"], "true");
            assert.strictEqual(conf["spark.network.crypto.enabled"], "true");
            assert.strictEqual(conf["spark.kubernetes.container.image"], IMAGES.spark);
            assert.strictEqual(conf["spark.kubernetes.executor.podTemplateFile"], "/etc/geoplatform/spark/executor-template.yaml");
            const template = yaml.load(data["executor-template.yaml"]) as any;
            assert.deepStrictEqual(template.spec.nodeSelector, { [NODE_GROUP_LABEL]: "processing" });
            assert.deepStrictEqual(template.spec.tolerations, [processingTaint]);
            assert.strictEqual(template.spec.automountServiceAccountToken, false);
            assert.deepStrictEqual(template.spec.securityContext, {
                runAsNonRoot: true,
                runAsUser: 185,
                fsGroup: 185,
                seccompProfile: { type: "RuntimeDefault" },
            });
            assert.strictEqual(template.spec.containers[0].name, conf["spark.kubernetes.executor.podTemplateContainerName"]);
            assert.deepStrictEqual(template.spec.containers[0].securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
        });

        it("ships the example notebook read-only and copies it into the persistent home without overwriting a user's copy", () => {
            const s = values().singleuser;
            assert.strictEqual(s.storage.homeMountPath, "/home/jovyan");
            const mount = s.storage.extraVolumeMounts.find((m: any) => m.name === "examples");
            assert.deepStrictEqual(mount, { name: "examples", mountPath: "/opt/geoplatform/examples", readOnly: true });
            assert.deepStrictEqual(s.lifecycleHooks.postStart.exec.command, [
                "sh",
                "-c",
                'mkdir -p "$HOME/examples" && cp -n /opt/geoplatform/examples/*.ipynb "$HOME/examples/"',
            ]);
            const nb = JSON.parse(one(run, "ConfigMap", "notebook-examples").inputs.data["sedona-spatial-sql.ipynb"]);
            assert.strictEqual(nb.nbformat, 4);
            assert.strictEqual(nb.metadata.kernelspec.name, "python3");
            for (const cell of nb.cells) {
                assert.ok(["markdown", "code"].includes(cell.cell_type));
                assert.ok(Array.isArray(cell.source) && cell.source.every((l: unknown) => typeof l === "string"));
                if (cell.cell_type === "code") assert.deepStrictEqual([cell.execution_count, cell.outputs], [null, []]);
            }
            const code = nb.cells.filter((c: any) => c.cell_type === "code").map((c: any) => c.source.join(""));
            assert.ok(
                code.some((c: string) => /session\("sedona-local"\)/.test(c)),
                "a local session",
            );
            assert.ok(
                code.some((c: string) => /session\("sedona-cluster", executors=2\)/.test(c)),
                "a cluster session",
            );
            assert.ok(code.filter((c: string) => /ST_Contains/.test(c)).length >= 2);
            assert.ok(code.some((c: string) => c.includes("s3a://spark-samples/sedona-sample/points.csv")));
        });

        it("serves jupyter.<domain> over TLS with a cert-manager certificate", () => {
            const ing = values().ingress;
            const domain = validateConfig(rawGeoplatformConfig(stack), stack).domain;
            assert.strictEqual(ing.enabled, true);
            assert.strictEqual(ing.ingressClassName, "traefik");
            assert.deepStrictEqual(ing.hosts, [`jupyter.${domain}`]);
            assert.deepStrictEqual(ing.tls, [{ hosts: [`jupyter.${domain}`], secretName: "jupyter-tls" }]);
            assert.strictEqual(
                ing.annotations["cert-manager.io/cluster-issuer"],
                `letsencrypt-${validateConfig(rawGeoplatformConfig(stack), stack).platform.letsEncrypt}`,
            );
        });
    });
}
