import * as assert from "assert";
import { policies, resourcePolicies, stackPolicies } from "../../policy/policies";
import { checkResource, checkStack, Outcome } from "./engine";

const byName = (name: string) => {
    const policy = policies.find((p) => p.name === name);
    if (!policy) throw new Error(`no policy ${name}`);
    return policy;
};

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const placed = { nodeSelector: { "geoplatform.io/node-group": "system" } };
const container = { name: "app", image: "nginx:1.27.3", resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } } };
const deployment = (pod: Record<string, unknown>, metadata: Record<string, unknown> = { namespace: "apps" }) => ({ metadata, spec: { template: { spec: { containers: [container], ...placed, ...pod } } } });
const release = (values: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ chart: "traefik", version: "41.3.0", repositoryOpts: { repo: "https://traefik.github.io/charts" }, values, ...extra });

interface Case {
    policy: string;
    type: string;
    good: Record<string, unknown>;
    bad: Record<string, unknown>;
    message: RegExp;
}

const CASES: Case[] = [
    {
        policy: "no-world-admin-ports",
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        good: { cidrIpv4: "0.0.0.0/0", fromPort: 443, toPort: 443 },
        bad: { cidrIpv4: "0.0.0.0/0", fromPort: 22, toPort: 22 },
        message: /Port 22 is open to 0\.0\.0\.0\/0\. Restrict the rule to geoplatform:adminCidrs/,
    },
    {
        policy: "no-world-admin-ports",
        type: "openstack:networking/secGroupRule:SecGroupRule",
        good: { direction: "ingress", remoteIpPrefix: "203.0.113.0/24", portRangeMin: 6443, portRangeMax: 6443 },
        bad: { direction: "ingress", remoteIpPrefix: "::/0", portRangeMin: 1, portRangeMax: 65535 },
        message: /Port 22 and 6443 is open to ::\/0/,
    },
    {
        policy: "aws-instance-hardening",
        type: "aws:ec2/instance:Instance",
        good: { metadataOptions: { httpTokens: "required" }, rootBlockDevice: { encrypted: true } },
        bad: { metadataOptions: { httpTokens: "optional" }, rootBlockDevice: { encrypted: false } },
        message: /allows IMDSv1\. Set metadataOptions\.httpTokens to "required"/,
    },
    {
        policy: "no-spot-control-plane",
        type: "aws:ec2/instance:Instance",
        good: { tags: { "geoplatform:role": "agent" }, instanceMarketOptions: { marketType: "spot" } },
        bad: { tags: { "geoplatform:role": "server" }, instanceMarketOptions: { marketType: "spot" } },
        message: /control-plane server on spot capacity\. Remove spot: true/,
    },
    {
        policy: "public-addresses-only-at-edge",
        type: "aws:ec2/instance:Instance",
        good: { associatePublicIpAddress: true, tags: { "geoplatform:edge": "ingress" } },
        bad: { associatePublicIpAddress: true, tags: { "geoplatform:role": "agent" } },
        message: /gets a public address but is neither the bastion nor an ingress node/,
    },
    {
        policy: "public-addresses-only-at-edge",
        type: "openstack:networking/floatingIp:FloatingIp",
        good: { pool: "external", tags: ["geoplatform-edge=bastion"] },
        bad: { pool: "external" },
        message: /neither the bastion nor an ingress node/,
    },
    {
        policy: "workloads-on-node-groups",
        type: DEPLOYMENT,
        good: deployment({}),
        bad: deployment({ nodeSelector: {} }),
        message: /does not select a node group\. Add nodeSelector \{ geoplatform\.io\/node-group: <group> \}/,
    },
    {
        policy: "workloads-on-node-groups",
        type: "kubernetes:helm.sh/v3:Release",
        good: release({ nodeSelector: { "geoplatform.io/node-group": "system" } }),
        bad: release({ replicas: 2 }),
        message: /places no pod on a node group/,
    },
    {
        // A node agent that tolerates the node groups' taint runs on every group by design; one that does not is unplaced.
        policy: "workloads-on-node-groups",
        type: "kubernetes:apps/v1:DaemonSet",
        good: deployment({ nodeSelector: {}, tolerations: [{ key: "geoplatform.io/node-group", operator: "Equal", value: "processing", effect: "NoSchedule" }] }),
        bad: deployment({ nodeSelector: {}, tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists" }] }),
        message: /does not select a node group/,
    },
    {
        policy: "workload-resources",
        type: "kubernetes:batch/v1:CronJob",
        good: { spec: { jobTemplate: { spec: { template: { spec: { containers: [container] } } } } } },
        bad: { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "job", image: "busybox:1.37" }] } } } } } },
        message: /Container job of fixture has no resource requests or limits/,
    },
    {
        policy: "pinned-images",
        type: DEPLOYMENT,
        good: deployment({ containers: [{ ...container, image: "registry:5000/team/app@sha256:" + "a".repeat(64) }] }),
        bad: deployment({ containers: [{ ...container, image: "registry:5000/team/app" }] }),
        message: /uses registry:5000\/team\/app\. Pin a version tag/,
    },
    {
        policy: "no-host-access",
        type: "kubernetes:apps/v1:DaemonSet",
        good: deployment({ hostNetwork: true }, { namespace: "longhorn-system" }),
        bad: deployment({ hostPID: true, volumes: [{ name: "root", hostPath: { path: "/" } }], containers: [{ ...container, securityContext: { privileged: true } }] }),
        message: /sets hostPID/,
    },
    {
        policy: "pinned-releases",
        type: "kubernetes:helm.sh/v3:Release",
        good: release({}),
        bad: release({}, { version: "^41", repositoryOpts: { repo: "http://charts.example.org" } }),
        message: /has no exact version \(\^41\)/,
    },
    {
        // The cached archive of `npm run charts`, as platform/release.ts installs it.
        policy: "pinned-releases",
        type: "kubernetes:helm.sh/v3:Release",
        good: { chart: "../.charts/traefik-41.3.0.tgz", version: "41.3.0", values: {} },
        bad: { chart: "../.charts/traefik-41.2.0.tgz", version: "41.3.0", values: {} },
        message: /installs \.\.\/\.charts\/traefik-41\.2\.0\.tgz but pins version 41\.3\.0/,
    },
    {
        policy: "pinned-releases",
        type: "kubernetes:helm.sh/v3:Release",
        good: release({}),
        bad: { chart: "./traefik", version: "41.3.0", values: {} },
        message: /comes from no repository\. Install the archive `npm run charts` puts in \.charts\//,
    },
    {
        policy: "load-balancers-only-for-ingress",
        type: "kubernetes:core/v1:Service",
        good: { metadata: { namespace: "traefik" }, spec: { type: "LoadBalancer" } },
        bad: { metadata: { namespace: "minio" }, spec: { type: "LoadBalancer" } },
        message: /is of type LoadBalancer\. Use ClusterIP and expose it through an Ingress/,
    },
    {
        policy: "ingress-tls",
        type: "kubernetes:networking.k8s.io/v1:Ingress",
        good: { metadata: { annotations: { "cert-manager.io/cluster-issuer": "letsencrypt-staging" } }, spec: { tls: [{ hosts: ["a.example.org"], secretName: "a-tls" }] } },
        bad: { metadata: {}, spec: { rules: [] } },
        message: /has no spec\.tls/,
    },
    {
        policy: "namespace-pod-security",
        type: "kubernetes:core/v1:Namespace",
        good: { metadata: { name: "apps", labels: { "pod-security.kubernetes.io/enforce": "restricted" } } },
        bad: { metadata: { name: "apps", labels: {} } },
        message: /has no pod-security\.kubernetes\.io\/enforce label/,
    },
    {
        policy: "no-plaintext-secrets",
        type: "kubernetes:helm.sh/v3:Release",
        good: release({ existingSecret: "minio-root", auth: { passwordKey: "password", clientSecret: "${GEOPLATFORM_CLIENT_X_SECRET}", adminPassword: "" } }),
        bad: release({ auth: { rootPassword: "hunter2hunter2" } }),
        message: /holds a plain-text secret at auth\.rootPassword/,
    },
    {
        policy: "no-plaintext-secrets",
        type: "kubernetes:core/v1:ConfigMap",
        good: { metadata: { name: "cfg" }, data: { "spark.hadoop.fs.s3a.endpoint": "http://minio.minio.svc:9000" } },
        bad: { metadata: { name: "cfg" }, data: { token: "eyJhbGciOiJIUzI1NiJ9" } },
        message: /plain-text secret at data\.token/,
    },
    {
        // What charts render: Helm's checksum annotations and cross-namespace references are no secrets.
        policy: "no-plaintext-secrets",
        type: "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
        good: { metadata: { annotations: { "cert-manager.io/inject-ca-from-secret": "cert-manager/cert-manager-webhook-ca", "checksum/secret": "0f3c4e5d6a" } } },
        bad: { metadata: { annotations: { "example.org/client-secret": "s3cr3t/value/with/slashes" } } },
        message: /plain-text secret at metadata\.annotations\.example\.org\/client-secret/,
    },
];

