import * as assert from "assert";
import { NODE_PATCH } from "../../policy/policies/common";
import { RecordedResource, sharedStackRun, StackRun } from "../harness/run-stack";
import { STACKS } from "../harness/stack-config";
import { deadKeys, Finding, policyFindings } from "./checks";
import { KNOWN_FINDINGS } from "./known-findings";
import { crdApiVersions, K8sObject, kubeVersion, objectId, ReleaseInput, releasesOf, render, RELEASE } from "./render";
import { CrdSchemas, schemaErrors } from "./schemas";

// `npm run test:charts` (needs `npm run charts` first): every Release of every
// stack rendered by the real helm from the cached archive, with the values of
// the mocked program run, checked as the cluster and the policy pack would.

export interface StackRender {
    run: StackRun;
    releases: ReleaseInput[];
    kubeVersion: string;
    apiVersions: string[];
    rendered: Map<string, K8sObject[]>;
    crds: CrdSchemas;
}

const isCrd = (o: K8sObject) => o.kind === "CustomResourceDefinition";

/** Renders every release twice: once to learn the CRDs the platform installs, then with their API versions, as the cluster would report them. */
export async function renderStack(stack: string): Promise<StackRender> {
    const run = await sharedStackRun(stack);
    const releases = releasesOf(run);
    const kube = kubeVersion(stack);
    const firstPass = await Promise.all(releases.map((r) => render(r, r.values, { kubeVersion: kube, apiVersions: [], includeCrds: true })));
    const apiVersions = crdApiVersions(firstPass.flat().filter(isCrd));
    const rendered = new Map<string, K8sObject[]>();
    await Promise.all(releases.map(async (r) => rendered.set(r.name, await render(r, r.values, { kubeVersion: kube, apiVersions, includeCrds: true }))));
    const crds = new CrdSchemas([...rendered.values()].flat().filter(isCrd));
    return { run, releases, kubeVersion: kube, apiVersions, rendered, crds };
}

/** Raw Kubernetes objects the program registers (patches are partial by design, Releases are rendered instead). */
export const rawObjects = (run: StackRun): RecordedResource[] =>
    run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.inputs.kind && r.type !== RELEASE && !r.type.endsWith("Patch"));

for (const stack of STACKS) {
    describe(`charts: every release of ${stack}, rendered`, () => {
        let s: StackRender;
        before(async () => {
            s = await renderStack(stack);
        });
        const everyObject = () =>
            s.releases.flatMap((r) => (s.rendered.get(r.name) ?? []).map((object) => ({ release: r.name, namespace: r.namespace, object })));

        // Loki and Alloy everywhere; prod also has the node termination handler (its spot group).
        const count = stack === "prod" ? 14 : 13;
        it(`renders all ${count} releases for the cluster's Kubernetes version, with the API versions of the CRDs the charts install`, () => {
            assert.strictEqual(s.releases.length, count);
            assert.match(s.kubeVersion, /^v1\.\d+\.\d+\+k3s\d+$/);
            for (const r of s.releases) assert.ok((s.rendered.get(r.name) ?? []).length > 0, `${r.name} renders nothing`);
            for (const v of [
                "cert-manager.io/v1",
                "monitoring.coreos.com/v1",
                "longhorn.io/v1beta2",
                "postgresql.cnpg.io/v1",
                "sparkoperator.k8s.io/v1beta2",
                "traefik.io/v1alpha1",
            ]) {
                assert.ok(s.apiVersions.includes(v), v);
            }
        });

        it("validates every rendered object: core kinds against the Kubernetes schema, custom resources against their CRD, unknown fields included", () => {
            const errors = everyObject().flatMap(({ release, object }) => schemaErrors(object, s.crds).map((e) => `${release} ${objectId(object)}: ${e}`));
            assert.deepStrictEqual(errors, []);
        });

        it("validates every raw Kubernetes object the program registers the same way", () => {
            const raw = rawObjects(s.run);
            assert.ok(raw.some((r) => r.inputs.kind === "Cluster") && raw.some((r) => r.inputs.kind === "Deployment"));
            const errors = raw.flatMap((r) => schemaErrors(r.inputs as K8sObject, s.crds).map((e) => `${r.name} (${r.inputs.kind}): ${e}`));
            assert.deepStrictEqual(errors, []);
        });

        it("passes the policy pack inside the charts: placement, pinned images, requests and limits, host access, no secret values (mandatory ones; advisory listed)", async () => {
            const nodes = s.run.resources.filter((r) => r.type === NODE_PATCH);
            const findings = await policyFindings(stack, everyObject(), nodes);
            const known = (f: Finding) => KNOWN_FINDINGS.some((k) => k.policy === f.policy && k.objects.some((o) => f.object === `${k.release} ${o}`));
            for (const f of findings.filter((x) => x.level !== "mandatory" || known(x)))
                console.log(`      ${known(f) ? "known" : "advisory"}: ${f.policy} ${f.object}: ${f.message}`);
            assert.deepStrictEqual(
                findings.filter((f) => f.level === "mandatory" && !known(f)).map((f) => `${f.policy} ${f.object}: ${f.message}`),
                [],
            );
            const gone = KNOWN_FINDINGS.flatMap((k) =>
                k.objects
                    .filter((o) => !findings.some((f) => f.policy === k.policy && f.object === `${k.release} ${o}`))
                    .map((o) => `${k.policy} ${k.release} ${o}`),
            );
            assert.deepStrictEqual(gone, [], "fixed: remove these from test/charts/known-findings.ts");
        });

        it("places Longhorn's hook Jobs on system and leaves its manager DaemonSet on every node, as the provider installs them (post-renderer included)", () => {
            const longhorn = s.rendered.get("longhorn") ?? [];
            const selector = (o: K8sObject | undefined) => o?.spec?.template?.spec?.nodeSelector;
            const hooks = longhorn.filter((o) => o.kind === "Job" && o.metadata.annotations?.["helm.sh/hook"]);
            assert.deepStrictEqual(hooks.map(objectId).sort(), [
                "Job/longhorn-system/longhorn-post-upgrade",
                "Job/longhorn-system/longhorn-pre-upgrade",
                "Job/longhorn-system/longhorn-uninstall",
            ]);
            for (const h of hooks) assert.deepStrictEqual(selector(h), { "geoplatform.io/node-group": "system" }, objectId(h));
            const manager = longhorn.find((o) => o.kind === "DaemonSet" && o.metadata.name === "longhorn-manager");
            assert.ok(manager && selector(manager) === undefined, JSON.stringify(selector(manager)));
            assert.ok(manager.spec.template.spec.tolerations.some((t: any) => t.key === "geoplatform.io/node-group" && t.value === "processing"));
        });

        it("sets no values key that the chart's templates ignore (each leaf changed must change the render)", async () => {
            const dead = await Promise.all(
                s.releases.map(async (r) => (await deadKeys(r, { kubeVersion: s.kubeVersion, apiVersions: s.apiVersions })).map((k) => `${r.name}: ${k}`)),
            );
            assert.deepStrictEqual(dead.flat(), []);
        });
    });
}
