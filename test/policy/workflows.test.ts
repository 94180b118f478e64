import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { REPO_ROOT } from "../harness/stack-config";

// The CI workflows must run what the README tells people to run, with the
// pack and enforcement files that exist in this repository.

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), "utf8");
const workflow = (file: string) => yaml.load(read(`.github/workflows/${file}`)) as any;

/** The README's test command: the shell block that follows "Set up and run the tests". */
function readmeTestCommand(): string {
    const m = /Set up and run the tests[^\n]*\n+```sh\n([^\n]+)\n```/.exec(read("README.md"));
    assert.ok(m, "README has a test command block");
    return m[1].trim();
}

const pulumiSteps = (job: any) => job.steps.filter((s: any) => typeof s.uses === "string" && s.uses.startsWith("pulumi/actions@"));
const runs = (job: any) => job.steps.filter((s: any) => s.run).map((s: any) => s.run.trim());

describe("CI workflows", () => {
    const preview = workflow("preview.yml");
    const deploy = workflow("deploy.yml");

    it("CI and the pull-request job run the README's test command", () => {
        const command = readmeTestCommand();
        assert.strictEqual(command, "npm ci && npm ci --prefix policy && npm test");
        assert.ok(runs(preview.jobs.test).includes(command));
        // .ci/run runs the same steps, one per line.
        const ciSteps = read(".ci/run").split("\n").map((l) => l.trim());
        let at = -1;
        for (const part of command.split("&&").map((p) => p.trim())) {
            const found = ciSteps.findIndex((l, i) => i > at && l.startsWith(part));
            assert.ok(found > at, `.ci/run runs "${part}" in order`);
            at = found;
        }
    });

    it("CI renders the charts after the README's test command; deploy.sh caches them before Pulumi", () => {
        const ci = read(".ci/run").split("\n").map((l) => l.trim());
        const at = (line: string) => ci.findIndex((l) => l === line);
        assert.ok(at("npm test") >= 0 && at("npm test") < at("npm run charts") && at("npm run charts") < at("npm run test:charts"), ".ci/run: npm test, npm run charts, npm run test:charts");
        const deploySh = read("scripts/deploy.sh");
        assert.ok(deploySh.indexOf("npm run charts") > 0 && deploySh.indexOf("npm run charts") < deploySh.indexOf("pulumi login"));
    });

    it("previews both stacks on pull requests with the pack, its stack config and a PR comment", () => {
        assert.ok(preview.on.pull_request);
        const job = preview.jobs.preview;
        assert.deepStrictEqual(job.strategy.matrix.stack, ["dev", "prod"]);
        assert.ok(job.needs === "test" || job.needs.includes("test"));
        const [step] = pulumiSteps(job);
        assert.strictEqual(step.with.command, "preview");
        assert.strictEqual(step.with["comment-on-pr"], true);
        assert.strictEqual(step.with.policyPacks, "policy");
        assert.strictEqual(step.with.policyPackConfigs, "policy/config/${{ matrix.stack }}.json");
        assert.match(step.with["cloud-url"], /secrets\.PULUMI_BACKEND_URL/);
    });

    it("deploys dev on main, then prod behind the protected production environment", () => {
        assert.deepStrictEqual(deploy.on.push.branches, ["main"]);
        assert.strictEqual(pulumiSteps(deploy.jobs.dev)[0].with.command, "up");
        assert.strictEqual(deploy.jobs.prod.needs, "dev");
        assert.strictEqual(deploy.jobs.prod.environment, "production");
        assert.strictEqual(pulumiSteps(deploy.jobs.prod)[0].with["stack-name"], "prod");
    });

    it("builds the program before every Pulumi step and points at files that exist", () => {
        const jobs = [preview.jobs.preview, deploy.jobs.dev, deploy.jobs.prod];
        for (const job of jobs) {
            const buildAt = job.steps.findIndex((s: any) => s.run === "npm run build");
            const pulumiAt = job.steps.findIndex((s: any) => typeof s.uses === "string" && s.uses.startsWith("pulumi/actions@"));
            assert.ok(buildAt >= 0 && buildAt < pulumiAt, "npm run build comes first (Pulumi.yaml runs bin/index.js)");
            const chartsAt = job.steps.findIndex((s: any) => s.run === "npm run charts");
            assert.ok(chartsAt >= 0 && chartsAt < pulumiAt, "npm run charts comes first (the Releases install .charts/ archives)");
            assert.match(job.steps[pulumiAt].uses, /^pulumi\/actions@v\d+$/, "the action is pinned to a major version");
            const { policyPacks, policyPackConfigs } = job.steps[pulumiAt].with;
            assert.ok(fs.existsSync(path.join(REPO_ROOT, policyPacks, "PulumiPolicy.yaml")));
            const configs = policyPackConfigs.includes("${{") ? ["dev", "prod"].map((s) => policyPackConfigs.replace("${{ matrix.stack }}", s)) : [policyPackConfigs];
            for (const file of configs) assert.ok(fs.existsSync(path.join(REPO_ROOT, file)), file);
        }
        for (const wf of [preview, deploy]) {
            assert.match(wf.env.PULUMI_CONFIG_PASSPHRASE, /secrets\.PULUMI_CONFIG_PASSPHRASE/, "the passphrase comes from a secret");
        }
    });
});
