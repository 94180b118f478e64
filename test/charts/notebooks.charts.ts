import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { HUB_SERVICE_ACCOUNT } from "../../apps/notebook-executors-admission";
import { minioPolicyErrors } from "../harness/minio-policy";
import { sharedStackRun } from "../harness/run-stack";
import { REPO_ROOT, STACKS } from "../harness/stack-config";
import { K8sObject, kubeVersion, ReleaseInput, releasesOf, render } from "./render";

// What z2jh 4.4.0 does with the notebook values, read from the chart itself: the singleuser NetworkPolicy it
// renders, the hub config code that adds the NET_ADMIN init container, and the defaults the notebook image
// matches (cmd, uid, fsGid, home mount).

/** A file of the cached chart archive. */
function chartFile(archive: string, file: string): string {
    return execFileSync("tar", ["-xzOf", archive, file], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
}

const IMAGE = fs.readFileSync(path.join(REPO_ROOT, "images/notebook/Dockerfile"), "utf8");

for (const stack of STACKS) {
    describe(`charts: JupyterHub notebooks (${stack})`, () => {
        let hub: ReleaseInput;
        let objects: K8sObject[];
        before(async () => {
            const run = await sharedStackRun(stack);
            hub = releasesOf(run).find((r) => r.entry.chart === "jupyterhub") as ReleaseInput;
            objects = await render(hub, hub.values, { kubeVersion: kubeVersion(stack), apiVersions: [] });
        });
        const singleuserPolicy = () => objects.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "singleuser") as K8sObject;

        it("renders the singleuser NetworkPolicy with our egress and ingress rules and the metadata server excepted", () => {
            const np = singleuserPolicy();
            assert.ok(np, "singleuser NetworkPolicy rendered");
            const egress = np.spec.egress as any[];
            const open = egress.find((r) => r.to?.[0]?.ipBlock?.cidr === "0.0.0.0/0");
            assert.ok(open.to[0].ipBlock.except.includes("169.254.169.254/32"), "public egress excepts the metadata server");
            assert.ok(!egress.some((r) => r.to?.some((t: any) => t.ipBlock?.cidr === "10.0.0.0/8" && !r.ports)), "no blanket private-IP egress");
            const toNamespace = (ns: string) => egress.find((r) => r.to?.[0]?.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === ns);
            assert.deepStrictEqual(toNamespace("minio").ports, [{ port: 9000, protocol: "TCP" }]);
            const executors = (r: any) => r?.[0]?.namespaceSelector?.matchLabels?.["geoplatform.io/notebook-executors"] === "true";
            assert.deepStrictEqual(egress.find((r) => executors(r.to)).ports, [{ port: 7079, protocol: "TCP" }]);
            assert.ok(
                egress.some((r) => r.ports?.[0]?.port === 6443),
                "Kubernetes API",
            );
            const ingress = np.spec.ingress as any[];
            assert.ok(ingress.some((r) => executors(r.from)));
        });

        it("adds the NET_ADMIN iptables init container only when blockWithIptables is true, which we turn off", () => {
            const config = chartFile(hub.archive, "jupyterhub/files/hub/jupyterhub_config.py");
            assert.match(config, /if cloud_metadata\.get\("blockWithIptables"\) == True:/);
            assert.match(config, /"NET_ADMIN"/);
            assert.strictEqual((hub.values as any).singleuser.cloudMetadata.blockWithIptables, false);
        });

        it("runs jupyterhub-singleuser as uid 1000, fsGroup 100, home at /home/jovyan: what the notebook image is built for", () => {
            const defaults = (yaml.load(chartFile(hub.archive, "jupyterhub/values.yaml")) as any).singleuser;
            const ours = (hub.values as any).singleuser;
            const effective = (k: string) => ours[k] ?? defaults[k];
            assert.strictEqual(effective("cmd"), "jupyterhub-singleuser");
            assert.match(IMAGE, new RegExp(`CMD \\["${effective("cmd")}"\\]`));
            assert.match(IMAGE, new RegExp(`USER ${effective("uid")}:${effective("fsGid")}`));
            const home = ours.storage.homeMountPath ?? defaults.storage.homeMountPath;
            assert.strictEqual(home, "/home/jovyan");
            assert.match(IMAGE, new RegExp(`WORKDIR ${home}`));
        });

        it("lets the hub's ServiceAccount create and delete the per-server credential Secrets, the only verbs the hook uses", () => {
            const role = objects.find((o) => o.kind === "Role" && o.metadata.name === "hub") as K8sObject;
            const binding = objects.find((o) => o.kind === "RoleBinding" && o.metadata.name === "hub") as K8sObject;
            assert.ok(role && binding, "z2jh renders the hub Role and RoleBinding (rbac.create)");
            const onSecrets = (role as any).rules.filter((r: any) => r.apiGroups.includes("") && r.resources.includes("secrets")).flatMap((r: any) => r.verbs);
            for (const verb of ["create", "delete"]) assert.ok(onSecrets.includes(verb), verb);
            const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "hub") as any;
            assert.deepStrictEqual(
                (binding as any).subjects.map((s: any) => s.name),
                [deployment.spec.template.spec.serviceAccountName],
                "bound to the hub pod's ServiceAccount",
            );
            // The subject of our ClusterRoleBinding and of the admission policy's match condition (apps/notebook-executors-admission.ts).
            assert.strictEqual(deployment.spec.template.spec.serviceAccountName, HUB_SERVICE_ACCOUNT);
        });

        it("puts the STS pre-spawn hook into the hub's configuration", () => {
            const secret = objects.find((o) => o.kind === "Secret" && o.metadata.name === "hub") as K8sObject;
            const values = yaml.load(Buffer.from(secret.data["values.yaml"], "base64").toString("utf8")) as any;
            const hooks = values.hub.extraConfig["geoplatform-spawn-hooks"];
            assert.match(hooks, /c\.Spawner\.pre_spawn_hook = geoplatform_minio_credentials/);
            assert.match(hooks, /c\.Spawner\.post_stop_hook = geoplatform_minio_credentials_cleanup/);
            // Then the executors' hooks, which wrap those: last assignment wins.
            assert.match(hooks, /c\.Spawner\.pre_spawn_hook = geoplatform_pre_spawn\nc\.Spawner\.post_stop_hook = geoplatform_post_stop\n$/);
            // The culler's settings as the hub reads them: a server is stopped before its 12 h credentials expire.
            assert.ok(values.cull.maxAge + values.cull.every + values.singleuser.startTimeout <= 43200);
            assert.deepStrictEqual([values.cull.every, values.singleuser.startTimeout], [600, 300]);
        });
    });
}

