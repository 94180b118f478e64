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
const deployment = (pod: Record<string, unknown>, metadata: Record<string, unknown> = { namespace: "apps" }) => ({
    metadata,
    spec: { template: { spec: { containers: [container], ...placed, ...pod } } },
});
const release = (values: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    chart: "traefik",
    version: "41.3.0",
    repositoryOpts: { repo: "https://traefik.github.io/charts" },
    values,
    ...extra,
});

interface Case {
    policy: string;
    type: string;
    good: Record<string, unknown>;
    bad: Record<string, unknown>;
    message: RegExp;
    /** Policy config properties (getConfig()), for policies that take some. */
    config?: Record<string, unknown>;
}

const PINNED = { host: "10.20.128.3", hostKey: "ssh-ed25519 AAAAC3Nza", privateKey: "k", proxy: { host: "198.51.100.7", hostKey: "ssh-ed25519 AAAAC3Nzb" } };
const CASES: Case[] = [
    {
        policy: "ssh-host-keys-pinned",
        type: "command:remote:Command",
        good: { connection: PINNED, create: "sudo bash -s", stdin: "K3S_VERSION='v1.33.5+k3s1'\n" },
        bad: { connection: { ...PINNED, hostKey: undefined }, create: "sudo bash -s", stdin: "K3S_VERSION='v1.33.5+k3s1'\n" },
        message: /sends its stdin to 10\.20\.128\.3 without checking the host key\. Set connection\.hostKey/,
    },
    {
        policy: "ssh-host-keys-pinned",
        type: "command:remote:Command",
        // The first contact: a key read that sends nothing may go unpinned, but never through an unpinned bastion.
        good: { connection: { ...PINNED, hostKey: undefined }, create: "cat /etc/ssh/ssh_host_ed25519_key.pub" },
        bad: { connection: { ...PINNED, hostKey: undefined, proxy: { host: "198.51.100.7" } }, create: "cat /etc/ssh/ssh_host_ed25519_key.pub" },
        message: /goes through the bastion 198\.51\.100\.7 without checking its host key\. Set connection\.proxy\.hostKey/,
    },
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
        bad: { direction: "ingress", protocol: "tcp", remoteIpPrefix: "::/0", portRangeMin: 1, portRangeMax: 65535 },
        message: /Port 22, 6443, 10250 are open to ::\/0/,
    },
    {
        policy: "no-world-admin-ports",
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        good: { cidrIpv4: "10.20.0.0/16", ipProtocol: "tcp", fromPort: 10250, toPort: 10250 },
        bad: { cidrIpv4: "0.0.0.0/0", ipProtocol: "tcp", fromPort: 10250, toPort: 10250 },
        message: /Port 10250 is open to 0\.0\.0\.0\/0/,
    },
    {
        policy: "no-world-admin-ports",
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        good: { cidrIpv6: "::/0", ipProtocol: "tcp", fromPort: 443, toPort: 443 },
        bad: { cidrIpv6: "::/0", ipProtocol: "-1" },
        message: /All protocols and ports are open to ::\/0/,
    },
    {
        policy: "no-world-admin-ports",
        type: "openstack:networking/secGroupRule:SecGroupRule",
        good: { direction: "egress", remoteIpPrefix: "0.0.0.0/0" },
        bad: { direction: "ingress", ethertype: "IPv4", remoteIpPrefix: "0.0.0.0/0" },
        message: /All protocols and ports are open to 0\.0\.0\.0\/0/,
    },
    {
        policy: "no-world-admin-ports",
        type: "aws:ec2/securityGroup:SecurityGroup",
        good: { ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }] },
        bad: { ingress: [{ protocol: "tcp", fromPort: 0, toPort: 65535, cidrBlocks: ["0.0.0.0/0"] }] },
        message: /All protocols and ports are open to 0\.0\.0\.0\/0/,
    },
    {
        policy: "aws-instance-hardening",
        type: "aws:ec2/instance:Instance",
        good: { metadataOptions: { httpTokens: "required" }, rootBlockDevice: { encrypted: true } },
        bad: { metadataOptions: { httpTokens: "optional" }, rootBlockDevice: { encrypted: false } },
        message: /allows IMDSv1\. Set metadataOptions\.httpTokens to "required"/,
    },
    {
        policy: "no-imds-from-pods",
        type: "aws:ec2/instance:Instance",
        good: { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 } },
        bad: { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 } },
        message: /httpPutResponseHopLimit 2, so pods reach the instance metadata service.*Set it to 1/,
    },
    {
        policy: "no-imds-from-pods",
        type: "aws:ec2/instance:Instance",
        good: { metadataOptions: { httpEndpoint: "disabled" } },
        bad: { metadataOptions: { httpTokens: "required" } },
        message: /httpPutResponseHopLimit unset/,
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
        good: deployment({
            nodeSelector: {},
            tolerations: [{ key: "geoplatform.io/node-group", operator: "Equal", value: "processing", effect: "NoSchedule" }],
        }),
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
        good: deployment({ hostNetwork: true }, { namespace: "longhorn-system", name: "longhorn-manager" }),
        bad: deployment({
            hostPID: true,
            volumes: [{ name: "root", hostPath: { path: "/" } }],
            containers: [{ ...container, securityContext: { privileged: true } }],
        }),
        message: /sets hostPID/,
    },
    {
        policy: "no-host-access",
        type: "kubernetes:apps/v1:DaemonSet",
        good: deployment(
            { hostPID: true, volumes: [{ name: "proc", hostPath: { path: "/proc" } }] },
            { namespace: "monitoring", name: "monitoring-prometheus-node-exporter" },
        ),
        bad: deployment({ volumes: [{ name: "root", hostPath: { path: "/" } }] }, { namespace: "longhorn-system", name: "debug-shell" }),
        message: /mounts hostPath \/ \(volume root\)\. Drop it, or allow-list this workload by namespace and name/,
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
        good: {
            metadata: { annotations: { "cert-manager.io/cluster-issuer": "letsencrypt-staging" } },
            spec: { tls: [{ hosts: ["a.example.org"], secretName: "a-tls" }] },
        },
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
        policy: "namespace-pod-security",
        type: "kubernetes:core/v1:Namespace",
        good: { metadata: { name: "longhorn-system", labels: { "pod-security.kubernetes.io/enforce": "privileged" } } },
        bad: { metadata: { name: "apps", labels: { "pod-security.kubernetes.io/enforce": "privileged" } } },
        message: /Namespace apps enforces privileged.*only traefik, longhorn-system, monitoring need privileged/,
    },
    {
        policy: "no-secrets-in-pod-specs",
        type: DEPLOYMENT,
        good: deployment({
            containers: [
                {
                    ...container,
                    env: [
                        { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
                        { name: "PASSWORD_FILE", value: "/run/secrets/db" },
                        { name: "TOKEN_URL", value: "https://auth.example.org/token" },
                        { name: "S3_SECRET_NAME", value: "minio-user" },
                        { name: "CLIENT_SECRET", value: "$(OIDC_SECRET)" },
                    ],
                    args: ["--password=$(DB_PASSWORD)", "--token-file", "/var/run/token", "--log-level", "info"],
                },
            ],
        }),
        bad: deployment({ containers: [{ ...container, env: [{ name: "DB_PASSWORD", value: "hunter2hunter2" }] }] }),
        message: /holds a secret at spec\.template\.spec\.containers\[0\]\.env\[0\] \(a literal value in DB_PASSWORD\)\. Put it in a Secret/,
    },
    {
        policy: "no-secrets-in-pod-specs",
        type: "kubernetes:batch/v1:Job",
        good: { spec: { template: { spec: { containers: [{ ...container, command: ["sh", "-c", 'psql "$DATABASE_URL" -f /sql/schema.sql'] }] } } } },
        bad: { spec: { template: { spec: { containers: [{ ...container, args: ["--client-secret", "s3cr3t-v4lue", "--api-key=abcdef0123456789"] }] } } } },
        message: /containers\[0\]\.args \(a literal value for --client-secret\)/,
    },
    {
        policy: "no-secrets-in-pod-specs",
        type: "kubernetes:sparkoperator.k8s.io/v1beta2:SparkApplication",
        good: { spec: { driver: { env: [{ name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "s3", key: "secret" } } }] } } },
        bad: { spec: { executor: { env: [{ name: "GIT_CREDENTIAL_HELPER_INPUT", value: "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" }] } } },
        message: /at spec\.executor\.env\[0\] \(a GitHub token in GIT_CREDENTIAL_HELPER_INPUT\)/,
    },
    {
        policy: "no-secrets-in-node-scripts",
        type: "command:remote:Command",
        good: { create: "sudo bash -s", stdin: "K3S_TOKEN=K10" + "0".repeat(64) + "::server:abc\n", environment: { NODE_NAME: "prod-system-1" } },
        bad: { create: "curl -sfL https://get.k3s.io | K3S_TOKEN=supersecretjointoken sh -s - agent" },
        message: /carries a secret \(create: a literal value assigned to K3S_TOKEN\)\. Send it on the Command's stdin/,
    },
    {
        policy: "no-secrets-in-node-scripts",
        type: "command:local:Command",
        good: { create: "kubectl --token-file=/run/token get nodes", environment: { KUBECONFIG: "/tmp/kubeconfig" } },
        bad: { create: "kubectl get nodes", environment: { K3S_TOKEN: "supersecretjointoken" } },
        message: /environment: a literal value in K3S_TOKEN/,
    },
    {
        policy: "no-secrets-in-node-scripts",
        type: "aws:ec2/instance:Instance",
        good: {
            userData:
                "#cloud-config\npackages: [haproxy]\nwrite_files:\n  - path: /etc/haproxy/haproxy.cfg\n    content: |\n      frontend api\n        bind :6443\n",
        },
        bad: { userData: "#cloud-config\nwrite_files:\n  - path: /etc/rancher/k3s/config.yaml\n    content: |\n      token: supersecretjointoken\n" },
        message: /user data: a literal value in token/,
    },
    {
        policy: "no-secrets-in-node-scripts",
        type: "openstack:compute/instance:Instance",
        good: { userData: "#!/bin/sh\nset -eu\nexport TOKEN_FILE=/run/k3s-token\n" },
        bad: { userData: "#!/bin/sh\ncurl -H 'Authorization: Bearer 0123456789abcdef0123456789' https://vault.example.org/v1/k3s\n" },
        message: /user data: a bearer token/,
    },
    {
        policy: "pinned-images-in-custom-resources",
        type: "kubernetes:sparkoperator.k8s.io/v1beta2:SparkApplication",
        good: { spec: { image: "apache/spark:3.5.6-python3", driver: { cores: 1 }, executor: { image: "apache/spark:3.5.6-python3" } } },
        bad: { spec: { image: "apache/spark:3.5.6-python3", executor: { image: "apache/spark:latest" } } },
        message: /runs apache\/spark:latest at spec\.executor\.image\. Pin a version tag/,
    },
    {
        policy: "pinned-images-in-custom-resources",
        type: "kubernetes:postgresql.cnpg.io/v1:Cluster",
        good: { spec: { imageName: "ghcr.io/cloudnative-pg/postgis:17.10-3.6.4-202608031108-system-bookworm" } },
        bad: { spec: { imageName: "ghcr.io/cloudnative-pg/postgis" } },
        message: /runs ghcr\.io\/cloudnative-pg\/postgis at spec\.imageName/,
    },
    {
        policy: "pinned-images-in-custom-resources",
        type: "kubernetes:example.org/v1:Widget",
        good: { spec: { template: { image: { repository: "example/widget", tag: "1.2.3" } } } },
        bad: { spec: { template: { image: { repository: "example/widget" } } } },
        message: /runs example\/widget at spec\.template\.image/,
    },
    {
        policy: "ingress-authentication",
        type: "kubernetes:networking.k8s.io/v1:Ingress",
        good: {
            metadata: { annotations: { "traefik.ingress.kubernetes.io/router.middlewares": "auth-oauth2-proxy@kubernetescrd" } },
            spec: { rules: [{ host: "spark-history.example.org" }] },
        },
        bad: {
            metadata: { annotations: { "cert-manager.io/cluster-issuer": "letsencrypt-production" } },
            spec: { rules: [{ host: "spark-history.example.org" }] },
        },
        message: /serves spark-history\.example\.org \(spec\.rules\) without authentication/,
    },
    {
        policy: "ingress-authentication",
        type: "kubernetes:helm.sh/v3:Release",
        good: release({ ingress: { enabled: true, hosts: ["jupyter.example.org"] }, grafana: { ingress: { enabled: true, hosts: ["grafana.example.org"] } } }),
        bad: release({
            ingress: {
                enabled: true,
                host: "longhorn.example.org",
                annotations: { "traefik.ingress.kubernetes.io/router.middlewares": "longhorn-system-longhorn-basic-auth@kubernetescrd" },
            },
        }),
        message: /serves longhorn\.example\.org \(values\.ingress\) without authentication/,
    },
    {
        policy: "ingress-authentication",
        type: "kubernetes:helm.sh/v3:Release",
        config: { selfAuthenticatingHosts: ["openeo.example.org"], ssoMiddlewares: ["sso"] },
        good: release({
            api: { ingress: { enabled: true, rules: [{ host: "openeo.example.org" }] } },
            ui: {
                ingress: {
                    enabled: true,
                    hosts: [{ host: "ui.example.org" }],
                    annotations: { "traefik.ingress.kubernetes.io/router.middlewares": "apps-sso@kubernetescrd" },
                },
            },
        }),
        bad: release({ ingress: { enabled: true, hosts: [{ host: "jupyter.example.org" }] } }),
        message: /serves jupyter\.example\.org .*<namespace>-sso@kubernetescrd/,
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
        good: {
            metadata: { annotations: { "cert-manager.io/inject-ca-from-secret": "cert-manager/cert-manager-webhook-ca", "checksum/secret": "0f3c4e5d6a" } },
        },
        // A password shaped like `<namespace>/<name>` is still a password.
        bad: { metadata: { annotations: { "example.org/client-secret": "s3cr3t/pa55word" } } },
        message: /plain-text secret at metadata\.annotations\.example\.org\/client-secret/,
    },
];

