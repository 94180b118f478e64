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
        const ciSteps = read(".ci/run")
            .split("\n")
            .map((l) => l.trim());
        let at = -1;
        for (const part of command.split("&&").map((p) => p.trim())) {
            const found = ciSteps.findIndex((l, i) => i > at && l.startsWith(part));
            assert.ok(found > at, `.ci/run runs "${part}" in order`);
            at = found;
        }
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
            const at = (run: string) => job.steps.findIndex((s: any) => s.run === run);
            const pulumiAt = job.steps.findIndex((s: any) => typeof s.uses === "string" && s.uses.startsWith("pulumi/actions@"));
            assert.ok(at("npm run build") >= 0 && at("npm run build") < pulumiAt, "npm run build comes first (Pulumi.yaml runs bin/index.js)");
            assert.ok(at("npm run charts") >= 0 && at("npm run charts") < pulumiAt, "the chart cache is filled first (releases install from .charts/)");
            const { policyPacks, policyPackConfigs } = job.steps[pulumiAt].with;
            assert.ok(fs.existsSync(path.join(REPO_ROOT, policyPacks, "PulumiPolicy.yaml")));
            const configs = policyPackConfigs.includes("${{")
                ? ["dev", "prod"].map((s) => policyPackConfigs.replace("${{ matrix.stack }}", s))
                : [policyPackConfigs];
            for (const file of configs) assert.ok(fs.existsSync(path.join(REPO_ROOT, file)), file);
        }
    });

    it("runs the pinned CLI on a self-managed backend with passphrase secrets; deployments create a missing stack", () => {
        for (const job of [preview.jobs.preview, deploy.jobs.dev, deploy.jobs.prod]) {
            const [step] = pulumiSteps(job);
            assert.strictEqual(step.with["pulumi-version-file"], ".pulumi.version");
            assert.match(step.with["cloud-url"], /secrets\.PULUMI_BACKEND_URL/);
        }
        for (const job of [deploy.jobs.dev, deploy.jobs.prod]) {
            assert.strictEqual(pulumiSteps(job)[0].with.upsert, true);
            assert.strictEqual(pulumiSteps(job)[0].with["secrets-provider"], "passphrase");
        }
        // Previews run with read-only credentials, which could not create a stack.
        assert.strictEqual(pulumiSteps(preview.jobs.preview)[0].with.upsert, false);
        assert.match(read(".pulumi.version").trim(), /^\d+\.\d+\.\d+$/);
        for (const env of [pulumiSteps(preview.jobs.preview)[0].env, deploy.env]) {
            assert.match(env.PULUMI_CONFIG_PASSPHRASE, /secrets\.PULUMI_CONFIG_PASSPHRASE/, "the passphrase comes from a secret");
            assert.strictEqual(env.PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER, "true");
        }
    });

    it("the pinned CLI is no older than the SDK the program is built with", () => {
        const sdk = JSON.parse(read("node_modules/@pulumi/pulumi/package.json")).version as string;
        const cli = read(".pulumi.version").trim();
        const [a, b] = [cli, sdk].map((v) => v.split(".").map(Number));
        const cmp = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
        assert.ok(cmp >= 0, `.pulumi.version ${cli} is older than @pulumi/pulumi ${sdk}`);
    });

    it("keeps secrets away from pull-request code and deploys from inside adminCidrs", () => {
        assert.strictEqual(preview.env, undefined, "no workflow-wide secrets in pull requests");
        assert.strictEqual(preview.jobs.test.env, undefined, "the test job sees no secret");
        assert.ok(!JSON.stringify(preview.jobs.test).includes("secrets."), "the test job sees no secret");
        assert.strictEqual(preview.jobs.preview.environment, "preview", "read-only credentials, behind approval");
        // Only the Pulumi step and the step writing clouds.yaml, after the pull request's package scripts have run, see a secret.
        const job = preview.jobs.preview;
        assert.strictEqual(job.env, undefined);
        const firstSecret = job.steps.findIndex((s: any) => JSON.stringify(s).includes("secrets."));
        assert.ok(firstSecret > job.steps.findIndex((s: any) => s.run === "npm run build"));
        assert.match(preview.jobs.preview.if, /head\.repo\.full_name == github\.repository/);
        for (const job of [deploy.jobs.dev, deploy.jobs.prod]) assert.deepStrictEqual(job["runs-on"], ["self-hosted", "linux", "geoplatform-deploy"]);
        assert.strictEqual(deploy.jobs.dev.environment, "dev");
    });

    it("uses the actions' current majors, installs packages after an index update, and checks placeholders before up", () => {
        const majors: Record<string, string> = { "actions/checkout": "v7", "actions/setup-node": "v7", "pulumi/actions": "v7" };
        for (const wf of [preview, deploy]) {
            for (const job of Object.values<any>(wf.jobs)) {
                for (const step of job.steps) {
                    if (typeof step.uses === "string") {
                        const [action, ref] = step.uses.split("@");
                        assert.strictEqual(ref, majors[action], `${step.uses}: expected ${action}@${majors[action]}`);
                    }
                    if (typeof step.run === "string" && /apt-get install/.test(step.run)) assert.match(step.run, /apt-get update &&/);
                    if (step.with?.["node-version-file"]) assert.strictEqual(step.with["node-version-file"], ".nvmrc");
                }
            }
        }
        for (const [stack, job] of Object.entries<any>({ dev: deploy.jobs.dev, prod: deploy.jobs.prod })) {
            const checkAt = job.steps.findIndex((s: any) => s.run === `npm run -s check -- ${stack} --deploy`);
            assert.ok(checkAt >= 0 && checkAt < job.steps.findIndex((s: any) => s.uses?.startsWith("pulumi/actions@")));
        }
    });

    it("names only npm scripts that exist, in the README, deploy.sh, .ci/run and the workflows", () => {
        const scripts = Object.keys(JSON.parse(read("package.json")).scripts);
        for (const file of ["README.md", "scripts/deploy.sh", ".ci/run", ".github/workflows/preview.yml", ".github/workflows/deploy.yml", "docs/ci.md"]) {
            for (const [, name] of read(file).matchAll(/npm run (?:-s )?([a-z][\w:-]*)/g)) assert.ok(scripts.includes(name), `${file}: npm run ${name}`);
        }
    });
});
