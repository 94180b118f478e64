import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { DEPLOY_PARALLEL } from "../config/parallel";
import { REPO_ROOT } from "./harness/stack-config";

// scripts/deploy.sh, the README's main command, runs for real in a copy of the
// project with fake npm, npx and pulumi on PATH that log their calls.

const DEPLOY = path.join(REPO_ROOT, "scripts/deploy.sh");
const PINNED = fs.readFileSync(path.join(REPO_ROOT, ".pulumi.version"), "utf8").trim();

class Project {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-deploy-"));
    readonly bin = path.join(this.dir, "fakebin");

    constructor() {
        fs.mkdirSync(path.join(this.dir, "scripts"));
        fs.copyFileSync(DEPLOY, path.join(this.dir, "scripts/deploy.sh"));
        fs.copyFileSync(path.join(REPO_ROOT, ".pulumi.version"), path.join(this.dir, ".pulumi.version"));
        for (const stack of ["dev", "prod"]) fs.copyFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), path.join(this.dir, `Pulumi.${stack}.yaml`));
        fs.mkdirSync(path.join(this.dir, "policy/config"), { recursive: true });
        fs.writeFileSync(path.join(this.dir, "policy/config/dev.json"), "{}");
        fs.mkdirSync(this.bin);
        this.fake("npm", `echo "npm $*" >>"$CALLS"; [ "$*" != "${"${FAIL_NPM:-}"}" ]`);
        this.fake("npx", `echo "npx PULUMI_VERSION=$PULUMI_VERSION $*" >>"$CALLS"`);
    }

    fake(name: string, body: string): void {
        fs.writeFileSync(path.join(this.bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    }

    withPulumiOnPath(version: string): this {
        this.fake("pulumi", `if [ "$1" = version ]; then echo v${version}; exit 0; fi; echo "pulumi PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL $*" >>"$CALLS"`);
        return this;
    }

    run(args: string[], env: Record<string, string> = { PULUMI_CONFIG_PASSPHRASE: "test" }): { status: number; stderr: string; calls: string[] } {
        const calls = path.join(this.dir, "calls");
        const result = spawnSync("bash", [path.join(this.dir, "scripts/deploy.sh"), ...args], {
            env: { PATH: `${this.bin}:/usr/bin:/bin`, HOME: this.dir, CALLS: calls, ...env },
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
        const logged = fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : [];
        return { status: result.status ?? -1, stderr: result.stderr, calls: logged };
    }
}

describe("scripts/deploy.sh (the main command)", () => {
    it("is shellcheck-clean", () => {
        execFileSync("shellcheck", [DEPLOY]);
    });

    it("installs, fetches the charts, builds, then previews with the pack on a local backend, using the pulumi on PATH", () => {
        const project = new Project().withPulumiOnPath(PINNED);
        const { status, calls, stderr } = project.run(["dev", "preview", "--diff"]);
        assert.strictEqual(status, 0, stderr);
        const backend = `file://${project.dir}/.pulumi-state`;
        assert.deepStrictEqual(calls, [
            "npm ci --no-audit --no-fund",
            "npm ci --prefix policy --no-audit --no-fund",
            "npm run charts",
            "npm run build",
            `pulumi PULUMI_BACKEND_URL=${backend} stack select dev --create --secrets-provider passphrase`,
            `pulumi PULUMI_BACKEND_URL=${backend} preview --stack dev --parallel 64 --policy-pack policy --policy-pack-config policy/config/dev.json --diff`,
        ]);
        assert.ok(fs.statSync(path.join(project.dir, ".pulumi-state")).isDirectory());
        assert.ok(!calls.some((c) => c.includes(" login")), "no `pulumi login`: the user's default backend stays as it was");
    });

    it("keeps the stack file's comments when creating the stack adds its encryption salt", () => {
        const project = new Project();
        // The CLI re-marshals the whole file when it records a new stack's salt (pulumi/pulumi workspace/project.go save()).
        project.fake(
            "pulumi",
            `case "$*" in *"stack select"*) grep -v '^ *#' Pulumi.dev.yaml | sed 's/ *#.*//' >new; { echo "encryptionsalt: v1:c2FsdA==:v1:abc"; cat new; } >Pulumi.dev.yaml; rm new;; esac`,
        );
        const before = fs.readFileSync(path.join(project.dir, "Pulumi.dev.yaml"), "utf8");
        const first = project.run(["dev"]);
        assert.strictEqual(first.status, 0, first.stderr);
        assert.match(first.stderr, /commit it/);
        const after = fs.readFileSync(path.join(project.dir, "Pulumi.dev.yaml"), "utf8");
        assert.strictEqual(after, `encryptionsalt: v1:c2FsdA==:v1:abc\n${before}`);
        // A stack that has its salt is left as the CLI leaves it.
        project.fake("pulumi", "true");
        assert.strictEqual(project.run(["dev"]).status, 0);
        assert.strictEqual(fs.readFileSync(path.join(project.dir, "Pulumi.dev.yaml"), "utf8"), after);
    });

    it("says when the pulumi on PATH is not the pinned version", () => {
        const { status, stderr } = new Project().withPulumiOnPath("3.1.0").run(["prod"]);
        assert.strictEqual(status, 0);
        assert.match(stderr, new RegExp(`using the pulumi on PATH \\(3\\.1\\.0\\); this project is tested with ${PINNED.replace(/\./g, "\\.")}`));
    });

    it("without a pulumi on PATH, runs the npm launcher at the pinned version, and honours PULUMI_BACKEND_URL", () => {
        const { status, calls } = new Project().run(["prod", "refresh"], { PULUMI_CONFIG_PASSPHRASE: "x", PULUMI_BACKEND_URL: "s3://state" });
        assert.strictEqual(status, 0);
        assert.deepStrictEqual(calls.slice(-2), [
            `npx PULUMI_VERSION=${PINNED} --no-install pulumi stack select prod --create --secrets-provider passphrase`,
            `npx PULUMI_VERSION=${PINNED} --no-install pulumi refresh --stack prod --parallel 64`,
        ]);
    });

    it("checks the stack offline before `up`, and stops there when the check refuses it (CHANGE-ME placeholders)", () => {
        const project = new Project().withPulumiOnPath(PINNED);
        const { status, calls } = project.run(["dev", "up"], { PULUMI_CONFIG_PASSPHRASE: "x", FAIL_NPM: "run -s check -- dev --deploy" });
        assert.notStrictEqual(status, 0);
        assert.strictEqual(calls[calls.length - 1], "npm run -s check -- dev --deploy");
        assert.ok(!calls.some((c) => c.startsWith("pulumi")), "pulumi never ran");
    });

    it("works for any Pulumi.<stack>.yaml and refuses a stack that has none, naming the ones there are", () => {
        const project = new Project().withPulumiOnPath(PINNED);
        fs.copyFileSync(path.join(project.dir, "Pulumi.dev.yaml"), path.join(project.dir, "Pulumi.staging.yaml"));
        const staging = project.run(["staging"]);
        assert.strictEqual(staging.status, 0, staging.stderr);
        assert.match(staging.calls[staging.calls.length - 1], /preview --stack staging --parallel 64 --policy-pack policy$/);
        const missing = project.run(["qa"]);
        assert.strictEqual(missing.status, 2);
        assert.match(missing.stderr, /No Pulumi\.qa\.yaml .*stacks here: dev prod staging/);
    });

    it("gives pulumi the step workers `npm run check` holds the agents against (DEPLOY_PARALLEL), as the deploy workflow does; a user's --parallel wins", () => {
        const project = new Project().withPulumiOnPath(PINNED);
        const { status, calls, stderr } = project.run(["prod", "up", "--parallel", "8"]);
        assert.strictEqual(status, 0, stderr);
        const up = calls[calls.length - 1].split(" ");
        assert.deepStrictEqual(up.slice(2, 6), ["up", "--stack", "prod", "--parallel"]);
        assert.strictEqual(up[6], String(DEPLOY_PARALLEL));
        // cobra keeps the last value of a flag given twice.
        assert.deepStrictEqual(up.slice(-2), ["--parallel", "8"]);
        const workflow = yaml.load(fs.readFileSync(path.join(REPO_ROOT, ".github/workflows/deploy.yml"), "utf8")) as any;
        const ups = Object.values(workflow.jobs).flatMap((job: any) => job.steps.filter((s: any) => String(s.uses).startsWith("pulumi/actions@")));
        assert.strictEqual(ups.length, 2);
        for (const step of ups) {
            assert.strictEqual(step.with.command, "up");
            assert.strictEqual(step.with.parallel, DEPLOY_PARALLEL, step.with["stack-name"]);
        }
    });

    it("refuses to run without a passphrase, before installing anything", () => {
        const { status, stderr, calls } = new Project().withPulumiOnPath(PINNED).run(["dev"], {});
        assert.strictEqual(status, 1);
        assert.match(stderr, /Set PULUMI_CONFIG_PASSPHRASE/);
        assert.deepStrictEqual(calls, []);
    });
});
