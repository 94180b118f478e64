import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import { createRequire } from "module";
import * as path from "path";
import { resourcePolicies, stackPolicies } from "../../policy/policies";
import { sharedStackRun, StackRun } from "../harness/run-stack";
import { REPO_ROOT } from "../harness/stack-config";
import { asPolicyResource, checkResource, checkStack } from "./engine";

// Starts the pack the way the Pulumi engine does: node runs
// @pulumi/pulumi/cmd/run-policy-pack from the pack's own node_modules with
// the engine address and the pack directory, and prints the port its
// analyzer listens on. A client from @pulumi/pulumi's generated gRPC stubs
// then asks it what the engine asks.

const POLICY_DIR = path.join(REPO_ROOT, "policy");
const policyRequire = createRequire(path.join(POLICY_DIR, "package.json"));
const grpc = policyRequire("@grpc/grpc-js");
const services = policyRequire("@pulumi/pulumi/proto/analyzer_grpc_pb.js");
const messages = policyRequire("@pulumi/pulumi/proto/analyzer_pb.js");
const { Struct } = policyRequire("google-protobuf/google/protobuf/struct_pb.js");
const { Empty } = policyRequire("google-protobuf/google/protobuf/empty_pb.js");

/** A stack resource and some that violate, so that matching results are not trivially empty. */
const VIOLATING = [
    { type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name: "ssh-world", props: { cidrIpv4: "0.0.0.0/0", fromPort: 22, toPort: 22 } },
    {
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        name: "kubelet-lo",
        props: { securityGroupId: "sg-x", cidrIpv4: "0.0.0.0/1", ipProtocol: "tcp", fromPort: 10250, toPort: 10250 },
    },
    {
        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        name: "kubelet-hi",
        props: { securityGroupId: "sg-x", cidrIpv4: "128.0.0.0/1", ipProtocol: "tcp", fromPort: 10250, toPort: 10250 },
    },
    { type: "command:remote:Command", name: "inline-token", props: { create: "K3S_TOKEN=supersecretjointoken sh install.sh" } },
    {
        type: "kubernetes:core/v1:Namespace",
        name: "privileged",
        props: { metadata: { name: "apps", labels: { "pod-security.kubernetes.io/enforce": "privileged" } } },
    },
    { type: "kubernetes:core/v1:Namespace", name: "unlabelled", props: { metadata: { name: "unlabelled" } } },
    {
        type: "kubernetes:helm.sh/v3:Release",
        name: "loose",
        props: { chart: "x", version: "*", repositoryOpts: { repo: "http://example.org" }, values: { rootPassword: "hunter2hunter2" } },
    },
    {
        type: "kubernetes:apps/v1:Deployment",
        name: "on-gpu",
        props: {
            spec: {
                template: {
                    spec: {
                        nodeSelector: { "geoplatform.io/node-group": "gpu" },
                        containers: [{ name: "c", image: "busybox:1.37", resources: { requests: { cpu: "1m" }, limits: { memory: "8Mi" } } }],
                    },
                },
            },
        },
    },
];

const call = <T>(client: any, method: string, request: unknown): Promise<T> =>
    new Promise((resolve, reject) => client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));

const struct = (props: Record<string, unknown>) => Struct.fromJavaScript(JSON.parse(JSON.stringify(props)));
const key = (policy: string, message: string) => `${policy}: ${message}`;
/** The server prefixes each violation with the policy's description, as the CLI shows it. */
const served = (policy: { name: string; description: string }, message: string) => key(policy.name, `${policy.description}\n${message}`);

describe("policy pack served over the analyzer protocol", function () {
    this.timeout(120000);
    let pack: ChildProcess;
    let client: any;
    let run: StackRun;
    let resources: { type: string; name: string; props: Record<string, any> }[];

    before(async () => {
        pack = spawn(process.execPath, [path.join(POLICY_DIR, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:0", POLICY_DIR], {
            cwd: POLICY_DIR,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stderr = "";
        pack.stderr?.on("data", (d) => (stderr += d));
        const port = await new Promise<number>((resolve, reject) => {
            let out = "";
            pack.stdout?.on("data", (d) => {
                out += d;
                const m = /^(\d+)\s*$/m.exec(out);
                if (m) resolve(Number(m[1]));
            });
            pack.on("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${stderr}`)));
        });
        client = new services.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        run = await sharedStackRun("prod");
        resources = [...run.resources.map(asPolicyResource), ...VIOLATING];
    });

    after(() => {
        client?.close();
        pack?.kill();
    });

    it("describes itself with every policy of the pack", async () => {
        const info: any = await call(client, "getAnalyzerInfo", new Empty());
        assert.strictEqual(info.getName(), "geoplatform");
        const served = info
            .getPoliciesList()
            .map((p: any) => p.getName())
            .sort();
        assert.deepStrictEqual(served, [...resourcePolicies, ...stackPolicies].map((p) => p.name).sort());
    });

    it("reports for each resource exactly what the policies report when called directly", async () => {
        let total = 0;
        for (const r of resources) {
            const request = new messages.AnalyzeRequest();
            request.setType(r.type);
            request.setName(r.name);
            request.setUrn(`urn:pulumi:prod::geoplatform::${r.type}::${r.name}`);
            request.setProperties(struct(r.props));
            request.setOptions(new messages.AnalyzerResourceOptions());
            const response: any = await call(client, "analyze", request);
            const reported = response
                .getDiagnosticsList()
                .map((d: any) => key(d.getPolicyname(), d.getMessage()))
                .sort();
            const direct: string[] = [];
            for (const policy of resourcePolicies) {
                (await checkResource(policy, r.type, r.props, r.name)).violations.forEach((m) => direct.push(served(policy, m)));
            }
            assert.deepStrictEqual(reported, direct.sort(), `${r.type} ${r.name}`);
            total += reported.length;
        }
        assert.ok(total >= 6, "the violating resources were reported");
    });

    it("reports for the whole stack what the stack policies report when called directly", async () => {
        const request = new messages.AnalyzeStackRequest();
        request.setResourcesList(
            resources.map((r) => {
                const resource = new messages.AnalyzerResource();
                resource.setType(r.type);
                resource.setName(r.name);
                resource.setUrn(`urn:pulumi:prod::geoplatform::${r.type}::${r.name}`);
                resource.setProperties(struct(r.props));
                resource.setOptions(new messages.AnalyzerResourceOptions());
                return resource;
            }),
        );
        const response: any = await call(client, "analyzeStack", request);
        const reported = response
            .getDiagnosticsList()
            .map((d: any) => key(d.getPolicyname(), d.getMessage()))
            .sort();
        const direct: string[] = [];
        for (const policy of stackPolicies) (await checkStack(policy, resources)).violations.forEach((m) => direct.push(served(policy, m)));
        assert.deepStrictEqual(reported, direct.sort());
        assert.ok(
            reported.some((d: string) => d.startsWith("node-groups-exist") && d.includes('"gpu"')),
            reported.join("\n"),
        );
        assert.ok(
            reported.some((d: string) => d.startsWith("no-world-admin-ports-in-pieces") && d.includes("kubelet-lo, kubelet-hi")),
            reported.join("\n"),
        );
    });
});
