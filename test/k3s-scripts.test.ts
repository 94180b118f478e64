import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { k3sConfigYaml, renderScript, ScriptName } from "../platform/k3s/render";
import { REPO_ROOT } from "./harness/stack-config";

// The node scripts run for real here: bash executes exactly what a command
// sends on stdin, with fake curl, k3s, systemctl, apt-get... on PATH that log
// their calls, and a temporary root instead of /.

const FAKES: Record<string, string> = {
    "cloud-init": `echo "cloud-init $*" >>"$SANDBOX/calls"`,
    dpkg: `[ -f "$SANDBOX/packages-installed" ]`,
    // Reads its stdin, as real package tools may: it must not get the rest of the script.
    "apt-get": `cat >/dev/null; echo "apt-get $*" >>"$SANDBOX/calls"; case "$*" in *install*) touch "$SANDBOX/packages-installed";; esac`,
    systemctl: `echo "systemctl $*" >>"$SANDBOX/calls"`,
    // Polls stay real but short, so deadlines pass within a test.
    sleep: `exec /bin/sleep 0.2`,
    // Downloads an "installer" that records its environment and leaves a k3s binary of that version.
    curl: `echo "curl $*" >>"$SANDBOX/calls"
out=""; while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out=$2; shift; done
cat >"$out" <<'INSTALLER'
echo "installer INSTALL_K3S_VERSION=$INSTALL_K3S_VERSION INSTALL_K3S_EXEC=$INSTALL_K3S_EXEC" >>"$SANDBOX/calls"
printf '#!/bin/sh\\nif [ "$1" = --version ]; then echo "k3s version %s (abc123)"; echo "go version go1.24"; exit 0; fi\\n. "$SANDBOX/k3s-fake"\\n' "$INSTALL_K3S_VERSION" >"$SANDBOX/bin/k3s"
chmod +x "$SANDBOX/bin/k3s"
INSTALLER`,
};

/** k3s kubectl behaviour: nodes listed in $SANDBOX/nodes exist; those in $SANDBOX/ready are Ready. */
const K3S_KUBECTL = `echo "k3s $*" >>"$SANDBOX/calls"
shift # kubectl
case "$1" in
  get) grep -qx "$3" "$SANDBOX/nodes" 2>/dev/null ;;
  wait) grep -qx "\${3#node/}" "$SANDBOX/ready" 2>/dev/null ;;
  drain|delete) exit 0 ;;
esac`;

class Sandbox {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-k3s-"));
    readonly root = path.join(this.dir, "root");

    constructor() {
        fs.mkdirSync(path.join(this.dir, "bin"));
        fs.mkdirSync(this.root);
        for (const [name, body] of Object.entries(FAKES)) this.fake(name, body);
        fs.writeFileSync(path.join(this.dir, "k3s-fake"), K3S_KUBECTL);
    }