for (const stack of STACKS) {
    describe(`charts: MinIO's OpenID provider for the notebooks' STS credentials (${stack})`, () => {
        let minio: ReleaseInput;
        let objects: K8sObject[];
        before(async () => {
            const run = await sharedStackRun(stack);
            minio = releasesOf(run).find((r) => r.entry.chart === "minio") as ReleaseInput;
            objects = await render(minio, minio.values, { kubeVersion: kubeVersion(stack), apiVersions: [] });
        });

        it("configures one claim-based provider: client id from the minio-oidc Secret, groups claim, no role policy", () => {
            const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "minio") as K8sObject;
            const env = (deployment as any).spec.template.spec.containers[0].env as any[];
            const openid = env.filter((e) => e.name.startsWith("MINIO_IDENTITY_OPENID_"));
            assert.deepStrictEqual(openid.find((e) => e.name === "MINIO_IDENTITY_OPENID_CLIENT_ID").valueFrom, {
                secretKeyRef: { name: "minio-oidc", key: "client-id" },
            });
            assert.strictEqual(openid.find((e) => e.name === "MINIO_IDENTITY_OPENID_CLAIM_NAME").value, "groups");
            // A role policy or a second provider (MINIO_IDENTITY_OPENID_<KEY>_<NAME>) would change which tokens STS takes without RoleArn.
            assert.deepStrictEqual(
                openid.filter((e) => /ROLE_POLICY|CONFIG_URL_/.test(e.name)),
                [],
            );
        });

        it("renders the data-scientists policy with the per-user prefix as MinIO reads it", () => {
            const config = objects.find((o) => o.kind === "ConfigMap" && (o as any).data?.["add-policy"]) as any;
            const index = (minio.values as any).policies.findIndex((p: any) => p.name === "data-scientists");
            const policy = JSON.parse(config.data[`policy_${index}.json`]);
            const writes = policy.Statement.filter((st: any) => st.Action.includes("s3:*"));
            assert.deepStrictEqual(
                writes.map((st: any) => [st.Effect, st.Resource]),
                [["Allow", ["arn:aws:s3:::jupyterhub-notebooks/${jwt:preferred_username}/*"]]],
            );
            // Listing the bucket only under the user's own prefix: the chart writes the condition as MinIO's JSON.
            const listings = policy.Statement.filter((st: any) => st.Resource?.includes("arn:aws:s3:::jupyterhub-notebooks"));
            assert.deepStrictEqual(
                listings.map((st: any) => [st.Action, st.Condition]),
                [
                    [["s3:ListBucket"], { StringLike: { "s3:prefix": ["${jwt:preferred_username}/*"] } }],
                    [["s3:GetBucketLocation"], undefined],
                ],
            );
            // Every policy the chart's make-policy step adds must parse, or the step loops and no bucket is made.
            for (const [file, text] of Object.entries(config.data as Record<string, string>).filter(([f]) => /^policy_\d+\.json$/.test(f)))
                assert.deepStrictEqual(minioPolicyErrors(JSON.parse(text)), [], file);
            assert.ok(!policy.Statement.some((st: any) => st.Resource?.includes("arn:aws:s3:::jupyterhub-notebooks/*")), "no read of every user's files");
        });
    });
}
