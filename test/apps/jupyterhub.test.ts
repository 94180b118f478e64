import * as assert from "assert";
import Ajv from "ajv";
import * as yaml from "js-yaml";
import { CHARTS } from "../../config/catalog";
import { NODE_GROUP_LABEL } from "../../config/types";
import { validateConfig } from "../../config/validate";
import { rawGeoplatformConfig, STACKS } from "../harness/stack-config";
import { AppsRun, chartDefaults, chartFile, helmMerge, realmClientIds, realmIssuer, releaseNamed, runApps, unknownValuePaths } from "./harness";

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
            assert.deepStrictEqual([r.chart, r.version, r.repositoryOpts.repo, r.namespace], [CHARTS.jupyterhub.chart, "4.4.0", CHARTS.jupyterhub.repo, "jupyterhub"]);
        });

        it("sets only keys the chart has, and passes the chart's values schema", () => {
            assert.deepStrictEqual(unknownValuePaths(values(), chartDefaults("jupyterhub"), ["hub.config"]), []);
            const ajv = new Ajv({ strict: false, allErrors: true });
            const validate = ajv.compile(yaml.load(chartFile("jupyterhub", "values.schema.yaml")) as object);
            // Helm validates the chart's defaults coalesced with ours.
            assert.ok(validate(helmMerge(chartDefaults("jupyterhub"), values())), JSON.stringify(validate.errors, null, 1));
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
            assert.deepStrictEqual(s.profileList.map((p: any) => p.slug), ["small", "large"]);
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
            assert.strictEqual(ing.annotations["cert-manager.io/cluster-issuer"], `letsencrypt-${validateConfig(rawGeoplatformConfig(stack), stack).platform.letsEncrypt}`);
        });
    });
}