    fake(name: string, body: string): void {
        fs.writeFileSync(path.join(this.dir, "bin", name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    }

    /** Installs a k3s of `version` as if a previous run had. */
    preinstallK3s(version: string): void {
        this.fake("k3s", `if [ "$1" = --version ]; then echo "k3s version ${version} (abc123)"; exit 0; fi\n. "$SANDBOX/k3s-fake"`);
    }

    run(script: ScriptName, vars: Record<string, string>): { status: number; stdout: string; stderr: string } {
        const result = spawnSync("bash", ["-s"], {
            input: renderScript(script, { GEOPLATFORM_ROOT: this.root, ...vars }),
            env: { PATH: `${this.dir}/bin:/usr/bin:/bin`, SANDBOX: this.dir, HOME: this.dir },
            encoding: "utf8",
        });
        return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    }

    calls(): string[] {
        const file = path.join(this.dir, "calls");
        const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
        fs.rmSync(file, { force: true });
        return lines;
    }

    write(relative: string, content: string): void {
        fs.mkdirSync(path.dirname(path.join(this.dir, relative)), { recursive: true });
        fs.writeFileSync(path.join(this.dir, relative), content);
    }

    cleanup(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

const VERSION = "v1.33.5+k3s1";
const serverConfig = (labels: Record<string, string> = { "geoplatform.io/node-group": "control-plane" }) =>
    k3sConfigYaml({ role: "server", token: "t0ken", nodeName: "dev-control-plane-1", nodeIp: "10.10.0.3", clusterInit: false, tlsSans: ["203.0.113.5"], labels, taints: [] });
const installVars = (config: string, role = "server", version = VERSION) => ({ K3S_VERSION: version, K3S_ROLE: role, K3S_CONFIG_B64: Buffer.from(config).toString("base64") });

describe("K3s node scripts", () => {
    let box: Sandbox;
    beforeEach(() => (box = new Sandbox()));
    afterEach(() => box.cleanup());

    it("pass shellcheck, as do the project's other shell scripts", () => {
        const which = spawnSync("sh", ["-c", "command -v shellcheck"]);
        assert.strictEqual(which.status, 0, "shellcheck is not installed: apt-get install -y shellcheck (.ci/run does this)");
        const scriptsDir = path.join(REPO_ROOT, "platform/k3s/scripts");
        const files = [
            ...fs.readdirSync(scriptsDir).filter((f) => f.endsWith(".sh")).map((f) => path.join(scriptsDir, f)),
            path.join(REPO_ROOT, "scripts/deploy.sh"),
            path.join(REPO_ROOT, ".ci/run"),
        ];
        assert.ok(files.length >= 7);
        execFileSync("shellcheck", ["--shell=bash", ...files], { encoding: "utf8" });
    });

    it("every node script is strict bash", () => {
        for (const name of ["install-k3s", "wait-ready", "drain-node", "uninstall-k3s", "read-kubeconfig"] as ScriptName[]) {
            assert.match(renderScript(name, {}), /^#!\/usr\/bin\/env bash\n[\s\S]*^set -euo pipefail$/m, name);
        }
    });

    it("installs prerequisites, writes the config (0600) and runs the pinned installer on a fresh node", () => {
        const config = serverConfig();
        const result = box.run("install-k3s", installVars(config));
        assert.strictEqual(result.status, 0, result.stderr);
        const written = path.join(box.root, "etc/rancher/k3s/config.yaml");
        assert.strictEqual(fs.readFileSync(written, "utf8"), config);
        assert.strictEqual(fs.statSync(written).mode & 0o777, 0o600);
        const calls = box.calls();
        assert.ok(calls.includes("cloud-init status --wait"), "waits for cloud-init");
        assert.ok(calls.some((c) => /^apt-get install .*open-iscsi nfs-common/.test(c)));
        assert.ok(calls.includes("systemctl enable --now iscsid"));
        assert.ok(calls.some((c) => c.includes(`https://raw.githubusercontent.com/k3s-io/k3s/${VERSION}/install.sh`)), "installer of the pinned tag");
        assert.ok(calls.includes(`installer INSTALL_K3S_VERSION=${VERSION} INSTALL_K3S_EXEC=server`));
        assert.match(result.stdout, /installed K3s v1\.33\.5\+k3s1 \(was: none\)/);
        assert.doesNotMatch(result.stdout + result.stderr, /t0ken/, "the token is never printed");
    });

    it("does nothing the second time with the same version and config", () => {
        const vars = installVars(serverConfig());
        assert.strictEqual(box.run("install-k3s", vars).status, 0);
        box.calls();
        const again = box.run("install-k3s", vars);
        assert.strictEqual(again.status, 0, again.stderr);
        const calls = box.calls();
        assert.ok(!calls.some((c) => c.startsWith("curl") || c.startsWith("installer")), "no reinstall");
        assert.ok(!calls.some((c) => c.startsWith("apt-get")), "no package install");
        assert.ok(!calls.some((c) => c.includes("restart")), "no restart");
        assert.match(again.stdout, /up to date/);
    });

    it("restarts only the node's own service when its config changed", () => {
        box.preinstallK3s(VERSION);
        assert.strictEqual(box.run("install-k3s", installVars(serverConfig(), "agent")).status, 0);
        assert.ok(box.calls().includes("systemctl restart k3s-agent"), "first config written counts as a change");
        const changed = box.run("install-k3s", installVars(serverConfig({ "geoplatform.io/node-group": "system", tier: "gold" }), "agent"));
        assert.strictEqual(changed.status, 0, changed.stderr);
        assert.ok(box.calls().includes("systemctl restart k3s-agent"));
        assert.match(fs.readFileSync(path.join(box.root, "etc/rancher/k3s/config.yaml"), "utf8"), /tier=gold/);
    });

    it("upgrades when the pinned version changes", () => {
        box.preinstallK3s("v1.32.9+k3s1");
        const result = box.run("install-k3s", installVars(serverConfig()));
        assert.strictEqual(result.status, 0, result.stderr);
        assert.ok(box.calls().includes(`installer INSTALL_K3S_VERSION=${VERSION} INSTALL_K3S_EXEC=server`));
        assert.match(result.stdout, /was: v1\.32\.9\+k3s1/);
    });

    it("refuses an unknown role before touching the node", () => {
        const result = box.run("install-k3s", installVars(serverConfig(), "worker"));
        assert.strictEqual(result.status, 2);
        assert.match(result.stderr, /K3S_ROLE must be server or agent, got 'worker'/);
        assert.deepStrictEqual(box.calls(), []);
    });

    it("waits for nodes to register and be Ready, naming the one that is not", () => {
        box.preinstallK3s(VERSION);
        box.write("nodes", "a\nb\n");
        box.write("ready", "a\nb\n");
        const ok = box.run("wait-ready", { NODE_NAMES: "a b", TIMEOUT_SECONDS: "60" });
        assert.strictEqual(ok.status, 0, ok.stderr);
        assert.match(ok.stdout, /node a Ready[\s\S]*node b Ready/);

        box.write("ready", "a\n");
        const notReady = box.run("wait-ready", { NODE_NAMES: "a b", TIMEOUT_SECONDS: "60" });
        assert.strictEqual(notReady.status, 1);
        assert.match(notReady.stderr, /node b is not Ready after 60s/);

        box.write("nodes", "a\n");
        const missing = box.run("wait-ready", { NODE_NAMES: "c", TIMEOUT_SECONDS: "1" });
        assert.strictEqual(missing.status, 1);
        assert.match(missing.stderr, /node c did not register within 1s/);
    });

    it("drains and removes a leaving agent, and accepts one that is already gone", () => {
        box.preinstallK3s(VERSION);
        box.write("nodes", "dev-system-1\n");
        const drained = box.run("drain-node", { NODE_NAME: "dev-system-1" });
        assert.strictEqual(drained.status, 0, drained.stderr);
        const calls = box.calls();
        assert.ok(calls.some((c) => c.startsWith("k3s kubectl drain dev-system-1 --ignore-daemonsets")));
        assert.ok(calls.includes("k3s kubectl delete node dev-system-1 --ignore-not-found"));

        const gone = box.run("drain-node", { NODE_NAME: "dev-system-2" });
        assert.strictEqual(gone.status, 0);
        assert.match(gone.stdout, /already gone/);
    });

    it("uninstalls K3s from an agent when present, and is a no-op otherwise", () => {
        const absent = box.run("uninstall-k3s", {});
        assert.strictEqual(absent.status, 0);
        assert.match(absent.stdout, /not installed/);
        const uninstaller = path.join(box.root, "usr/local/bin/k3s-agent-uninstall.sh");
        fs.mkdirSync(path.dirname(uninstaller), { recursive: true });
        fs.writeFileSync(uninstaller, `#!/bin/sh\necho uninstalled >>"$SANDBOX/calls"\n`, { mode: 0o755 });
        const present = box.run("uninstall-k3s", {});
        assert.strictEqual(present.status, 0, present.stderr);
        assert.deepStrictEqual(box.calls(), ["uninstalled"]);
    });

    it("prints the kubeconfig K3s wrote", () => {
        fs.mkdirSync(path.join(box.root, "etc/rancher/k3s"), { recursive: true });
        fs.writeFileSync(path.join(box.root, "etc/rancher/k3s/k3s.yaml"), "apiVersion: v1\n");
        const result = box.run("read-kubeconfig", {});
        assert.strictEqual(result.status, 0);
        assert.strictEqual(result.stdout, "apiVersion: v1\n");
    });
});
