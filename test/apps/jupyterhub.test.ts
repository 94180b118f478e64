import * as assert from "assert";
import { CHARTS } from "../../config/catalog";
import { NODE_GROUP_LABEL } from "../../config/types";
import { validateConfig } from "../../config/validate";
import { rawGeoplatformConfig, STACKS } from "../harness/stack-config";
import { AppsRun, realmClientIds, realmIssuer, releaseNamed, runApps } from "./harness";
import { releaseChart } from "../../platform/release";

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
            assert.strictEqual(oauth.allow_all, true);
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
            assert.deepStrictEqual(s.extraEnv.AWS_SECRET_ACCESS_KEY, { valueFrom: { secretKeyRef: { name: "jupyterhub-s3", key: "AWS_SECRET_ACCESS_KEY" } } });
            assert.strictEqual(s.extraEnv.NOTEBOOKS_BUCKET, "jupyterhub-notebooks");
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
