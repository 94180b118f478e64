import * as assert from "assert";
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as yaml from "js-yaml";
import * as path from "path";
import { haproxyConfig } from "../infra/bastion";
import { auditPolicy, k3sConfigYaml, KERNEL_PARAMETERS, podSecurityAdmissionConfig, renderScript, ScriptName, sysctlConf } from "../platform/k3s/render";
import { REPO_ROOT } from "./harness/stack-config";

// The node scripts run for real here: bash executes exactly what a command
// sends on stdin, with fake curl, k3s, systemctl, apt-get... on PATH that log
// their calls, and a temporary root instead of /.

const FAKES: Record<string, string> = {
    // $SANDBOX/cloud-init-error: it finished with an error (status 1), as when its package install gave up on a lock.
    "cloud-init": `echo "cloud-init $*" >>"$SANDBOX/calls"; [ ! -f "$SANDBOX/cloud-init-error" ]`,
    dpkg: `[ -f "$SANDBOX/packages-installed" ]`,
    // Reads its stdin, as real package tools may: it must not get the rest of the script. Like apt, it waits for a
    // held dpkg lock ($SANDBOX/dpkg-lock: the epoch second it is released) only as long as DPkg::Lock::Timeout says.
    // $SANDBOX/lists-lock: how many more times apt-get update finds the lists lock held ("always": every time);
    // $SANDBOX/archives-lock the same for install and the archives lock, which apt takes without waiting either.
    // $SANDBOX/no-package: install fails for a reason other than a lock. $SANDBOX/german: the node's locale is German, so
    // its messages are too (gettext), unless LC_ALL=C.
    "apt-get": `cat >/dev/null; echo "apt-get $*" >>"$SANDBOX/calls"
locked() { if [ -f "$SANDBOX/german" ] && [ "$LC_ALL" != C ]; then echo "E: Sperre $1 konnte nicht erlangt werden. Sie wird von Prozess 1234 gehalten." >&2
  else echo "E: Could not get lock $1. It is held by process 1234 (unattended-upgr)" >&2; fi; }
held() { [ -f "$SANDBOX/$1" ] || return 1; left=$(cat "$SANDBOX/$1")
  if [ "$left" = always ] || [ "$left" -gt 0 ]; then [ "$left" = always ] || echo $((left - 1)) >"$SANDBOX/$1"; return 0; fi; return 1; }
case "$*" in
  *update*) if held lists-lock; then locked /var/lib/apt/lists/lock; exit 100; fi ;;
  *install*) if held archives-lock; then locked /var/cache/apt/archives/lock; exit 100; fi
    if [ -f "$SANDBOX/no-package" ]; then echo "E: Unable to locate package nfs-common" >&2; exit 100; fi ;;
esac
wait=0; for a in "$@"; do case "$a" in DPkg::Lock::Timeout=*) wait=\${a#*=};; esac; done
if [ -f "$SANDBOX/dpkg-lock" ]; then
  give_up=$(( $(date +%s) + wait ))
  while [ "$(date +%s)" -lt "$(cat "$SANDBOX/dpkg-lock")" ]; do
    if [ "$(date +%s)" -ge "$give_up" ]; then locked /var/lib/dpkg/lock-frontend; exit 100; fi
    /bin/sleep 0.1
  done
fi
case "$*" in *install*) touch "$SANDBOX/packages-installed";; esac`,
    // A unit is active once restarted, unless $SANDBOX/restart-fails or restart-hangs says otherwise.
    systemctl: `echo "systemctl $*" >>"$SANDBOX/calls"
case "$1" in
  restart|reload-or-restart) [ -f "$SANDBOX/restart-fails" ] && exit 1; [ -f "$SANDBOX/restart-hangs" ] && exec /bin/sleep 30; touch "$SANDBOX/active" ;;
  is-active) [ -f "$SANDBOX/active" ] ;;
esac`,
    // A kernel: `sysctl -q -p FILE` sets each key=value as a file under $SANDBOX/kernel, `sysctl -n KEY` reads one (0 when
    // unset, as most are on a fresh node). $SANDBOX/sysctl-fails makes -p fail; $SANDBOX/sysctl-ignored makes it set nothing.
    sysctl: `echo "sysctl $*" >>"$SANDBOX/calls"
mkdir -p "$SANDBOX/kernel"
case "$1" in
  -q) [ -f "$SANDBOX/sysctl-fails" ] && { echo 'sysctl: permission denied on key "kernel.panic"' >&2; exit 255; }
      [ -f "$SANDBOX/sysctl-ignored" ] && exit 0
      grep -v '^#' "$3" | while IFS='=' read -r k v; do [ -n "$k" ] && echo "$v" >"$SANDBOX/kernel/$k"; done ;;
  -n) cat "$SANDBOX/kernel/$2" 2>/dev/null || echo 0 ;;
esac`,
    // Checks a configuration like haproxy -c: refuses one when $SANDBOX/haproxy-refuses exists.
    haproxy: `echo "haproxy $*" >>"$SANDBOX/calls"; [ ! -f "$SANDBOX/haproxy-refuses" ]`,
    journalctl: `echo "k3s[42]: level=fatal msg=\\"starting kubernetes: preparing server\\""`,
    // Polls stay real but short, so deadlines pass within a test.
    sleep: `exec /bin/sleep 0.2`,
    // Downloads an "installer" that records its environment and leaves a k3s binary of that version. A CA probe answers
    // for the addresses in $SANDBOX/peers-up, once $SANDBOX/peers-down (a count of probes that time out first) is down to 0.
    curl: `echo "curl $*" >>"$SANDBOX/calls"
down=$(cat "$SANDBOX/peers-down" 2>/dev/null || echo 0)
case "$*" in *cacerts*) if [ "$down" -gt 0 ]; then echo $((down - 1)) >"$SANDBOX/peers-down"; exit 28; fi; for p in $(cat "$SANDBOX/peers-up" 2>/dev/null); do case "$*" in *"https://$p:6443/"*) exit 0;; esac; done; exit 7;; esac
out=""; while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out=$2; shift; done
cat >"$out" <<'INSTALLER'
echo "installer INSTALL_K3S_VERSION=$INSTALL_K3S_VERSION INSTALL_K3S_EXEC=$INSTALL_K3S_EXEC INSTALL_K3S_SKIP_START=$INSTALL_K3S_SKIP_START" >>"$SANDBOX/calls"
printf '#!/bin/sh\\nif [ "$1" = --version ]; then echo "k3s version %s (abc123)"; echo "go version go1.24"; exit 0; fi\\n. "$SANDBOX/k3s-fake"\\n' "$INSTALL_K3S_VERSION" >"$SANDBOX/bin/k3s"
chmod +x "$SANDBOX/bin/k3s"
INSTALLER`,
};

/**
 * k3s kubectl against a fake API: a node is a folder $SANDBOX/node/<name> with files ready (True/False), version,
 * unschedulable, labels (k=v lines), taints (k=v:Effect lines) and annotations (k=v lines); `get nodes` lists every
 * version; a ConfigMap is a file $SANDBOX/cm/<name> holding its `holder`; a node's Lease is $SANDBOX/lease/<name>
 * (a number of seconds). $SANDBOX/drain-fails makes drains fail; $SANDBOX/bare-pod puts a pod with no controller (a
 * JupyterHub user server) on every node, which kubectl refuses to drain without --force. A deleted node with finalizers
 * (lines of <node>/finalizers) stays until its finalizers are done: after the number of reads in $SANDBOX/finalize-reads,
 * or never without that file.
 */
