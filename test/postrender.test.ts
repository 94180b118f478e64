import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { postRender } from "./charts/render";
import { REPO_ROOT } from "./harness/stack-config";

// The Longhorn Release's post-renderer, run as the provider runs it: the file itself, manifests on stdin.
const SCRIPT = path.join(REPO_ROOT, "platform", "postrender", "longhorn-manager.js");
const run = (stdin: string) => spawnSync(SCRIPT, [], { input: stdin, encoding: "utf8" });

const SYSTEM = "      nodeSelector:\n        geoplatform.io/node-group: system\n";
const doc = (source: string, kind: string, name: string, opts: { hook?: string; selector?: string } = {}) =>
    `---\n# Source: longhorn/templates/${source}\napiVersion: ${kind === "Job" ? "batch/v1" : "apps/v1"}\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: longhorn-system\n` +
    (opts.hook ? `  annotations:\n    "helm.sh/hook": ${opts.hook}\n` : "") +
    `spec:\n  template:\n    spec:\n      containers:\n      - name: ${name}\n        image: longhornio/longhorn-manager:v1.12.1\n        command: [longhorn-manager, "--flag=a: b"]\n${opts.selector ?? SYSTEM}`;

const MANAGER = doc("daemonset-sa.yaml", "DaemonSet", "longhorn-manager");
const HOOK = doc("postupgrade-job.yaml", "Job", "longhorn-post-upgrade", { hook: "post-upgrade" });
const JOB = doc("other-job.yaml", "Job", "some-job", { selector: "" });
const AGENT = doc("other-ds.yaml", "DaemonSet", "some-agent");
const CONFIG =
    "---\n# Source: longhorn/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  x: |\n    ---\n    inner: doc\n";

describe("Longhorn post-renderer (platform/postrender/longhorn-manager.js)", () => {
    it("takes the system pin off the manager DaemonSet only and passes every other document through byte for byte", () => {
        const out = run([CONFIG, HOOK, MANAGER, JOB, AGENT].join(""));
        assert.strictEqual(out.status, 0, out.stderr);
        const [before, after] = out.stdout.split(/^(?=---\n# Source: longhorn\/templates\/daemonset-sa.yaml)/m);
        assert.strictEqual(before, CONFIG + HOOK);
        const manager = after.slice(0, after.indexOf("---\n# Source: longhorn/templates/other-job.yaml"));
        assert.strictEqual(after.slice(manager.length), JOB + AGENT);
        assert.ok(manager.startsWith("---\n# Source: longhorn/templates/daemonset-sa.yaml\n"), manager);
        const expected = yaml.load(MANAGER) as any;
        delete expected.spec.template.spec.nodeSelector;
        assert.deepStrictEqual(yaml.load(manager), expected);
    });

    it("keeps the manager's other selector keys", () => {
        const out = run(doc("daemonset-sa.yaml", "DaemonSet", "longhorn-manager", { selector: `${SYSTEM}        kubernetes.io/os: linux\n` }));
        assert.strictEqual(out.status, 0, out.stderr);
        assert.deepStrictEqual((yaml.load(out.stdout) as any).spec.template.spec.nodeSelector, { "kubernetes.io/os": "linux" });
    });

    it("fails, saying why, when the manager is missing or not pinned to system (so it is never confined, or left unplaced, silently)", () => {
        const missing = run(HOOK + JOB);
        assert.strictEqual(missing.status, 1);
        assert.match(missing.stderr, /expected one DaemonSet longhorn-manager in the rendered Longhorn chart, found 0/);
        assert.strictEqual(missing.stdout, "");
        const unpinned = run(doc("daemonset-sa.yaml", "DaemonSet", "longhorn-manager", { selector: "" }));
        assert.strictEqual(unpinned.status, 1);
        assert.match(
            unpinned.stderr,
            /DaemonSet longhorn-manager has nodeSelector null, expected geoplatform.io\/node-group: system \(longhornManager.nodeSelector in platform\/longhorn.ts\)/,
        );
    });
});

describe("test:charts' post-render (test/charts/render.ts), as the provider's Helm v3 does it", () => {
    it("pipes the manifests through the executable and passes the hooks by (helm v3.20.2 pkg/action/action.go renderResources)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-postrender-"));
        try {
            const marker = path.join(dir, "mark.sh");
            fs.writeFileSync(marker, "#!/bin/sh\nexec sed 's/^kind: Job$/kind: Job # seen/'\n", { mode: 0o755 });
            const out = postRender(CONFIG + HOOK + JOB, marker);
            assert.strictEqual(out, CONFIG + JOB.replace("kind: Job\n", "kind: Job # seen\n") + HOOK);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
