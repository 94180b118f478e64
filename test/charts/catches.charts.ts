import * as assert from "assert";
import { NODE_PATCH } from "../../policy/policies/common";
import { sharedStackRun, StackRun } from "../harness/run-stack";
import { deadKeys, policyFindings } from "./checks";
import { crdApiVersions, K8sObject, kubeVersion, ReleaseInput, releasesOf, render } from "./render";
import { CrdSchemas, schemaErrors } from "./schemas";

// The checks of releases.charts.ts on deliberately broken inputs: each must
// report the break, naming it.

describe("charts: the checks catch what they are for", () => {
    let run: StackRun;
    let cnpg: ReleaseInput;
    let monitoring: ReleaseInput;
    const options = () => ({ kubeVersion: kubeVersion("dev"), apiVersions: [] as string[] });
    before(async () => {
        run = await sharedStackRun("dev");
        const releases = releasesOf(run);
        cnpg = releases.find((r) => r.entry.chart === "cloudnative-pg") as ReleaseInput;
        monitoring = releases.find((r) => r.entry.chart === "kube-prometheus-stack") as ReleaseInput;
    });

    it("a mistyped values key is named: by the dead-key check, or by the schema check where the chart copies a map whole", async () => {
        const mistyped = {
            ...cnpg,
            values: {
                ...cnpg.values,
                nodeSelectr: { "geoplatform.io/node-group": "system" },
                resources: { ...(cnpg.values.resources as object), limit: { cpu: "1" } },
            },
        };
        assert.deepStrictEqual(await deadKeys(mistyped, options()), ["nodeSelectr.geoplatform.io/node-group"]);
        // The chart copies `resources` whole into the pod: the mistyped key inside reaches the object, where the schema check names it.
        const operator = (await render(mistyped, mistyped.values, options())).find((o) => o.kind === "Deployment") as K8sObject;
        assert.deepStrictEqual(schemaErrors(operator, new CrdSchemas([])), ["spec.template.spec.containers[0].resources.limit: unknown field"]);
    });

    it("a chart pod that loses its node group fails the policy pack's placement rule", async () => {
        const { nodeSelector, ...rest } = cnpg.values;
        assert.ok(nodeSelector, "the program places the operator");
        const objects = (await render(cnpg, rest, options())).map((object) => ({ release: cnpg.name, namespace: cnpg.namespace, object }));
        const findings = await policyFindings(
            "dev",
            objects,
            run.resources.filter((r) => r.type === NODE_PATCH),
        );
        const placement = findings.filter((f) => f.policy === "workloads-on-node-groups" && f.level === "mandatory");
        assert.deepStrictEqual(
            placement.map((f) => f.object),
            ["cloudnative-pg Deployment/cnpg-system/cloudnative-pg"],
        );
    });

    it("a custom resource with a field its CRD lacks fails validation, naming the field; so does an unknown field of a core kind", async () => {
        const rendered = [
            ...(await render(cnpg, cnpg.values, { ...options(), includeCrds: true })),
            ...(await render(monitoring, monitoring.values, { ...options(), includeCrds: true })),
        ];
        const crds = new CrdSchemas(rendered.filter((o) => o.kind === "CustomResourceDefinition"));
        assert.ok(crdApiVersions(rendered.filter((o) => o.kind === "CustomResourceDefinition")).includes("postgresql.cnpg.io/v1/Cluster"));

        const cluster = run.resources.find((r) => r.inputs.kind === "Cluster" && r.inputs.apiVersion === "postgresql.cnpg.io/v1")?.inputs as K8sObject;
        assert.deepStrictEqual(schemaErrors(cluster, crds), []);
        const broken = structuredClone(cluster);
        broken.spec.storage.sizee = "10Gi";
        broken.spec.bootstrapp = {};
        assert.deepStrictEqual(schemaErrors(broken, crds).sort(), [
            "/spec must NOT have additional properties: bootstrapp",
            "/spec/storage must NOT have additional properties: sizee",
        ]);

        const prometheus = rendered.find((o) => o.kind === "Prometheus") as K8sObject;
        assert.deepStrictEqual(schemaErrors(prometheus, crds), []);
        assert.deepStrictEqual(schemaErrors({ ...prometheus, spec: { ...prometheus.spec, retentionn: "10d" } }, crds), [
            "/spec must NOT have additional properties: retentionn",
        ]);

        const deployment = structuredClone(rendered.find((o) => o.kind === "Deployment" && o.metadata.name === "cloudnative-pg") as K8sObject);
        assert.deepStrictEqual(schemaErrors(deployment, crds), []);
        deployment.spec.template.spec.containers[0].imagePullPolcy = "Always";
        assert.deepStrictEqual(schemaErrors(deployment, crds), ["spec.template.spec.containers[0].imagePullPolcy: unknown field"]);
        assert.match(schemaErrors({ apiVersion: "example.org/v1", kind: "Widget", metadata: { name: "w" } }, crds)[0], /no schema for example\.org\/v1 Widget/);
    });
});
