import * as assert from "assert";
import { RunError } from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../config/checker";
import { CHARTS } from "../config/catalog";
import { DEPLOY_PARALLEL, parallelProblems } from "../config/parallel";
import { placeholderProblems } from "../config/placeholders";
import { validateConfig } from "../config/validate";
import { check } from "../scripts/check";
import { rawGeoplatformConfig, REPO_ROOT } from "./harness/stack-config";

// `npm run check -- <stack>`: the offline dry run a newcomer starts with.

describe("npm run check", () => {
    const badStack = "check-test-bad";
    const badFile = path.join(REPO_ROOT, `Pulumi.${badStack}.yaml`);
    after(() => fs.rmSync(badFile, { force: true }));

    it("prints the plan of a real stack: node groups, resources by layer, pinned releases, UIs", async () => {
        const { code, out } = await check(["prod"]);
        assert.strictEqual(code, 0);
        assert.match(out, /^Stack prod \(aws\), K3s v1\.\d+\.\d+\+k3s\d+/);
        assert.match(out, /control-plane\s+server\s+3 x /);
        for (const layer of ["infra", "k3s", "platform", "apps"]) assert.match(out, new RegExp(`^  ${layer}\\s+\\d+\\s`, "m"));
        assert.match(out, new RegExp(`kube-prometheus-stack\\s+${CHARTS.monitoring.version.replace(/\./g, "\\.")}`));
        assert.match(out, /jupyterhub\s+https:\/\/jupyter\./);
        assert.match(out, /grafana\s+https:\/\/grafana\.\S+\s+admin user admin/);
    });

    it("prints config errors as pulumi preview does: the message alone, no stack trace", async () => {
        const dev = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8");
        fs.writeFileSync(badFile, dev.replace(/k3sVersion: \S+/, "k3sVersion: latest"));
        const { code, out, err } = await check([badStack]);
        assert.strictEqual(code, 1);
        assert.strictEqual(out, "");
        assert.strictEqual(
            err,
            [
                "Diagnostics:",
                `  pulumi:pulumi:Stack (geoplatform-${badStack}):`,
                "    error: Invalid geoplatform stack configuration (1 problem):",
                '      - geoplatform:k3sVersion: got "latest", expected a pinned K3s release such as v1.33.5+k3s1',
            ].join("\n"),
        );
        // The SDK's cmd/run prints a RunError's message without its stack.
        assert.ok(RunError.isInstance(new ConfigError(["x"])));
    });

    it("passes a server roll (deploy.sh runs it before up), saying the real guard reads the stack's last update at up", async () => {
        const prod = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8");
        fs.writeFileSync(badFile, prod.replace(/^config:\n/m, "config:\n  geoplatform:rollNodes: [check-test-bad-control-plane-2]\n"));
        const { code, err } = await check([badStack]);
        assert.strictEqual(code, 0, err);
        assert.match(
            err,
            /note: rollNodes lists a server; checked as if the last update ran check-test-bad-control-plane-1, check-test-bad-control-plane-2, check-test-bad-control-plane-3; `up` checks the stack's real k3sServers output/,
        );
        assert.doesNotMatch((await check(["prod"])).err, /rollNodes lists a server/);
    });

    it("refuses the stack files' CHANGE-ME placeholders for a deployment, not for a preview", async () => {
        const { code, err } = await check(["dev", "--deploy"]);
        assert.strictEqual(code, 1);
        assert.match(err, /geoplatform:domain: got "dev\.geo\.example\.org", expected a value of your own/);
        assert.match(err, /geoplatform:adminCidrs\[0\]: got "203\.0\.113\.0\/24"/);
        const usage = await check([]);
        assert.strictEqual(usage.code, 2);
        const missing = await check(["nope"]);
        assert.match(missing.err, /no Pulumi\.nope\.yaml; stacks here: .*dev.*prod/);
    });

    it("takes documentation domains and address ranges for placeholders, and nothing else", () => {
        const config = validateConfig(rawGeoplatformConfig("prod"), "prod");
        assert.deepStrictEqual(
            placeholderProblems(config).map((p) => p.split(":").slice(0, 2).join(":")),
            ["geoplatform:domain", "geoplatform:acmeEmail", "geoplatform:adminCidrs[0]", "geoplatform:aws.ami"],
        );
        const dev = validateConfig(rawGeoplatformConfig("dev"), "dev");
        assert.ok(placeholderProblems(dev).some((p) => p.startsWith("geoplatform:openstack.imageId:")));
        const aws = config.aws as NonNullable<typeof config.aws>;
        const own = {
            ...config,
            domain: "geo.acme.eu",
            acmeEmail: "ops@acme.eu",
            adminCidrs: ["198.18.0.0/15", "2a01:4f8::/32"],
            aws: { ...aws, ami: "ami-0a1b2c3d4e5f60718" },
        };
        assert.deepStrictEqual(placeholderProblems(own), []);
        const docs = { ...own, adminCidrs: ["198.51.100.7/32", "2001:db8:1::/48"], domain: "example.com" };
        assert.deepStrictEqual(
            placeholderProblems(docs).map((p) => p.split(":").slice(0, 2).join(":")),
            ["geoplatform:domain", "geoplatform:adminCidrs[0]", "geoplatform:adminCidrs[1]"],
        );
    });

    it("refuses more agents than the deployments' step workers, and warns past half of them (review M2)", async () => {
        const dev = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8");
        const counts = (system: number, processing: number) =>
            dev
                .replace(/(system:\n\s+role: agent\n\s+)count: 1/, `$1count: ${system}`)
                .replace(/(processing:\n\s+role: agent\n\s+)count: 1/, `$1count: ${processing}`);
        fs.writeFileSync(badFile, counts(14, 50));
        const { code, out, err } = await check([badStack]);
        assert.strictEqual(code, 1, err);
        assert.strictEqual(out, "");
        assert.match(
            err,
            /^ {6}- geoplatform:nodeGroups: got 64 agents, expected fewer than 64: each agent waiting for the roll lock holds one of the 64 step workers .*--parallel.*$/m,
        );
        assert.strictEqual(err.split("\n").filter((l) => l.startsWith("      - ")).length, 1, err);

        const config = (system: number, processing: number) => {
            const raw = structuredClone(rawGeoplatformConfig("dev")) as any;
            raw.nodeGroups.system.count = system;
            raw.nodeGroups.processing.count = processing;
            return validateConfig(raw, "dev");
        };
        assert.deepStrictEqual(parallelProblems(config(13, 50)).errors, []);
        assert.match(parallelProblems(config(13, 50)).warnings.join(), /^warning: 63 agents take more than half of the 64 step workers/);
        assert.deepStrictEqual(parallelProblems(config(1, 31)), { errors: [], warnings: [] }, "half of them exactly");
        assert.match(parallelProblems(config(2, 31)).warnings.join(), /33 agents/);
        const prod = await check(["prod"]);
        assert.strictEqual(prod.code, 0);
        assert.strictEqual(prod.err, "", "prod's 6 agents are far below the workers");
        assert.strictEqual(DEPLOY_PARALLEL, 64);
    });
});