const run = (c: Case, props: Record<string, unknown>): Promise<Outcome> => {
    const policy = byName(c.policy);
    assert.ok("validateResource" in policy);
    return checkResource(policy, c.type, props, "fixture", c.config);
};

describe("policy pack: each policy on fixtures", () => {
    it("exports every policy once, each with a description", () => {
        const names = policies.map((p) => p.name);
        assert.strictEqual(new Set(names).size, names.length);
        assert.ok(resourcePolicies.length >= 13 && stackPolicies.length >= 3);
        for (const p of policies) assert.ok(p.description && p.description.length > 20, p.name);
        for (const p of resourcePolicies)
            assert.ok(
                CASES.some((c) => c.policy === p.name),
                `${p.name} has fixtures`,
            );
    });

    for (const c of CASES) {
        it(`${c.policy}: passes a compliant ${c.type.split(":").pop()} and reports a violating one`, async () => {
            assert.deepStrictEqual((await run(c, c.good)).violations, []);
            const bad = await run(c, c.bad);
            assert.ok(
                bad.violations.some((v) => c.message.test(v)),
                `no violation matched ${c.message}: ${JSON.stringify(bad)}`,
            );
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
        const secret = await checkResource(byName("no-plaintext-secrets") as never, "kubernetes:core/v1:Secret", {
            stringData: { password: "hunter2hunter2" },
        });
        assert.ok(secret.notApplicable);
    });

    const server = (i: number) => ({ type: "aws:ec2/instance:Instance", name: `s${i}`, props: { tags: { "geoplatform:role": "server" } } });
    const cnpg = (instances: number) => ({ type: "kubernetes:postgresql.cnpg.io/v1:Cluster", name: "pg", props: { spec: { instances } } });
    const nodes = (...groups: string[]) =>
        groups.map((g) => ({ type: "kubernetes:core/v1:NodePatch", name: `${g}-1`, props: { metadata: { labels: { "geoplatform.io/node-group": g } } } }));

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

    const namespace = (name: string) => ({ type: "kubernetes:core/v1:Namespace", name: `ns-${name}`, props: { metadata: { name } } });
    const netpol = (ns: string, name: string, spec: Record<string, unknown>) => ({
        type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        name: `${ns}-${name}`,
        props: { metadata: { namespace: ns, name }, spec },
    });
    const deny = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };

    it("namespace-default-deny: accepts a deny-all in every namespace, rejects a namespace without one or with a partial one", async () => {
        const policy = byName("namespace-default-deny") as never;
        const allow = netpol("a", "egress-dns", { podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [{ protocol: "UDP", port: 53 }] }] });
        assert.deepStrictEqual(
            (await checkStack(policy, [namespace("a"), namespace("b"), netpol("a", "default-deny", deny), netpol("b", "default-deny", deny), allow]))
                .violations,
            [],
        );
        const { violations } = await checkStack(policy, [
            namespace("a"),
            namespace("b"),
            namespace("c"),
            netpol("a", "default-deny", deny),
            // Ingress only, one pod only, or with a rule: none of these denies everything.
            netpol("b", "deny-ingress", { podSelector: {}, policyTypes: ["Ingress"] }),
            netpol("c", "deny-one", { podSelector: { matchLabels: { app: "x" } }, policyTypes: ["Ingress", "Egress"] }),
            netpol("c", "allow-all", { ...deny, ingress: [{}] }),
        ]);
        assert.deepStrictEqual(violations.length, 2, violations.join("\n"));
        assert.match(
            violations[0],
            /Namespace b has no default-deny NetworkPolicy: add one selecting every pod \(podSelector \{\}\) with policyTypes \[Ingress, Egress\]/,
        );
        assert.match(violations[1], /Namespace c has no default-deny/);
        assert.ok((await checkStack(policy, [allow])).notApplicable);
    });

    const rule = (name: string, group: string, cidr: string, port: number | "all") => ({
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        name,
        props: {
            securityGroupId: group,
            [cidr.includes(":") ? "cidrIpv6" : "cidrIpv4"]: cidr,
            ...(port === "all" ? { ipProtocol: "-1" } : { ipProtocol: "tcp", fromPort: port, toPort: port }),
        },
    });

    it("no-world-admin-ports-in-pieces: accepts pieces on web ports or across groups, rejects an admin port's world in pieces", async () => {
        const policy = byName("no-world-admin-ports-in-pieces") as never;
        const good = [
            rule("web-lo", "sg-ingress", "0.0.0.0/1", 443),
            rule("web-hi", "sg-ingress", "128.0.0.0/1", 443),
            rule("ssh-lo", "sg-bastion", "0.0.0.0/1", 22),
            rule("ssh-hi", "sg-nodes", "128.0.0.0/1", 22),
            rule("ssh-admins", "sg-bastion", "203.0.113.0/24", 22),
            rule("api-most", "sg-bastion", "0.0.0.0/1", 6443),
            rule("api-gap", "sg-bastion", "128.0.0.0/2", 6443),
        ];
        assert.deepStrictEqual((await checkStack(policy, good)).violations, []);
        const halves = await checkStack(policy, [...good, rule("ssh-hi-bastion", "sg-bastion", "128.0.0.0/1", 22)]);
        assert.deepStrictEqual(halves.violations.length, 1, halves.violations.join("\n"));
        assert.match(
            halves.violations[0],
            /Security group sg-bastion: rules ssh-lo, ssh-admins, ssh-hi-bastion together open port 22 to every ipv4 address \(0\.0\.0\.0\/1 \+ 203\.0\.113\.0\/24 \+ 128\.0\.0\.0\/1\)/,
        );
        const api = await checkStack(policy, [...good, rule("api-rest", "sg-bastion", "192.0.0.0/2", 6443)]);
        assert.match(api.violations.join("\n"), /rules api-most, api-gap, api-rest together open port 6443 to every ipv4 address/);
        const v6 = await checkStack(policy, [rule("a", "sg", "::/1", 10250), rule("b", "sg", "8000::/2", 10250), rule("c", "sg", "c000::/2", 10250)]);
        assert.match(v6.violations.join("\n"), /open port 10250 to every ipv6 address/);
        const all = await checkStack(policy, [rule("a", "sg", "0.0.0.0/1", "all"), rule("b", "sg", "128.0.0.0/1", "all")]);
        assert.strictEqual(all.violations.length, 1, all.violations.join("\n"));
        assert.match(all.violations[0], /together open all protocols and ports to every ipv4 address/);
        // In preview the group's id is unknown: the rule's dependency on the group says which it is.
        const unknownId = (name: string, cidr: string) => ({
            ...rule(name, "", cidr, 22),
            props: { cidrIpv4: cidr, ipProtocol: "tcp", fromPort: 22, toPort: 22 },
            propertyDependencies: { securityGroupId: ["sg-resource"] },
        });
        const group = { type: "aws:ec2/securityGroup:SecurityGroup", name: "sg-resource", props: {} };
        const preview = await checkStack(policy, [group, unknownId("x", "0.0.0.0/1"), unknownId("y", "128.0.0.0/1")]);
        assert.match(
            preview.violations.join("\n"),
            /Security group urn:pulumi:test::geoplatform::aws:ec2\/securityGroup:SecurityGroup::sg-resource: rules x, y together open port 22/,
        );
        assert.deepStrictEqual(
            (await checkStack(policy, [rule("world", "sg", "0.0.0.0/0", 22)])).violations,
            [],
            "a single world rule is no-world-admin-ports' to report",
        );
    });

    it("node-groups-exist: accepts groups the stack has, rejects others", async () => {
        const policy = byName("node-groups-exist") as never;
        const workload = (group: string) => ({ type: DEPLOYMENT, name: "app", props: deployment({ nodeSelector: { "geoplatform.io/node-group": group } }) });
        assert.deepStrictEqual((await checkStack(policy, [...nodes("system", "processing"), workload("processing")])).violations, []);
        const bad = await checkStack(policy, [...nodes("system"), workload("gpu")]);
        assert.match(bad.violations[0], /targets node group "gpu", which this stack does not have \(system\)/);
    });
});