const run = (c: Case, props: Record<string, unknown>): Promise<Outcome> => {
    const policy = byName(c.policy);
    assert.ok("validateResource" in policy);
    return checkResource(policy, c.type, props);
};

describe("policy pack: each policy on fixtures", () => {
    it("exports every policy once, each with a description", () => {
        const names = policies.map((p) => p.name);
        assert.strictEqual(new Set(names).size, names.length);
        assert.ok(resourcePolicies.length >= 13 && stackPolicies.length >= 3);
        for (const p of policies) assert.ok(p.description && p.description.length > 20, p.name);
        for (const p of resourcePolicies) assert.ok(CASES.some((c) => c.policy === p.name), `${p.name} has fixtures`);
    });

    for (const c of CASES) {
        it(`${c.policy}: passes a compliant ${c.type.split(":").pop()} and reports a violating one`, async () => {
            assert.deepStrictEqual((await run(c, c.good)).violations, []);
            const bad = await run(c, c.bad);
            assert.ok(bad.violations.some((v) => c.message.test(v)), `no violation matched ${c.message}: ${JSON.stringify(bad)}`);
        });
    }

    it("reports every kind of host access separately", async () => {
        const c = CASES.find((x) => x.policy === "no-host-access") as Case;
        const { violations } = await run(c, c.bad);
        assert.strictEqual(violations.length, 3, violations.join("\n"));
    });

    it("declares itself not applicable to other resource types, as the engine expects", async () => {
        const outcome = await checkResource(byName("ingress-tls") as never, "kubernetes:core/v1:Service", { spec: {} });
        assert.strictEqual(outcome.notApplicable, "not an Ingress");
        const secret = await checkResource(byName("no-plaintext-secrets") as never, "kubernetes:core/v1:Secret", { stringData: { password: "hunter2hunter2" } });
        assert.ok(secret.notApplicable);
    });

    const server = (i: number) => ({ type: "aws:ec2/instance:Instance", name: `s${i}`, props: { tags: { "geoplatform:role": "server" } } });
    const cnpg = (instances: number) => ({ type: "kubernetes:postgresql.cnpg.io/v1:Cluster", name: "pg", props: { spec: { instances } } });
    const nodes = (...groups: string[]) => groups.map((g) => ({ type: "kubernetes:core/v1:NodePatch", name: `${g}-1`, props: { metadata: { labels: { "geoplatform.io/node-group": g } } } }));

    it("control-plane-ha: accepts 3 servers, rejects 1 and 2", async () => {
        const policy = byName("control-plane-ha") as never;
        assert.deepStrictEqual((await checkStack(policy, [1, 2, 3].map(server))).violations, []);
        assert.match((await checkStack(policy, [1].map(server))).violations[0], /has 1 server\(s\)\. Set the server node group's count to 3 or 5/);
        assert.strictEqual((await checkStack(policy, [1, 2].map(server))).violations.length, 1);
        assert.ok((await checkStack(policy, [])).notApplicable);
    });

    it("postgres-ha: accepts 3 instances, rejects 1", async () => {
        const policy = byName("postgres-ha") as never;
        assert.deepStrictEqual((await checkStack(policy, [cnpg(3)])).violations, []);
        assert.match((await checkStack(policy, [cnpg(1)])).violations[0], /has 1 instance\(s\)\. Set geoplatform:platform\.postgres\.instances to 3/);
    });

    it("node-groups-exist: accepts groups the stack has, rejects others", async () => {
        const policy = byName("node-groups-exist") as never;
        const workload = (group: string) => ({ type: DEPLOYMENT, name: "app", props: deployment({ nodeSelector: { "geoplatform.io/node-group": group } }) });
        assert.deepStrictEqual((await checkStack(policy, [...nodes("system", "processing"), workload("processing")])).violations, []);
        const bad = await checkStack(policy, [...nodes("system"), workload("gpu")]);
        assert.match(bad.violations[0], /targets node group "gpu", which this stack does not have \(system\)/);
    });
});