const K3S_KUBECTL = `echo "k3s $*" >>"$SANDBOX/calls"
shift # kubectl
cmd=$1; shift
[ "$1" = --overwrite ] && shift
[ "$1" = node ] && shift
name=$1; shift
n="$SANDBOX/node/$name"
# $SANDBOX/api-error: the API server does not answer reads.
if [ "$cmd" = get ] && [ -f "$SANDBOX/api-error" ]; then echo "Error from server (InternalError): etcdserver: request timed out" >&2; exit 1; fi
# $SANDBOX/read-error/<node>: reads of that Node fail alone (other reads answer).
if [ "$cmd" = get ] && [ -f "$SANDBOX/read-error/$name" ]; then echo "Error from server (InternalError): etcdserver: request timed out" >&2; exit 1; fi
# $SANDBOX/field-error/<node>: reads of that Node's fields whose arguments contain the file's word fail.
if [ "$cmd" = get ] && [ -f "$SANDBOX/field-error/$name" ]; then case "$*" in *"$(cat "$SANDBOX/field-error/$name")"*) echo "Error from server (InternalError): etcdserver: request timed out" >&2; exit 1;; esac; fi
case " $* " in *" --ignore-not-found "*) ignore_missing=true;; *) ignore_missing=false;; esac
if [ "$cmd" = get ] && [ -f "$n/deleting" ]; then
  left=$(cat "$n/deleting"); [ "$left" = never ] || { [ "$left" -le 0 ] && rm -rf "$n"; } || echo $((left - 1)) >"$n/deleting"
fi
missing() { $ignore_missing && exit 0; echo "Error from server (NotFound): $1 \"$2\" not found" >&2; exit 1; }
if [ "$name" = lease ]; then
  # A live kubelet ($SANDBOX/lease-alive) renews its Lease: every read sees a later renewTime.
  l="$SANDBOX/lease/$1"; [ -f "$l" ] || missing leases "$1"
  if [ -f "$SANDBOX/lease-alive" ]; then echo $(( $(cat "$l") + 1 )) >"$l"; fi
  echo "2026-12-01T00:00:$(cat "$l")Z"; exit
fi
if [ "$name" = configmap ]; then
  # A folder of its data keys, a file each; patch takes {"data":{"key":"value",...}} (values without commas or quotes).
  cm="$SANDBOX/cm/$1"
  case "$cmd" in
    create) mkdir -p "$SANDBOX/cm"; mkdir "$cm" 2>/dev/null || exit 1
      for a in "$@"; do case "$a" in --from-literal=*) kv=\${a#--from-literal=}; echo "\${kv#*=}" >"$cm/\${kv%%=*}";; esac; done ;;
    get) [ -d "$cm" ] || exit 1; key=$(echo "$*" | sed 's/.*{\.data\.//; s/}.*//'); cat "$cm/$key" 2>/dev/null || true ;;
    patch) [ -d "$cm" ] || exit 1
      echo "$*" | sed 's/.*{"data":{"//; s/"}}.*//; s/","/\\n/g' | while IFS= read -r kv; do echo "$kv" | sed 's/^[^"]*":"//' >"$cm/$(echo "$kv" | sed 's/".*//')"; done ;;
    delete) rm -rf "$cm" ;;
  esac
  exit
fi
case "$cmd" in
  wait) n="$SANDBOX/node/$(echo "$*" | sed 's|.*node/||; s| .*||')"; [ "$(cat "$n/ready" 2>/dev/null)" = True ] ;;
  get)
    if [ "$name" = nodes ]; then for v in "$SANDBOX"/node/*/version; do printf '%s ' "$(cat "$v")"; done; exit 0; fi
    [ -d "$n" ] || missing nodes "$name"
    case "$*" in
      *"-o name"*) echo "node/$name" ;;
      *kubeletVersion*) cat "$n/version" 2>/dev/null ;;
      *conditions*) cat "$n/ready" 2>/dev/null ;;
      *unschedulable*) cat "$n/unschedulable" 2>/dev/null || true ;;
      *InternalIP*) cat "$n/ip" 2>/dev/null ;;
      *finalizers*) tr '\\n' ' ' <"$n/finalizers" 2>/dev/null ;;
      *metadata.labels*) key=$(echo "$*" | sed 's/.*labels\\.//; s/}.*//; s/\\\\\\././g'); sed -n "s|^$key=||p" "$n/labels" 2>/dev/null ;;
      *annotations*) key=$(echo "$*" | sed 's/.*annotations\\.//; s/}.*//; s/\\\\\\././g'); sed -n "s|^$key=||p" "$n/annotations" 2>/dev/null ;;
      *spec.taints*) sed 's/=[^:]*:/:/' "$n/taints" 2>/dev/null | tr '\\n' ' ' ;;
    esac ;;
  drain)
    # kubectl pkg/drain filters.go unreplicatedFilter: a pod with no controller stops the drain at once, without --force.
    if [ -f "$SANDBOX/bare-pod" ]; then case " $* " in *" --force "*) ;; *)
      echo "error: unable to drain node \"$name\" due to error: cannot delete cannot delete Pods that declare no controller (use --force to override): jupyterhub/jupyter-alice, continuing command..." >&2; exit 1 ;; esac; fi
    # Like kubectl drain: cordons first, then evicts (which $SANDBOX/drain-fails makes fail).
    echo true >"$n/unschedulable"; [ ! -f "$SANDBOX/drain-fails" ] ;;
  uncordon) rm -f "$n/unschedulable" ;;
  delete) if [ -s "$n/finalizers" ]; then cat "$SANDBOX/finalize-reads" 2>/dev/null >"$n/deleting" || echo never >"$n/deleting"; else rm -rf "$n"; fi ;;
  label)
    for a in "$@"; do case "$a" in
      *-) grep -v "^\${a%-}=" "$n/labels" >"$n/l" || true; mv "$n/l" "$n/labels" ;;
      *) grep -v "^\${a%%=*}=" "$n/labels" >"$n/l" || true; echo "$a" >>"$n/l"; mv "$n/l" "$n/labels" ;;
    esac; done ;;
  taint)
    for a in "$@"; do
      id=$(echo "\${a%-}" | sed 's/=[^:]*:/:/')
      if [ "\${a%-}" != "$a" ]; then
        sed 's/=[^:]*:/:/' "$n/taints" | grep -qx "$id" || { echo "error: taint \\"$id\\" not found" >&2; exit 1; }
      fi
      touch "$n/taints"; while read -r t; do [ "$(echo "$t" | sed 's/=[^:]*:/:/')" = "$id" ] || echo "$t"; done <"$n/taints" >"$n/t"
      [ "\${a%-}" != "$a" ] || echo "$a" >>"$n/t"
      mv "$n/t" "$n/taints"
    done ;;
  annotate)
    for a in "$@"; do
      touch "$n/annotations"
      case "$a" in
        *=*) grep -v "^\${a%%=*}=" "$n/annotations" >"$n/a" || true; echo "$a" >>"$n/a" ;;
        *-) grep -v "^\${a%-}=" "$n/annotations" >"$n/a" || true ;;
      esac
      mv "$n/a" "$n/annotations"
    done ;;
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

    run(script: ScriptName, vars: Record<string, string>): { status: number; stdout: string; stderr: string; seconds: number } {
        const started = Date.now();
        const result = spawnSync("bash", ["-s"], {
            input: renderScript(script, { GEOPLATFORM_ROOT: this.root, ...vars }),
            env: { PATH: `${this.dir}/bin:/usr/bin:/bin`, SANDBOX: this.dir, HOME: this.dir },
            encoding: "utf8",
        });
        return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, seconds: (Date.now() - started) / 1000 };
    }

    /** Like run, in the background: for a script that must be waiting while another runs. */
    start(script: ScriptName, vars: Record<string, string>): Promise<{ status: number; stderr: string; seconds: number }> {
        const started = Date.now();
        const child = spawn("bash", ["-s"], { env: { PATH: `${this.dir}/bin:/usr/bin:/bin`, SANDBOX: this.dir, HOME: this.dir } });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.stdout.resume();
        child.stdin.end(renderScript(script, { GEOPLATFORM_ROOT: this.root, ...vars }));
        return new Promise((resolve) => child.on("close", (code) => resolve({ status: code ?? -1, stderr, seconds: (Date.now() - started) / 1000 })));
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

    remove(relative: string): void {
        fs.rmSync(path.join(this.dir, relative), { recursive: true, force: true });
    }

    exists(relative: string): boolean {
        return fs.existsSync(path.join(this.dir, relative));
    }

    read(relative: string): string {
        const file = path.join(this.dir, relative);
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    }

    /** A node in the fake API. */
    node(name: string, state: { ready?: boolean; version?: string; ip?: string; labels?: string[]; taints?: string[]; annotations?: string[] } = {}): void {
        const lines = (l: string[] = []) => l.map((x) => `${x}\n`).join("");
        this.write(`node/${name}/ip`, state.ip ?? "10.0.0.1");
        this.write(`node/${name}/ready`, state.ready === false ? "False" : "True");
        this.write(`node/${name}/version`, state.version ?? VERSION);
        this.write(`node/${name}/labels`, lines(state.labels));
        this.write(`node/${name}/taints`, lines(state.taints));
        this.write(`node/${name}/annotations`, lines(state.annotations));
    }

    cleanup(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

const VERSION = "v1.33.5+k3s1";
const serverConfig = (labels: Record<string, string> = { "geoplatform.io/node-group": "control-plane" }) =>
    k3sConfigYaml({
        role: "server",
        token: "t0ken",
        nodeName: "dev-control-plane-1",
        nodeIp: "10.10.0.3",
        instanceId: "vm-1",
        clusterInit: false,
        tlsSans: ["203.0.113.5"],
        labels,
        taints: [],
    });
/** A prod first server's K3s config (cluster-init), on the VM `instanceId`: the node a replacement gives a new id. */
const prodFirstServerConfig = (instanceId: string) =>
    k3sConfigYaml({
        role: "server",
        token: "t0ken",
        agentToken: "a",
        nodeName: "prod-control-plane-1",
        nodeIp: "10.20.128.3",
        instanceId,
        clusterInit: true,
        tlsSans: ["x"],
        labels: {},
        taints: [],
    });
const b64 = (text: string) => Buffer.from(text).toString("base64");
const installVars = (config: string, role = "server", version = VERSION): Record<string, string> => ({
    K3S_VERSION: version,
    K3S_ROLE: role,
    K3S_CONFIG_B64: b64(config),
    K3S_SYSCTL_B64: b64(sysctlConf()),
    ...(role === "server" ? { K3S_PSA_B64: b64(podSecurityAdmissionConfig()), K3S_AUDIT_POLICY_B64: b64(auditPolicy()) } : {}),
    SHUTDOWN_GRACE: "60s",
    SHUTDOWN_GRACE_CRITICAL: "20s",
});
const SCRIPTS: ScriptName[] = [
    "install-k3s",
    "wait-ready",
    "drain-node",
    "read-kubeconfig",
    "reconcile-node",
    "check-version",
    "roll-node",
    "forget-node",
    "configure-forwarder",
    "restore-etcd",
];

describe("K3s node scripts", () => {
    let box: Sandbox;
    beforeEach(() => (box = new Sandbox()));
    afterEach(() => box.cleanup());

    it("pass shellcheck, as do the project's other shell scripts", () => {
        const which = spawnSync("sh", ["-c", "command -v shellcheck"]);
        assert.strictEqual(which.status, 0, "shellcheck is not installed: apt-get install -y shellcheck (.ci/run does this)");
        const scriptsDir = path.join(REPO_ROOT, "platform/k3s/scripts");
        const files = [
            ...fs
                .readdirSync(scriptsDir)
                .filter((f) => f.endsWith(".sh"))
                .map((f) => path.join(scriptsDir, f)),
            ...fs.readdirSync(path.join(scriptsDir, "lib")).map((f) => path.join(scriptsDir, "lib", f)),
            path.join(REPO_ROOT, "scripts/deploy.sh"),
            path.join(REPO_ROOT, ".ci/run"),
        ];
        assert.deepStrictEqual(
            fs
                .readdirSync(scriptsDir)
                .filter((f) => f !== "lib")
                .sort(),
            SCRIPTS.map((n) => `${n}.sh`).sort(),
            "every script is a ScriptName",
        );
        execFileSync("shellcheck", ["--shell=bash", ...files], { encoding: "utf8" });
    });

    it("every node script is strict bash", () => {
        for (const name of SCRIPTS) {
            assert.match(renderScript(name, {}), /^#!\/usr\/bin\/env bash\n[\s\S]*^set -euo pipefail$/m, name);
        }
    });

    describe("install-k3s", () => {
        it("installs prerequisites, writes the config (0600), runs the pinned installer without starting, then starts K3s itself", () => {
            const config = serverConfig();
            const result = box.run("install-k3s", installVars(config));
            assert.strictEqual(result.status, 0, result.stderr);
            const written = path.join(box.root, "etc/rancher/k3s/config.yaml");
            assert.strictEqual(fs.readFileSync(written, "utf8"), config);
            assert.strictEqual(fs.statSync(written).mode & 0o777, 0o600);
            const calls = box.calls();
            assert.ok(calls.includes("cloud-init status --wait"), "waits for cloud-init");
            assert.ok(
                calls.some((c) => /^apt-get -o DPkg::Lock::Timeout=600 install .*open-iscsi nfs-common/.test(c)),
                "waits for the dpkg lock",
            );
            assert.ok(calls.includes("systemctl enable --now iscsid"));
            assert.ok(
                calls.some((c) => c.includes(`https://raw.githubusercontent.com/k3s-io/k3s/${VERSION}/install.sh`)),
                "installer of the pinned tag",
            );
            assert.ok(calls.includes(`installer INSTALL_K3S_VERSION=${VERSION} INSTALL_K3S_EXEC=server INSTALL_K3S_SKIP_START=true`));
            assert.ok(calls.indexOf("systemctl restart k3s") > calls.findIndex((c) => c.startsWith("installer")), "started after the install");
            assert.match(result.stdout, /installed K3s v1\.33\.5\+k3s1 \(was: none\), restarted k3s/);
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
            assert.ok(calls.includes("systemctl is-active --quiet k3s"), "checks that K3s runs");
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
            const calls = box.calls();
            assert.ok(calls.includes(`installer INSTALL_K3S_VERSION=${VERSION} INSTALL_K3S_EXEC=server INSTALL_K3S_SKIP_START=true`));
            assert.ok(calls.includes("systemctl restart k3s"));
            assert.match(result.stdout, /was: v1\.32\.9\+k3s1/);
        });

        it("fails clearly when K3s does not restart, and repairs it on the next run although the config file already matches", () => {
            const vars = installVars(serverConfig());
            box.write("restart-fails", "");
            const failed = box.run("install-k3s", vars);
            assert.strictEqual(failed.status, 1);
            assert.match(failed.stderr, /k3s did not start \(installed K3s v1\.33\.5\+k3s1 \(was: none\)\); last log lines:/);
            assert.match(failed.stderr, /level=fatal/, "shows the service's last log lines");
            assert.match(failed.stderr, /systemctl restart k3s failed \(status 1\); the next run retries/);
            assert.strictEqual(fs.readFileSync(path.join(box.root, "etc/rancher/k3s/config.yaml"), "utf8"), serverConfig(), "the config was written");

            fs.rmSync(path.join(box.dir, "restart-fails"));
            box.calls();
            const repaired = box.run("install-k3s", vars);
            assert.strictEqual(repaired.status, 0, repaired.stderr);
            assert.ok(!box.calls().some((c) => c.startsWith("installer")), "the binary is already there");
            assert.match(repaired.stdout, /config not yet applied, restarted k3s/);
            assert.match(box.run("install-k3s", vars).stdout, /up to date/);
        });

        it("gives up on a restart that hangs (the K3s unit has no start timeout) within its bound", () => {
            box.preinstallK3s(VERSION);
            box.write("restart-hangs", "");
            const result = box.run("install-k3s", { ...installVars(serverConfig()), START_TIMEOUT: "1" });
            assert.strictEqual(result.status, 1);
            assert.match(result.stderr, /k3s not active within 1s; the next run retries/);
            assert.ok(result.seconds < 15, `took ${result.seconds}s`);
        });

        it("restarts K3s when it is not running although version and config are applied", () => {
            const vars = installVars(serverConfig(), "agent");
            box.preinstallK3s(VERSION);
            assert.strictEqual(box.run("install-k3s", vars).status, 0);
            fs.rmSync(path.join(box.dir, "active"));
            box.calls();
            const result = box.run("install-k3s", vars);
            assert.strictEqual(result.status, 0, result.stderr);
            assert.ok(box.calls().includes("systemctl restart k3s-agent"));
            assert.match(result.stdout, /k3s-agent was not running, restarted k3s-agent/);
        });

        it("waits for a dpkg lock that unattended-upgrades holds, up to its bound", () => {
            box.write("dpkg-lock", String(Math.floor(Date.now() / 1000) + 2));
            const waited = box.run("install-k3s", { ...installVars(serverConfig()), APT_LOCK_TIMEOUT: "20" });
            assert.strictEqual(waited.status, 0, waited.stderr);
            assert.ok(box.calls().some((c) => c.startsWith("apt-get -o DPkg::Lock::Timeout=20 install")));

            fs.rmSync(path.join(box.dir, "packages-installed"));
            box.write("dpkg-lock", String(Math.floor(Date.now() / 1000) + 3600));
            const held = box.run("install-k3s", { ...installVars(serverConfig()), APT_LOCK_TIMEOUT: "1" });
            assert.strictEqual(held.status, 1);
            assert.match(held.stderr, /apt-get update still failed \(status 100\) after 1s of retries/);
            assert.ok(held.seconds < 15, `took ${held.seconds}s`);
        });

        it("retries apt-get update while the apt lists lock is held (DPkg::Lock::Timeout does not cover it), then installs", () => {
            box.write("lists-lock", "3");
            const result = box.run("install-k3s", { ...installVars(serverConfig()), APT_RETRY_INTERVAL: "1" });
            assert.strictEqual(result.status, 0, result.stderr);
            const calls = box.calls();
            assert.strictEqual(calls.filter((c) => / update -qq$/.test(c)).length, 4, "three lock failures, then success");
            assert.strictEqual((result.stderr.match(/apt-get update failed \(status 100\), retrying in 1s/g) ?? []).length, 3);
            assert.ok(calls.some((c) => / install -y -qq open-iscsi nfs-common$/.test(c)));
        });

        it("gives up on apt-get update within its bound when the lists lock is never released, saying why", () => {
            box.write("lists-lock", "always");
            const result = box.run("install-k3s", { ...installVars(serverConfig()), APT_LOCK_TIMEOUT: "2", APT_RETRY_INTERVAL: "1" });
            assert.strictEqual(result.status, 1);
            assert.match(
                result.stderr,
                /geoplatform: apt-get update still failed \(status 100\) after 2s of retries \(an apt lock held: \/var\/lib\/apt\/lists\/lock, \/var\/cache\/apt\/archives\/lock or dpkg's/,
            );
            const calls = box.calls();
            assert.ok(calls.filter((c) => / update -qq$/.test(c)).length >= 2, "retried");
            assert.ok(!calls.some((c) => / install /.test(c)), "no install without fresh lists");
            assert.ok(!calls.some((c) => c.startsWith("systemctl restart")), "K3s untouched");
            assert.ok(result.seconds < 15, `took ${result.seconds}s`);
        });

        it("retries apt-get install while apt's archives lock is held (DPkg::Lock::Timeout does not cover it), within its bound", () => {
            box.write("archives-lock", "2");
            const result = box.run("install-k3s", { ...installVars(serverConfig()), APT_RETRY_INTERVAL: "1" });
            assert.strictEqual(result.status, 0, result.stderr);
            const installs = box.calls().filter((c) => / install -y -qq open-iscsi nfs-common$/.test(c));
            assert.strictEqual(installs.length, 3, "two lock failures, then success");
            assert.strictEqual((result.stderr.match(/apt-get install failed \(status 100\), retrying in 1s/g) ?? []).length, 2);

            fs.rmSync(path.join(box.dir, "packages-installed"));
            box.write("archives-lock", "always");
            const held = box.run("install-k3s", { ...installVars(serverConfig()), APT_LOCK_TIMEOUT: "2", APT_RETRY_INTERVAL: "1" });
            assert.strictEqual(held.status, 1);
            assert.match(held.stderr, /apt-get install still failed \(status 100\) after 2s of retries \(an apt lock held/);
            assert.ok(held.seconds < 15, `took ${held.seconds}s`);
            assert.ok(!box.calls().some((c) => c.startsWith("systemctl restart")), "K3s untouched");

            // Any other failure is not retried.
            fs.rmSync(path.join(box.dir, "archives-lock"));
            box.write("no-package", "");
            const missing = box.run("install-k3s", { ...installVars(serverConfig()), APT_RETRY_INTERVAL: "1" });
            assert.strictEqual(missing.status, 1);
            assert.match(missing.stderr, /geoplatform: apt-get install -y -qq open-iscsi nfs-common failed \(status 100\)/);
            assert.strictEqual(box.calls().filter((c) => / install -y -qq/.test(c)).length, 1);
        });

        it("recognises a held lock on a node whose locale translates apt's messages: apt-get runs with LC_ALL=C", () => {
            box.write("german", "");
            box.write("archives-lock", "1");
            const result = box.run("install-k3s", { ...installVars(serverConfig()), APT_RETRY_INTERVAL: "1" });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.match(result.stderr, /E: Could not get lock \/var\/cache\/apt\/archives\/lock/);
            assert.strictEqual((result.stderr.match(/apt-get install failed \(status 100\), retrying in 1s/g) ?? []).length, 1);
        });

        it("joins a replaced first server to the running cluster instead of bootstrapping a second one", () => {
            const config = prodFirstServerConfig("i-0123456789abcdef0");
            const vars = { ...installVars(config), REGISTRATION_ADDRESS: "10.20.0.10" };
            const fresh = box.run("install-k3s", vars);
            assert.strictEqual(fresh.status, 0, fresh.stderr);
            assert.match(
                fs.readFileSync(path.join(box.root, "etc/rancher/k3s/config.yaml"), "utf8"),
                /^cluster-init: true$/m,
                "no server answers at the registration address: a new cluster",
            );

            const replaced = new Sandbox();
            try {
                replaced.write("peers-up", "10.20.0.10\n");
                const result = replaced.run("install-k3s", vars);
                assert.strictEqual(result.status, 0, result.stderr);
                assert.match(result.stdout, /a server answers at 10\.20\.0\.10\): joining it/);
                const written = fs.readFileSync(path.join(replaced.root, "etc/rancher/k3s/config.yaml"), "utf8");
                assert.doesNotMatch(written, /cluster-init/);
                assert.match(written, /^server: "https:\/\/10\.20\.0\.10:6443"$/m);
            } finally {
                replaced.cleanup();
            }

            fs.mkdirSync(path.join(box.root, "var/lib/rancher/k3s/server/db/etcd"), { recursive: true });
            box.write("peers-up", "10.20.0.10\n");
            box.calls();
            const member = box.run("install-k3s", vars);
            assert.strictEqual(member.status, 0, member.stderr);
            assert.ok(!box.calls().some((c) => c.includes("cacerts")), "a server with etcd data is a member already: no probe");
            assert.match(fs.readFileSync(path.join(box.root, "etc/rancher/k3s/config.yaml"), "utf8"), /^cluster-init: true$/m);
        });

        it("with CLUSTER_EXISTS retries the probe within its bound, joins once a server answers, and refuses to bootstrap when none does", () => {
            const config = prodFirstServerConfig("i-0fedcba9876543210");
            const vars = { ...installVars(config), REGISTRATION_ADDRESS: "10.20.0.10", CLUSTER_EXISTS: "true", JOIN_WAIT: "2" };
            const refused = box.run("install-k3s", vars);
            assert.strictEqual(refused.status, 1);
            assert.match(
                refused.stderr,
                /recorded other K3s servers \(stack output k3sServers\), but none answered at 10\.20\.0\.10:6443 for 2s: refusing to bootstrap a new, empty cluster beside them\. Check that K3s runs on the other servers .* the bastion forwards 6443 to them/,
            );
            const probes = box.calls().filter((c) => c.includes("cacerts"));
            assert.ok(probes.length > 1, `probed again, not once: ${probes.length}`);
            assert.ok(refused.seconds < 15, `bounded: ${refused.seconds}s`);
            assert.ok(!box.exists("root/etc/rancher/k3s/config.yaml"), "no config written");

            // A forwarder that answers on the third probe (a restarting server, haproxy reloading): it joins.
            box.write("peers-up", "10.20.0.10\n");
            box.write("peers-down", "2");
            const joined = box.run("install-k3s", { ...vars, JOIN_WAIT: "60" });
            assert.strictEqual(joined.status, 0, joined.stderr);
            assert.match(joined.stdout, /joining it instead of bootstrapping a new one/);
            assert.strictEqual(box.calls().filter((c) => c.includes("cacerts")).length, 3);
            const written = fs.readFileSync(path.join(box.root, "etc/rancher/k3s/config.yaml"), "utf8");
            assert.doesNotMatch(written, /cluster-init/);
            assert.match(written, /^server: "https:\/\/10\.20\.0\.10:6443"$/m);

            // Without it (a stack's first run) one failed probe bootstraps, as before.
            const fresh = new Sandbox();
            try {
                fresh.write("peers-down", "1");
                fresh.write("peers-up", "10.20.0.10\n");
                const { CLUSTER_EXISTS: _, ...first } = vars;
                assert.strictEqual(fresh.run("install-k3s", first).status, 0);
                assert.strictEqual(fresh.calls().filter((c) => c.includes("cacerts")).length, 1);
                assert.match(fs.readFileSync(path.join(fresh.root, "etc/rancher/k3s/config.yaml"), "utf8"), /^cluster-init: true$/m);
            } finally {
                fresh.cleanup();
            }
        });

        it("writes the kubelet graceful-shutdown drop-in K3s's kubelet reads, and restarts when it changes", () => {
            const vars = installVars(serverConfig(), "agent");
            assert.strictEqual(box.run("install-k3s", vars).status, 0);
            const dropin = path.join(box.root, "var/lib/rancher/k3s/agent/etc/kubelet.conf.d/50-geoplatform-shutdown.conf");
            assert.strictEqual(
                fs.readFileSync(dropin, "utf8"),
                "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nshutdownGracePeriod: 60s\nshutdownGracePeriodCriticalPods: 20s\n",
            );
            assert.match(box.run("install-k3s", vars).stdout, /up to date/);
            box.calls();
            const longer = box.run("install-k3s", { ...vars, SHUTDOWN_GRACE: "90s" });
            assert.strictEqual(longer.status, 0, longer.stderr);
            assert.ok(box.calls().includes("systemctl restart k3s-agent"));
            assert.match(fs.readFileSync(dropin, "utf8"), /shutdownGracePeriod: 90s/);
        });

        describe("CIS items", () => {
            const mode = (relative: string) => fs.statSync(path.join(box.root, relative)).mode & 0o777;
            const kernel = () => Object.fromEntries(Object.keys(KERNEL_PARAMETERS).map((k) => [k, box.read(`kernel/${k}`).trim()]));

            it("sets the kernel parameters protect-kernel-defaults needs (persisted in sysctl.d, applied) before K3s starts", () => {
                const result = box.run("install-k3s", installVars(serverConfig(), "agent"));
                assert.strictEqual(result.status, 0, result.stderr);
                assert.strictEqual(box.read("root/etc/sysctl.d/90-kubelet.conf"), sysctlConf());
                assert.strictEqual(mode("etc/sysctl.d/90-kubelet.conf"), 0o644);
                assert.deepStrictEqual(kernel(), KERNEL_PARAMETERS);
                const calls = box.calls();
                const applied = calls.indexOf(`sysctl -q -p ${box.root}/etc/sysctl.d/90-kubelet.conf`);
                assert.ok(applied >= 0, "applied with sysctl -p");
                assert.ok(applied < calls.indexOf("systemctl restart k3s-agent"), "before the kubelet starts");
                assert.ok(!box.exists("root/var/lib/rancher/k3s/server"), "an agent gets no API server files");
            });

            it("writes the Pod Security admission config and the audit policy on servers, root-only, next to a root-only log directory", () => {
                const result = box.run("install-k3s", installVars(serverConfig()));
                assert.strictEqual(result.status, 0, result.stderr);
                assert.strictEqual(box.read("root/var/lib/rancher/k3s/server/psa.yaml"), podSecurityAdmissionConfig());
                assert.strictEqual(box.read("root/var/lib/rancher/k3s/server/audit.yaml"), auditPolicy());
                assert.strictEqual(mode("var/lib/rancher/k3s/server/psa.yaml"), 0o600);
                assert.strictEqual(mode("var/lib/rancher/k3s/server/audit.yaml"), 0o600);
                assert.strictEqual(mode("var/lib/rancher/k3s/server/logs"), 0o700);
                assert.strictEqual(mode("var/lib/rancher/k3s/server"), 0o700, "created before K3s, as K3s would");
            });

            it("sets a drifted kernel parameter back on the next run without restarting K3s, and restarts it when a CIS file changes", () => {
                const vars = installVars(serverConfig());
                assert.strictEqual(box.run("install-k3s", vars).status, 0);
                box.write("kernel/vm.overcommit_memory", "0\n");
                box.calls();
                const again = box.run("install-k3s", vars);
                assert.strictEqual(again.status, 0, again.stderr);
                assert.match(again.stdout, /up to date/);
                assert.strictEqual(box.read("kernel/vm.overcommit_memory").trim(), "1");
                assert.ok(!box.calls().some((c) => c.startsWith("systemctl restart")));

                const looser = podSecurityAdmissionConfig().replace(/enforce: "restricted"/, 'enforce: "baseline"');
                const changed = box.run("install-k3s", { ...vars, K3S_PSA_B64: b64(looser) });
                assert.strictEqual(changed.status, 0, changed.stderr);
                assert.match(changed.stdout, /config not yet applied, restarted k3s/);
                assert.strictEqual(box.read("root/var/lib/rancher/k3s/server/psa.yaml"), looser);
                box.calls();
                const audit = box.run("install-k3s", { ...vars, K3S_PSA_B64: b64(looser), K3S_AUDIT_POLICY_B64: b64(auditPolicy() + "  - level: None\n") });
                assert.strictEqual(audit.status, 0, audit.stderr);
                assert.ok(box.calls().includes("systemctl restart k3s"), "an audit policy change restarts too");
            });

            it("fails naming the step when sysctl fails, and never starts K3s without the parameters", () => {
                box.write("sysctl-fails", "");
                const result = box.run("install-k3s", installVars(serverConfig()));
                assert.strictEqual(result.status, 1);
                assert.match(
                    result.stderr,
                    /geoplatform: sysctl -p \S+\/etc\/sysctl\.d\/90-kubelet\.conf failed \(status 255\); with protect-kernel-defaults the kubelet would not start/,
                );
                assert.ok(!box.calls().some((c) => c.startsWith("systemctl restart") || c.startsWith("installer")), "K3s untouched");
            });

            it("fails naming the parameter when the kernel does not take a value sysctl -p reported as set", () => {
                box.write("sysctl-ignored", "");
                const result = box.run("install-k3s", installVars(serverConfig(), "agent"));
                assert.strictEqual(result.status, 1);
                assert.match(result.stderr, /the kernel parameter vm\.overcommit_memory is '0' after sysctl -p, not '1'/);
                assert.ok(!box.calls().some((c) => c.startsWith("systemctl restart")));
            });

            it("writes the files where the API server arguments in the config point", () => {
                assert.strictEqual(box.run("install-k3s", installVars(serverConfig())).status, 0);
                const config = yaml.load(serverConfig()) as Record<string, string[]>;
                for (const key of ["admission-control-config-file", "audit-policy-file"]) {
                    const arg = config["kube-apiserver-arg"].find((a) => a.startsWith(`${key}=`)) as string;
                    assert.ok(box.exists(`root${arg.split("=")[1]}`), arg);
                }
                const log = config["kube-apiserver-arg"].find((a) => a.startsWith("audit-log-path=")) as string;
                assert.ok(box.exists(`root${path.dirname(log.split("=")[1])}`), "the log directory exists before the API server starts");
            });

            it("refuses a server without its admission config or audit policy before touching the node", () => {
                const { K3S_PSA_B64: _psa, ...vars } = installVars(serverConfig());
                const result = box.run("install-k3s", vars);
                assert.notStrictEqual(result.status, 0);
                assert.match(result.stderr, /K3S_PSA_B64/);
                assert.deepStrictEqual(box.calls(), []);
            });
        });

        it("refuses an unknown role before touching the node", () => {
            const result = box.run("install-k3s", installVars(serverConfig(), "worker"));
            assert.strictEqual(result.status, 2);
            assert.match(result.stderr, /K3S_ROLE must be server or agent, got 'worker'/);
            assert.deepStrictEqual(box.calls(), []);
        });
    });

    it("waits for nodes to register, be Ready and run the pinned version, naming the one that is not", () => {
        box.preinstallK3s(VERSION);
        box.node("a");
        box.node("b");
        const vars = { NODE_NAMES: "a b", K3S_VERSION: VERSION, TIMEOUT_SECONDS: "60" };
        const ok = box.run("wait-ready", vars);
        assert.strictEqual(ok.status, 0, ok.stderr);
        assert.match(ok.stdout, /node a Ready on v1\.33\.5\+k3s1[\s\S]*node b Ready/);

        box.node("b", { version: "v1.32.9+k3s1" });
        const oldKubelet = box.run("wait-ready", { ...vars, TIMEOUT_SECONDS: "4" });
        assert.strictEqual(oldKubelet.status, 1);
        assert.match(oldKubelet.stderr, /node b runs v1\.32\.9\+k3s1, not v1\.33\.5\+k3s1, after 4s/);

        box.node("b", { ready: false });
        const notReady = box.run("wait-ready", vars);
        assert.strictEqual(notReady.status, 1);
        assert.match(notReady.stderr, /node b is not Ready after 60s/);

        const missing = box.run("wait-ready", { ...vars, NODE_NAMES: "c", TIMEOUT_SECONDS: "1" });
        assert.strictEqual(missing.status, 1);
        assert.match(missing.stderr, /node c did not register within 1s/);
    });

    describe("drain-node", () => {
        // A live node: Ready, and its kubelet renews its Lease.
        const live = (name: string) => {
            box.node(name);
            box.write(`lease/${name}`, "1");
            box.write("lease-alive", "");
        };
        beforeEach(() => box.preinstallK3s(VERSION));

        it("drains and removes a leaving node, and accepts one that is already gone", () => {
            live("dev-system-1");
            const drained = box.run("drain-node", { NODE_NAME: "dev-system-1" });
            assert.strictEqual(drained.status, 0, drained.stderr);
            const calls = box.calls();
            assert.ok(calls.some((c) => c.startsWith("k3s kubectl drain dev-system-1 --ignore-daemonsets --delete-emptydir-data --timeout=300s")));
            assert.ok(calls.includes("k3s kubectl delete node dev-system-1 --ignore-not-found --wait=false"));
            assert.ok(!box.exists("node/dev-system-1"));

            const gone = box.run("drain-node", { NODE_NAME: "dev-system-2" });
            assert.strictEqual(gone.status, 0);
            assert.match(gone.stdout, /already gone/);
        });

        it("drains a node holding a pod with no controller (a JupyterHub user server) with --force, instead of failing at once", () => {
            live("dev-processing-1");
            box.write("bare-pod", "");
            const result = box.run("drain-node", { NODE_NAME: "dev-processing-1" });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.ok(box.calls().some((c) => c.startsWith("k3s kubectl drain dev-processing-1 ") && c.split(" ").includes("--force")));
            assert.ok(!box.exists("node/dev-processing-1"));
        });

        it("removes a dead node (not Ready: its kubelet cannot evict) without draining it", () => {
            box.node("prod-processing-2", { ready: false });
            const result = box.run("drain-node", { NODE_NAME: "prod-processing-2" });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.match(result.stdout, /prod-processing-2 is not Ready \(False\): no drain/);
            const calls = box.calls();
            assert.ok(!calls.some((c) => c.includes("drain")), "no drain that would wait for pods that never terminate");
            assert.ok(!box.exists("node/prod-processing-2"));
        });

        it("removes a node that died moments ago (still Ready, its Lease no longer renewed) without a drain, within the Lease watch", () => {
            box.node("prod-processing-2");
            box.write("lease/prod-processing-2", "1");
            const result = box.run("drain-node", { NODE_NAME: "prod-processing-2", LEASE_WATCH: "2", DRAIN_TIMEOUT: "20" });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.match(result.stdout, /prod-processing-2 still reads Ready but its kubelet renewed no lease for 2s: it is dead, no drain/);
            assert.ok(!box.calls().some((c) => c.includes(" drain ")), "a drain would wait DRAIN_TIMEOUT for pods that never terminate");
            assert.ok(!box.exists("node/prod-processing-2"));
            assert.ok(result.seconds < 10, `${result.seconds}s`);
            // No Lease at all (a kubelet that never renewed one, or it was removed): dead too.
            box.node("prod-processing-3");
            assert.match(box.run("drain-node", { NODE_NAME: "prod-processing-3", LEASE_WATCH: "2" }).stdout, /renewed no lease/);
        });

        it("fails, keeping the node, when the API does not answer: an unreadable node or Lease is not a gone one", () => {
            live("dev-system-1");
            box.write("api-error", "");
            const result = box.run("drain-node", { NODE_NAME: "dev-system-1", KEEP_NODE: "true" });
            assert.strictEqual(result.status, 1);
            assert.match(result.stderr, /cannot read node dev-system-1 from the API server: not deciding whether node dev-system-1 is gone/);
            assert.doesNotMatch(result.stdout, /already gone|kept/);
            assert.ok(box.exists("node/dev-system-1"));
        });

        it("with INSTANCE_ID leaves alone a Node that another VM registered (a VM recreated after a refresh), and releases its own", () => {
            live("dev-system-1");
            box.write("node/dev-system-1/labels", "geoplatform.io/instance-id=i-new\n");
            const result = box.run("drain-node", { NODE_NAME: "dev-system-1", KEEP_NODE: "true", INSTANCE_ID: "i-old" });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.match(result.stdout, /node dev-system-1 is VM i-new, not the released i-old: nothing to release/);
            assert.ok(!box.calls().some((c) => c.includes(" drain ")), "the new VM's live node is not drained");
            const own = box.run("drain-node", { NODE_NAME: "dev-system-1", KEEP_NODE: "true", INSTANCE_ID: "i-new" });
            assert.strictEqual(own.status, 0, own.stderr);
            assert.match(own.stdout, /drained node dev-system-1, kept/);
        });

        it("with KEEP_NODE=true and the Node already gone (the leaving agent's drain removed it first) ends at once, touching nothing", () => {
            const result = box.run("drain-node", { NODE_NAME: "dev-system-2", KEEP_NODE: "true", INSTANCE_ID: "i-old" });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.match(result.stdout, /node dev-system-2 already gone/);
            assert.deepStrictEqual(box.calls(), ["k3s kubectl get node dev-system-2 -o name --ignore-not-found"]);
            assert.ok(result.seconds < 5, `${result.seconds}s`);
        });

        it("with KEEP_NODE=true drains and keeps the Node (before a replaced VM is deleted), and fails on a blocked drain", () => {
            live("dev-system-1");
            const result = box.run("drain-node", { NODE_NAME: "dev-system-1", KEEP_NODE: "true" });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.match(result.stdout, /drained node dev-system-1, kept/);
            assert.ok(box.calls().some((c) => c.startsWith("k3s kubectl drain dev-system-1")));
            assert.ok(box.exists("node/dev-system-1"));
            box.write("drain-fails", "");
            assert.strictEqual(box.run("drain-node", { NODE_NAME: "dev-system-1", KEEP_NODE: "true", DRAIN_TIMEOUT: "1" }).status, 1, "the delete waits");
        });

        it("keeps a Ready node whose drain does not finish, and says so", () => {
            live("dev-system-1");
            box.write("drain-fails", "");
            const result = box.run("drain-node", { NODE_NAME: "dev-system-1", DRAIN_TIMEOUT: "5" });
            assert.strictEqual(result.status, 1);
            assert.match(result.stderr, /drain of dev-system-1 did not finish within 5s \(a PodDisruptionBudget\?\); the node is kept, back in service/);
            assert.ok(box.exists("node/dev-system-1"), "not deleted");
            // Not left cordoned: a change reverted after the failed drain (the VM kept) must not wedge the node.
            assert.ok(!box.exists("node/dev-system-1/unschedulable"));
            // An administrator's cordon stays.
            box.write("node/dev-system-1/unschedulable", "true");
            assert.strictEqual(box.run("drain-node", { NODE_NAME: "dev-system-1", DRAIN_TIMEOUT: "5", KEEP_NODE: "true" }).status, 1);
            assert.ok(box.exists("node/dev-system-1/unschedulable"));
        });
    });

    describe("reconcile-node", () => {
        beforeEach(() => box.preinstallK3s(VERSION));
        const lines = (rel: string) => box.read(rel).split("\n").filter(Boolean).sort();

        it("adds its taints and records what it owns, keeping every other manager's taint", () => {
            box.node("n", { taints: ["node.kubernetes.io/unschedulable=:NoSchedule", "vendor.example/gpu=true:NoSchedule"] });
            const result = box.run("reconcile-node", {
                NODE_NAME: "n",
                LABELS: "geoplatform.io/node-group geoplatform.io/workload",
                TAINTS: "geoplatform.io/node-group=processing:NoSchedule",
            });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.deepStrictEqual(lines("node/n/taints"), [
                "geoplatform.io/node-group=processing:NoSchedule",
                "node.kubernetes.io/unschedulable=:NoSchedule",
                "vendor.example/gpu=true:NoSchedule",
            ]);
            assert.deepStrictEqual(lines("node/n/annotations"), [
                "geoplatform.io/owned-labels=geoplatform.io/node-group,geoplatform.io/workload",
                "geoplatform.io/owned-taints=geoplatform.io/node-group:NoSchedule",
            ]);
        });

        it("removes the labels and taints it owned and no longer wants, and nothing else", () => {
            box.node("n", {
                labels: ["geoplatform.io/node-group=processing", "geoplatform.io/tier=gold", "topology.kubernetes.io/zone=a"],
                taints: ["geoplatform.io/node-group=processing:NoSchedule", "vendor.example/gpu=true:NoSchedule"],
                annotations: [
                    "geoplatform.io/owned-labels=geoplatform.io/node-group,geoplatform.io/tier",
                    "geoplatform.io/owned-taints=geoplatform.io/node-group:NoSchedule,geoplatform.io/gone:NoExecute",
                ],
            });
            const result = box.run("reconcile-node", { NODE_NAME: "n", LABELS: "geoplatform.io/node-group", TAINTS: "" });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.match(result.stdout, /removed label geoplatform\.io\/tier/);
            assert.deepStrictEqual(lines("node/n/labels"), ["geoplatform.io/node-group=processing", "topology.kubernetes.io/zone=a"]);
            assert.deepStrictEqual(lines("node/n/taints"), ["vendor.example/gpu=true:NoSchedule"], "an owned taint already gone is no error");
            assert.ok(lines("node/n/annotations").includes("geoplatform.io/owned-taints="));
            box.calls();
            const again = box.run("reconcile-node", { NODE_NAME: "n", LABELS: "geoplatform.io/node-group", TAINTS: "" });
            assert.strictEqual(again.status, 0, again.stderr);
            assert.ok(!box.calls().some((c) => /label .*-$|taint .*-$/.test(c)), "nothing left to remove");
        });

        it("changes the value of a taint it owns in place", () => {
            box.node("n", {
                taints: ["geoplatform.io/node-group=processing:NoSchedule"],
                annotations: ["geoplatform.io/owned-taints=geoplatform.io/node-group:NoSchedule"],
            });
            const result = box.run("reconcile-node", { NODE_NAME: "n", LABELS: "", TAINTS: "geoplatform.io/node-group=batch:NoSchedule" });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.deepStrictEqual(lines("node/n/taints"), ["geoplatform.io/node-group=batch:NoSchedule"]);
        });

        it("fails naming a node that does not exist", () => {
            const result = box.run("reconcile-node", { NODE_NAME: "ghost", LABELS: "", TAINTS: "" });
            assert.strictEqual(result.status, 1);
            assert.match(result.stderr, /node ghost not found/);
        });
    });

    describe("check-version", () => {
        it("lets a new cluster have any version", () => {
            const result = box.run("check-version", { K3S_VERSION: VERSION });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.match(result.stdout, /a new cluster/);
        });

        it("allows a patch or the next minor, refuses a minor skip and a downgrade, naming the node's version", () => {
            box.preinstallK3s("v1.32.9+k3s1");
            box.node("a", { version: "v1.32.9+k3s1" });
            box.node("b", { version: "v1.31.12+k3s1" });
            const skip = box.run("check-version", { K3S_VERSION: VERSION });
            assert.strictEqual(skip.status, 1);
            assert.match(skip.stderr, /refusing v1\.33\.5\+k3s1: a node runs v1\.31\.12\+k3s1, .* install a v1\.32\.x release first/);

            box.node("b", { version: "v1.32.9+k3s1" });
            assert.strictEqual(box.run("check-version", { K3S_VERSION: VERSION }).status, 0, "next minor");
            assert.strictEqual(box.run("check-version", { K3S_VERSION: "v1.32.10+k3s1" }).status, 0, "patch");
            const down = box.run("check-version", { K3S_VERSION: "v1.31.12+k3s1" });
            assert.strictEqual(down.status, 1);
            assert.match(down.stderr, /does not support downgrades/);
        });

        it("falls back to this server's binary when the API does not answer, so a repair run is not blocked", () => {
            box.fake("k3s", `if [ "$1" = --version ]; then echo "k3s version v1.32.9+k3s1 (abc123)"; exit 0; fi\nexit 1`);
            const ok = box.run("check-version", { K3S_VERSION: VERSION });
            assert.strictEqual(ok.status, 0, ok.stderr);
            assert.match(ok.stdout, /API does not answer; comparing with this server's binary \(v1\.32\.9\+k3s1\)/);
            const skip = box.run("check-version", { K3S_VERSION: "v1.34.1+k3s1" });
            assert.strictEqual(skip.status, 1);
        });
    });

    describe("forget-node", () => {
        beforeEach(() => box.preinstallK3s(VERSION));
        const ID = "label:geoplatform.io/instance-id";
        const forget = (extra: Record<string, string> = {}) =>
            box.run("forget-node", { NODE_NAME: "a", NODE_IP: "10.0.0.7", INSTANCE_ID: "i-new", LEASE_WATCH: "1", ...extra });
        const registeredAs = (id: string, state: { ready?: boolean; ip?: string } = {}) => {
            box.node("a", { ip: "10.0.0.7", ...state, labels: [`${ID.slice(6)}=${id}`] });
            box.write("lease/a", "1");
        };

        it("keeps the Node that is this VM (its instance id), and does nothing before the first registration", () => {
            registeredAs("i-new");
            const kept = forget();
            assert.strictEqual(kept.status, 0, kept.stderr);
            assert.match(kept.stdout, /Node a is this VM \(i-new\): kept/);
            assert.ok(box.exists("node/a"));
            assert.match(forget({ NODE_NAME: "b" }).stdout, /no Node b yet/);
        });

        it("removes a predecessor's Node that still reads Ready at the same address (an OpenStack replacement), without a drain once its kubelet is silent", () => {
            registeredAs("i-old");
            const result = forget();
            assert.strictEqual(result.status, 0, result.stderr);
            assert.match(result.stdout, /still reads Ready but its kubelet renewed no lease for 1s: its VM is gone, no drain/);
            assert.match(result.stdout, /removed the Node of the replaced VM a \(i-old, 10\.0\.0\.7, Ready: True, this VM: i-new\)/);
            assert.ok(!box.exists("node/a"));
            assert.ok(!box.calls().some((c) => c.includes("drain")), "a dead kubelet would never let a drain finish");
        });

        it("drains a predecessor whose kubelet still renews its lease (a VM deleted before it was drained), bounded", () => {
            registeredAs("i-old", { ip: "10.0.0.9" });
            box.write("lease-alive", "");
            const result = forget();
            assert.strictEqual(result.status, 0, result.stderr);
            assert.ok(box.calls().some((c) => c.startsWith("k3s kubectl drain a --ignore-daemonsets")));
            assert.ok(!box.exists("node/a"));

            registeredAs("i-old", { ip: "10.0.0.9" });
            box.write("drain-fails", "");
            const blocked = forget({ DRAIN_TIMEOUT: "1" });
            assert.strictEqual(blocked.status, 1);
            assert.match(blocked.stderr, /drain of the old a \(i-old, 10\.0\.0\.9\) did not finish within 1s/);
            assert.ok(box.exists("node/a"), "kept, so nothing is lost");
        });

        it("drains a live predecessor holding a pod with no controller (a JupyterHub user server) with --force", () => {
            registeredAs("i-old", { ip: "10.0.0.9" });
            box.write("lease-alive", "");
            box.write("bare-pod", "");
            const result = forget();
            assert.strictEqual(result.status, 0, result.stderr);
            assert.ok(box.calls().some((c) => c.startsWith("k3s kubectl drain a ") && c.split(" ").includes("--force")));
            assert.ok(!box.exists("node/a"));
        });

        it("removes a NotReady predecessor at once", () => {
            registeredAs("i-old", { ready: false });
            const started = Date.now();
            const result = forget({ LEASE_WATCH: "30" });
            assert.strictEqual(result.status, 0, result.stderr);
            assert.ok(!box.exists("node/a"));
            assert.ok(Date.now() - started < 10000, "no lease watch for a NotReady node");
        });

        it("fails, keeping the old Node, when its Lease cannot be read; a missing Lease counts as gone", () => {
            registeredAs("i-old");
            // The API answers node reads, not Lease reads (as when etcd times out on one request).
            box.fake(
                "k3s",
                `if [ "$1" = --version ]; then echo "k3s version ${VERSION} (abc123)"; exit 0; fi
case "$*" in *lease*) echo "Error from server (InternalError): etcdserver: request timed out" >&2; echo "k3s $*" >>"$SANDBOX/calls"; exit 1;; esac
. "$SANDBOX/k3s-fake"`,
            );
            const failed = forget();
            assert.strictEqual(failed.status, 1);
            assert.match(failed.stderr, /cannot read lease a from the API server: not deciding whether the old a is gone/);
            assert.ok(box.exists("node/a"), "not removed on an API error");
            assert.ok(!box.calls().some((c) => c.includes("delete")));

            box.preinstallK3s(VERSION);
            registeredAs("i-old");
            box.write("api-error", "");
            assert.strictEqual(forget().status, 1, "nor on a node read that fails");
            assert.ok(box.exists("node/a"));
            fs.rmSync(path.join(box.dir, "api-error"));
            fs.rmSync(path.join(box.dir, "lease/a"));
            const noLease = forget({ LEASE_WATCH: "30" });
            assert.strictEqual(noLease.status, 0, noLease.stderr);
            assert.match(noLease.stdout, /still reads Ready but has no Lease: its kubelet is gone, no drain/);
            assert.ok(!box.exists("node/a"));
            assert.ok(noLease.seconds < 10, "no watch of a Lease that is not there");
        });

        it("waits, bounded, until the deleted Node is gone (K3s's finalizer removes a server's etcd member first), and fails naming the finalizers that hold it", () => {
            const finalizer = "wrangler.cattle.io/managed-etcd-controller";
            registeredAs("i-old", { ready: false });
            box.write("node/a/finalizers", `${finalizer}\n`);
            box.write("finalize-reads", "3");
            const waited = forget();
            assert.strictEqual(waited.status, 0, waited.stderr);
            assert.ok(!box.exists("node/a"));
            assert.ok(box.calls().filter((c) => c.startsWith("k3s kubectl get node a -o name")).length >= 3, "read until it was gone");
            assert.match(waited.stdout, /removed the Node of the replaced VM a/);

            registeredAs("i-old", { ready: false });
            box.write("node/a/finalizers", `${finalizer}\n`);
            box.remove("finalize-reads");
            const held = forget({ GONE_TIMEOUT: "1" });
            assert.strictEqual(held.status, 1);
            assert.match(
                held.stderr,
                /the Node of the replaced VM a is still there 1s after its deletion, held by its finalizers \(wrangler\.cattle\.io\/managed-etcd-controller \): the new VM cannot register under that name until it is gone\. For a server, K3s removes its etcd member first/,
            );
            assert.doesNotMatch(held.stdout, /removed the Node/);
            assert.ok(held.seconds < 10, `bounded: ${held.seconds}s`);
        });

        it("a Node registered before the instance-id label: kept when Ready at this address, removed otherwise", () => {
            box.node("a", { ip: "10.0.0.7" });
            assert.match(forget().stdout, /has no instance id yet and is Ready at this VM's address \(10\.0\.0\.7\): kept/);
            box.node("a", { ip: "10.0.0.7", ready: false });
            assert.strictEqual(forget().status, 0);
            assert.ok(!box.exists("node/a"));
        });
    });

    describe("roll-node", () => {
        beforeEach(() => box.preinstallK3s(VERSION));
        const OLD = "v1.32.9+k3s1";
        const roll = (phase: string, node: string, extra: Record<string, string> = {}) =>
            box.run("roll-node", { PHASE: phase, NODE_NAME: node, K3S_VERSION: VERSION, CONFIG_ID: "c1", ...extra });

        it("does nothing for a new node or one already on the version and config, so creating a cluster stays parallel", () => {
            assert.match(roll("before", "new-1").stdout, /new-1 is new: nothing to drain/);
            box.node("a", { annotations: ["geoplatform.io/k3s-config=c1"] });
            assert.match(roll("before", "a").stdout, /a already runs v1\.33\.5\+k3s1 with this config/);
            assert.ok(!box.exists("cm/geoplatform-upgrade-lock"), "no lock taken");
            assert.ok(!box.calls().some((c) => c.includes("drain")));
        });

        it("drains a node holding a pod with no controller (a JupyterHub user server) with --force, so it is not left cordoned with the lock", () => {
            box.node("a", { version: OLD, annotations: ["geoplatform.io/k3s-config=c1"] });
            box.write("bare-pod", "");
            const before = roll("before", "a");
            assert.strictEqual(before.status, 0, before.stderr);
            assert.ok(box.calls().some((c) => c.startsWith("k3s kubectl drain a ") && c.split(" ").includes("--force")));
            assert.match(before.stdout, /drained a for v1\.33\.5\+k3s1/);
        });

        it("takes the lock, cordons (recording it) and drains; after the upgrade uncordons, records the config and releases", () => {
            box.node("a", { version: OLD, annotations: ["geoplatform.io/k3s-config=c1"] });
            const before = roll("before", "a");
            assert.strictEqual(before.status, 0, before.stderr);
            assert.strictEqual(box.read("cm/geoplatform-upgrade-lock/holder").trim(), "a");
            assert.ok(box.calls().some((c) => c.startsWith("k3s kubectl drain a --ignore-daemonsets --delete-emptydir-data --timeout=300s")));
            assert.ok(box.read("node/a/annotations").includes("geoplatform.io/cordoned-for-upgrade=true"));
            assert.match(before.stdout, /new version: yes, new config: no/);

            box.node("a", { version: VERSION, annotations: ["geoplatform.io/cordoned-for-upgrade=true"] });
            box.write("node/a/unschedulable", "true");
            const after = roll("after", "a");
            assert.strictEqual(after.status, 0, after.stderr);
            assert.match(after.stdout, /uncordoned a/);
            assert.ok(!box.exists("node/a/unschedulable"));
            assert.ok(!box.read("node/a/annotations").includes("cordoned-for-upgrade"));
            assert.ok(box.read("node/a/annotations").includes("geoplatform.io/k3s-config=c1"));
            assert.ok(!box.exists("cm/geoplatform-upgrade-lock"), "released");
        });

        it("rolls a config-only change the same way, and waits until K3s runs the new config (its node-config-hash changed)", () => {
            box.node("a", { annotations: ["geoplatform.io/k3s-config=c1", "k3s.io/node-config-hash=H1"] });
            box.node("b", { annotations: ["geoplatform.io/k3s-config=c1", "k3s.io/node-config-hash=H1"] });
            const before = roll("before", "a", { CONFIG_ID: "c2" });
            assert.strictEqual(before.status, 0, before.stderr);
            assert.match(before.stdout, /drained a for v1\.33\.5\+k3s1 \(new version: no, new config: yes\)/);
            assert.ok(box.read("node/a/annotations").includes("geoplatform.io/rolled-from-config-hash=H1"));
            const other = roll("before", "b", { CONFIG_ID: "c2", LOCK_TIMEOUT: "1" });
            assert.strictEqual(other.status, 1, "b waits: never two agents restarting at once");

            // K3s has not restarted with the new config: still H1.
            const stale = roll("after", "a", { CONFIG_ID: "c2", READY_TIMEOUT: "1" });
            assert.strictEqual(stale.status, 1);
            assert.match(stale.stderr, /a is not Ready on v1\.33\.5\+k3s1 with its new config \(k3s\.io\/node-config-hash still H1\) after 1s/);
            assert.strictEqual(box.read("cm/geoplatform-upgrade-lock/holder").trim(), "a", "keeps the lock");

            box.write("node/a/annotations", box.read("node/a/annotations").replace("node-config-hash=H1", "node-config-hash=H2"));
            const after = roll("after", "a", { CONFIG_ID: "c2" });
            assert.strictEqual(after.status, 0, after.stderr);
            assert.ok(box.read("node/a/annotations").includes("geoplatform.io/k3s-config=c2"));
            assert.ok(!box.read("node/a/annotations").includes("rolled-from"));
            assert.ok(!box.exists("cm/geoplatform-upgrade-lock"));
            assert.match(roll("before", "a", { CONFIG_ID: "c2" }).stdout, /already runs .* with this config/);
            assert.strictEqual(roll("before", "b", { CONFIG_ID: "c2" }).status, 0, "then b");
        });

        it("lets one node through at a time: a second waits for the lock, up to its bound", () => {
            box.node("a", { version: OLD });
            box.node("b", { version: OLD });
            assert.strictEqual(roll("before", "a").status, 0);
            const waiting = roll("before", "b", { LOCK_TIMEOUT: "1" });
            assert.strictEqual(waiting.status, 1);
            assert.match(waiting.stderr, /waited 1s for the upgrade of a to finish/);
            assert.ok(!box.read("node/b/annotations").includes("cordoned"), "b untouched");
        });

        it("keeps an administrator's cordon, and takes over a lock whose holder left the cluster", () => {
            box.node("b", { version: OLD });
            box.write("node/b/unschedulable", "true");
            box.write("cm/geoplatform-upgrade-lock/holder", "gone-1\n");
            const before = roll("before", "b");
            assert.strictEqual(before.status, 0, before.stderr);
            assert.match(before.stdout, /holder gone-1 left the cluster/);
            box.node("b", { version: VERSION });
            box.write("node/b/unschedulable", "true");
            assert.strictEqual(roll("after", "b").status, 0);
            assert.ok(box.exists("node/b/unschedulable"), "still cordoned: not by us");
        });

        it("a failed drain puts the node back in service and marks the lock failed: an agent waiting for it in this run stops at once", async () => {
            box.node("a", { version: OLD });
            box.node("b", { version: OLD });
            box.write("cm/geoplatform-upgrade-lock/holder", "a\n");
            box.write("cm/geoplatform-upgrade-lock/since", `${Math.floor(Date.now() / 1000)}\n`);
            const waiting = box.start("roll-node", { PHASE: "before", NODE_NAME: "b", K3S_VERSION: VERSION, CONFIG_ID: "c1", LOCK_TIMEOUT: "60" });
            await new Promise((r) => setTimeout(r, 1500));
            box.write("drain-fails", "");
            const failed = roll("before", "a", { DRAIN_TIMEOUT: "1" });
            assert.strictEqual(failed.status, 1);
            assert.match(failed.stderr, /drain of a did not finish within 1s .*back in service unchanged, the upgrade lock marked failed/);
            assert.ok(!box.exists("node/a/unschedulable"), "uncordoned: its pods may come back, it runs the old version");
            assert.ok(!box.read("node/a/annotations").includes("cordoned-for-upgrade"));
            assert.match(box.read("cm/geoplatform-upgrade-lock/failed").trim(), /^\d+ before$/);
            const b = await waiting;
            assert.strictEqual(b.status, 1);
            assert.match(b.stderr, /the roll of a failed \(its 'before' step, ConfigMap kube-system\/geoplatform-upgrade-lock\): b is not rolled in this run/);
            assert.ok(b.seconds < 20, `b stopped after ${b.seconds}s, not LOCK_TIMEOUT`);
            assert.ok(!box.read("node/b/annotations").includes("cordoned"), "b untouched");

            // The next run: a failure mark from an earlier run is not this run's; the holder carries on and clears it.
            box.write("cm/geoplatform-upgrade-lock/failed", "1 before\n");
            assert.match(roll("before", "b", { LOCK_TIMEOUT: "1" }).stderr, /waited 1s for the upgrade of a/);
            fs.rmSync(path.join(box.dir, "drain-fails"));
            assert.strictEqual(roll("before", "a").status, 0);
            assert.strictEqual(box.read("cm/geoplatform-upgrade-lock/failed").trim(), "");
        });

        it("takes over a lock held longer than its limit (a run stopped halfway, its holder still in the cluster)", () => {
            box.node("a", { version: OLD });
            box.node("b", { version: OLD });
            box.write("cm/geoplatform-upgrade-lock/holder", "a\n");
            box.write("cm/geoplatform-upgrade-lock/since", `${Math.floor(Date.now() / 1000) - 100}\n`);
            assert.strictEqual(roll("before", "b", { LOCK_TIMEOUT: "1", HOLD_LIMIT: "3600" }).status, 1, "within the limit: waited for");
            const taken = roll("before", "b", { HOLD_LIMIT: "50" });
            assert.strictEqual(taken.status, 0, taken.stderr);
            assert.match(taken.stdout, /held by a for more than 50s \(a run stopped halfway\): taking it over/);
            assert.strictEqual(box.read("cm/geoplatform-upgrade-lock/holder").trim(), "b");
        });

        it("a holder carrying on with its lock holds it from now: another agent waits instead of taking it over mid-roll", () => {
            box.node("a", { version: OLD });
            box.node("b", { version: OLD });
            const dayAgo = Math.floor(Date.now() / 1000) - 86400;
            box.write("cm/geoplatform-upgrade-lock/holder", "a\n");
            box.write("cm/geoplatform-upgrade-lock/since", `${dayAgo}\n`);
            box.write("cm/geoplatform-upgrade-lock/failed", `${dayAgo} after\n`);
            const carried = roll("before", "a");
            assert.strictEqual(carried.status, 0, carried.stderr);
            const since = Number(box.read("cm/geoplatform-upgrade-lock/since").trim());
            assert.ok(Math.abs(Date.now() / 1000 - since) < 60, `since ${since}: a day old, not refreshed`);
            assert.strictEqual(box.read("cm/geoplatform-upgrade-lock/failed").trim(), "");
            const waiting = roll("before", "b", { LOCK_TIMEOUT: "1" });
            assert.strictEqual(waiting.status, 1, waiting.stdout);
            assert.match(waiting.stderr, /waited 1s for the upgrade of a to finish/);
            assert.strictEqual(box.read("cm/geoplatform-upgrade-lock/holder").trim(), "a");
            assert.ok(!box.read("node/b/annotations").includes("cordoned"), "b untouched");
        });

        it("takes an API error for no answer: the lock's holder is not taken for gone, nor the node for new", () => {
            box.node("a", { version: OLD });
            box.node("b", { version: OLD });
            box.write("cm/geoplatform-upgrade-lock/holder", "a\n");
            box.write("cm/geoplatform-upgrade-lock/since", `${Math.floor(Date.now() / 1000)}\n`);
            box.write("read-error/a", "");
            const waiting = roll("before", "b", { LOCK_TIMEOUT: "1" });
            assert.strictEqual(waiting.status, 1, waiting.stdout);
            assert.doesNotMatch(waiting.stdout, /left the cluster/);
            assert.match(waiting.stderr, /waited 1s for the upgrade of a to finish/);
            assert.strictEqual(box.read("cm/geoplatform-upgrade-lock/holder").trim(), "a");

            const unread = roll("before", "a");
            assert.strictEqual(unread.status, 1);
            assert.match(unread.stderr, /cannot read node a from the API server: not deciding whether it is new/);
            assert.doesNotMatch(unread.stdout, /nothing to drain/);
            assert.ok(!box.calls().some((c) => c.includes(" drain ")));
        });

        it("fails on a Node field it cannot read instead of taking it for unset: no undrained restart, no roll taken for done", () => {
            box.node("a", { version: OLD, annotations: ["geoplatform.io/k3s-config=c1", "k3s.io/node-config-hash=H1"] });
            box.write("field-error/a", "conditions");
            const before = roll("before", "a");
            assert.strictEqual(before.status, 1, before.stdout);
            assert.match(before.stderr, /cannot read \{\.status\.conditions\[\?\(@\.type=="Ready"\)\]\.status\} of node a from the API server/);
            assert.doesNotMatch(before.stdout, /without a drain/);
            assert.match(box.read("cm/geoplatform-upgrade-lock/failed"), / before$/m, "the waiting agents stop at once");
            box.remove("field-error/a");
            box.remove("cm/geoplatform-upgrade-lock");

            // A config roll drained a; K3s has not restarted with the new config yet, and the rolled-from mark is unreadable.
            assert.strictEqual(roll("before", "a", { K3S_VERSION: OLD, CONFIG_ID: "c2" }).status, 0);
            assert.ok(box.read("node/a/annotations").includes("geoplatform.io/rolled-from-config-hash=H1"));
            box.write("field-error/a", "rolled-from");
            const after = roll("after", "a", { K3S_VERSION: OLD, CONFIG_ID: "c2", READY_TIMEOUT: "1" });
            assert.strictEqual(after.status, 1, after.stdout);
            assert.match(after.stderr, /cannot read .*rolled-from-config-hash.* of node a/);
            assert.ok(!box.read("node/a/annotations").includes("geoplatform.io/k3s-config=c2"), "not recorded as rolled");
            assert.strictEqual(box.read("cm/geoplatform-upgrade-lock/holder").trim(), "a", "keeps the lock");
        });

        it("repairs a node whose failed roll was reverted: its cordon, rolled-from mark and lock released, and its after passes", () => {
            // A config roll drained a and failed; the change is reverted to the config a runs (c1).
            box.node("a", {
                annotations: [
                    "geoplatform.io/k3s-config=c1",
                    "k3s.io/node-config-hash=H1",
                    "geoplatform.io/rolled-from-config-hash=H1",
                    "geoplatform.io/cordoned-for-upgrade=true",
                ],
            });
            box.write("node/a/unschedulable", "true");
            box.write("cm/geoplatform-upgrade-lock/holder", "a\n");
            box.write("cm/geoplatform-upgrade-lock/failed", "1 after\n");
            const before = roll("before", "a");
            assert.strictEqual(before.status, 0, before.stderr);
            assert.match(before.stdout, /uncordoned a/);
            assert.ok(!box.exists("node/a/unschedulable"));
            assert.ok(!box.read("node/a/annotations").includes("rolled-from"));
            assert.ok(!box.exists("cm/geoplatform-upgrade-lock"), "released for the other agents");
            const after = roll("after", "a", { READY_TIMEOUT: "1" });
            assert.strictEqual(after.status, 0, after.stderr);
        });

        it("fails, keeping the node cordoned and the lock, when the node does not come back on the version", () => {
            box.node("a", { version: OLD });
            box.write("cm/geoplatform-upgrade-lock/holder", "a\n");
            const after = roll("after", "a", { READY_TIMEOUT: "1" });
            assert.strictEqual(after.status, 1);
            assert.match(after.stderr, /a is not Ready on v1\.33\.5\+k3s1 with its new config \(k3s\.io\/node-config-hash still unset\) after 1s/);
            assert.ok(box.exists("cm/geoplatform-upgrade-lock"));
            assert.match(box.read("cm/geoplatform-upgrade-lock/failed").trim(), /^\d+ after$/, "marked failed: the waiting agents stop");
            assert.match(roll("before", "a").stdout, /drained a/, "the next run carries on with its own lock");
        });
    });

    describe("configure-forwarder", () => {
        const cfg = (ips: string[]) => ({ HAPROXY_CFG_B64: Buffer.from(haproxyConfig(ips)).toString("base64") });
        const written = () => box.read("root/etc/haproxy/haproxy.cfg");

        it("writes the server list after cloud-init, checks it, and reloads haproxy only when it changed", () => {
            const first = box.run("configure-forwarder", cfg(["10.20.128.3", "10.20.128.4"]));
            assert.strictEqual(first.status, 0, first.stderr);
            assert.match(written(), /^ {2}server server-2 10\.20\.128\.4:6443 check$/m);
            let calls = box.calls();
            assert.ok(calls.indexOf("cloud-init status --wait") < calls.findIndex((c) => c.startsWith("haproxy -c")));
            assert.ok(calls.includes("systemctl reload-or-restart haproxy"));
            assert.match(first.stdout, /forwards 6443 to 2 server\(s\) \(configuration changed: true\)/);

            const again = box.run("configure-forwarder", cfg(["10.20.128.3", "10.20.128.4"]));
            assert.strictEqual(again.status, 0, again.stderr);
            calls = box.calls();
            assert.ok(!calls.some((c) => c.includes("reload-or-restart")), "unchanged: open connections stay");

            const moved = box.run("configure-forwarder", cfg(["10.20.128.9", "10.20.128.4"]));
            assert.strictEqual(moved.status, 0, moved.stderr);
            assert.match(written(), /server-1 10\.20\.128\.9:6443/);
            assert.ok(box.calls().includes("systemctl reload-or-restart haproxy"));
        });

        it("installs haproxy when cloud-init did not (its install gave up on an apt lock: status 1), retrying while the lock is held", () => {
            box.write("cloud-init-error", "");
            box.write("lists-lock", "2");
            box.write("archives-lock", "1");
            const result = box.run("configure-forwarder", { ...cfg(["10.20.128.3"]), APT_RETRY_INTERVAL: "1" });
            assert.strictEqual(result.status, 0, result.stderr);
            const calls = box.calls();
            assert.strictEqual(calls.filter((c) => /^apt-get -o DPkg::Lock::Timeout=\d+ update -qq$/.test(c)).length, 3, "two lock failures, then success");
            assert.strictEqual(calls.filter((c) => /^apt-get -o DPkg::Lock::Timeout=\d+ install -y -qq haproxy$/.test(c)).length, 2);
            assert.ok(calls.indexOf("cloud-init status --wait") < calls.findIndex((c) => c.startsWith("apt-get")));
            const checked = calls.findIndex((c) => c.startsWith("haproxy -c"));
            assert.ok(checked > 0 && !calls.slice(checked).some((c) => c.startsWith("apt-get")), "installed before the configuration is checked");
            assert.match(written(), /10\.20\.128\.3/);

            // Installed: no apt at all on the next run.
            const again = box.run("configure-forwarder", cfg(["10.20.128.3"]));
            assert.strictEqual(again.status, 0, again.stderr);
            assert.ok(!box.calls().some((c) => c.startsWith("apt-get")));
        });

        it("gives up on the haproxy install within its bound when an apt lock is never released, writing nothing", () => {
            box.write("archives-lock", "always");
            const result = box.run("configure-forwarder", { ...cfg(["10.20.128.3"]), APT_LOCK_TIMEOUT: "2", APT_RETRY_INTERVAL: "1" });
            assert.strictEqual(result.status, 1);
            assert.match(result.stderr, /geoplatform: apt-get install still failed \(status 100\) after 2s of retries \(an apt lock held/);
            assert.ok(result.seconds < 15, `took ${result.seconds}s`);
            assert.ok(!box.exists("root/etc/haproxy/haproxy.cfg"));
            assert.ok(!box.calls().some((c) => c.startsWith("systemctl")));
        });

        it("keeps the running configuration when haproxy refuses the new one, and fails when haproxy does not run", () => {
            assert.strictEqual(box.run("configure-forwarder", cfg(["10.20.128.3"])).status, 0);
            box.write("haproxy-refuses", "");
            const refused = box.run("configure-forwarder", cfg(["10.20.128.7"]));
            assert.strictEqual(refused.status, 1);
            assert.match(refused.stderr, /haproxy refuses the new configuration; the running one is kept/);
            assert.match(written(), /10\.20\.128\.3/);

            fs.rmSync(path.join(box.dir, "haproxy-refuses"));
            fs.rmSync(path.join(box.dir, "active"));
            box.write("restart-fails", "");
            const down = box.run("configure-forwarder", cfg(["10.20.128.3"]));
            assert.strictEqual(down.status, 1);
            assert.match(down.stderr, /haproxy did not \(re\)start/);
        });
    });

    it("prints the kubeconfig K3s wrote", () => {
        fs.mkdirSync(path.join(box.root, "etc/rancher/k3s"), { recursive: true });
        fs.writeFileSync(path.join(box.root, "etc/rancher/k3s/k3s.yaml"), "apiVersion: v1\n");
        const result = box.run("read-kubeconfig", {});
        assert.strictEqual(result.status, 0);
        assert.strictEqual(result.stdout, "apiVersion: v1\n");
    });
});
