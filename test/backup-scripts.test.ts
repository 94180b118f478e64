import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderScript } from "../platform/k3s/render";
import { mcHost, mirrorScript } from "../platform/backup/minio-mirror";
import { REPO_ROOT } from "./harness/stack-config";

// The backup scripts run for real: bash (or sh) executes what the command or the CronJob runs, with fake k3s,
// systemctl and mc on PATH that log their calls, and a temporary root instead of /.

class Box {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-backup-"));
    constructor(fakes: Record<string, string>) {
        fs.mkdirSync(path.join(this.dir, "bin"));
        fs.mkdirSync(path.join(this.dir, "root"));
        for (const [name, body] of Object.entries(fakes)) fs.writeFileSync(path.join(this.dir, "bin", name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    }
    touch(name: string, content = ""): void {
        fs.mkdirSync(path.dirname(path.join(this.dir, name)), { recursive: true });
        fs.writeFileSync(path.join(this.dir, name), content);
    }
    read(name: string): string {
        const file = path.join(this.dir, name);
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    }
    calls(): string[] {
        const c = this.read("calls").trim();
        fs.rmSync(path.join(this.dir, "calls"), { force: true });
        return c ? c.split("\n") : [];
    }
    run(shell: string, args: string[], input: string, env: Record<string, string> = {}) {
        const r = spawnSync(shell, args, {
            input,
            env: { PATH: `${this.dir}/bin:/usr/bin:/bin`, SANDBOX: this.dir, HOME: this.dir, ...env },
            encoding: "utf8",
        });
        return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    }
    cleanup(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

describe("backup scripts", () => {
    it("pass shellcheck (bash for the node, POSIX sh for the mc image)", () => {
        execFileSync("shellcheck", ["--shell=bash", path.join(REPO_ROOT, "platform/k3s/scripts/restore-etcd.sh")]);
        execFileSync("shellcheck", ["--shell=sh", path.join(REPO_ROOT, "platform/backup/scripts/mirror-minio.sh")]);
    });

    describe("restore-etcd.sh", () => {
        // k3s: `server --cluster-reset` prints K3s' line and exits 0 unless $SANDBOX/reset-fails; `kubectl get --raw /readyz`
        // succeeds once started, unless $SANDBOX/never-ready, and never answers with $SANDBOX/readyz-hangs.
        const fakes = {
            k3s: `echo "k3s $*" >>"$SANDBOX/calls"
case "$1" in
  server) [ -f "$SANDBOX/reset-fails" ] && { echo "level=fatal msg=\\"failed to get snapshot from s3\\""; exit 1; }
          echo "level=info msg=\\"Managed etcd cluster membership has been reset, restart without --cluster-reset flag now.\\""; exit 0 ;;
  kubectl) [ -f "$SANDBOX/readyz-hangs" ] && exec /bin/sleep 60
          [ -f "$SANDBOX/started" ] && [ ! -f "$SANDBOX/never-ready" ] ;;
esac`,
            systemctl: `echo "systemctl $*" >>"$SANDBOX/calls"; case "$1" in start) touch "$SANDBOX/started";; stop) rm -f "$SANDBOX/started";; esac`,
            sleep: "exec /bin/sleep 0.1",
        };
        let box: Box;
        beforeEach(() => (box = new Box(fakes)));
        afterEach(() => box.cleanup());
        const restore = (vars: Record<string, string>) =>
            box.run(
                "bash",
                ["-s"],
                renderScript("restore-etcd", { GEOPLATFORM_ROOT: path.join(box.dir, "root"), START_TIMEOUT: "2", RESET_TIMEOUT: "5", ...vars }),
            );
        const SNAP = "etcd-snapshot-prod-control-plane-1-1764547200.zip";

        it("stops K3s, resets from the snapshot (config file's bucket, or the one named), starts it, waits for the API, records it", () => {
            const r = restore({ SNAPSHOT: SNAP, RESTORE_BUCKET: "old-bucket" });
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(box.calls(), [
                "systemctl stop k3s",
                `k3s server --cluster-reset --cluster-reset-restore-path=${SNAP} --etcd-s3-bucket=old-bucket`,
                "systemctl start k3s",
                "k3s kubectl get --raw /readyz",
            ]);
            assert.strictEqual(box.read("root/var/lib/geoplatform/etcd-restored").trim(), SNAP);
        });

        it("does nothing the second time, and refuses another snapshot rather than reset the cluster again", () => {
            assert.strictEqual(restore({ SNAPSHOT: SNAP }).status, 0);
            box.calls();
            const again = restore({ SNAPSHOT: SNAP });
            assert.strictEqual(again.status, 0);
            assert.deepStrictEqual(box.calls(), []);
            const other = restore({ SNAPSHOT: "etcd-snapshot-other.zip" });
            assert.strictEqual(other.status, 1);
            assert.match(other.stderr, /was restored from etcd-snapshot-prod.*remove .*etcd-restored/);
            assert.deepStrictEqual(box.calls(), [], "nothing stopped");
        });

        it("a failed reset starts K3s on its previous data, fails naming the snapshot, and records nothing (the next run retries)", () => {
            box.touch("reset-fails");
            const r = restore({ SNAPSHOT: SNAP });
            assert.strictEqual(r.status, 1);
            assert.match(r.stderr, /failed to get snapshot from s3/);
            assert.match(r.stderr, new RegExp(`--cluster-reset from ${SNAP.replace(/\./g, "\\.")} failed`));
            assert.deepStrictEqual(box.calls().slice(-1), ["systemctl start k3s"]);
            assert.strictEqual(box.read("root/var/lib/geoplatform/etcd-restored"), "");
        });

        it("fails within its bound when the API server does not come back", () => {
            box.touch("never-ready");
            const started = Date.now();
            const r = restore({ SNAPSHOT: SNAP });
            assert.strictEqual(r.status, 1);
            assert.match(r.stderr, /not ready 2 s after the restore/);
            assert.ok(Date.now() - started < 10000);
            assert.strictEqual(box.read("root/var/lib/geoplatform/etcd-restored"), "");
        });

        it("bounds each readiness call (10 s): an API server that accepts and never answers fails the restore in time", () => {
            box.touch("readyz-hangs");
            const started = Date.now();
            const r = restore({ SNAPSHOT: SNAP });
            assert.strictEqual(r.status, 1);
            assert.match(r.stderr, /not ready 2 s after the restore/);
            assert.ok(Date.now() - started < 30000, `${Date.now() - started} ms`);
            assert.strictEqual(box.read("root/var/lib/geoplatform/etcd-restored"), "");
        });

        it("needs a snapshot name", () => {
            assert.notStrictEqual(restore({}).status, 0);
        });
    });

    describe("mirror-minio.sh", () => {
        // mc mirror: logs, and fails for buckets listed in $SANDBOX/failing.
        const fakes = { mc: `echo "mc $*" >>"$SANDBOX/calls"; for b in $(cat "$SANDBOX/failing" 2>/dev/null); do [ "$3" = "src/$b" ] && exit 1; done; exit 0` };
        let box: Box;
        beforeEach(() => (box = new Box(fakes)));
        afterEach(() => box.cleanup());
        const mirror = (env: Record<string, string>) => box.run("sh", ["-s"], mirrorScript(), env);

        it("mirrors every bucket under the destination prefix, never removing what MinIO deleted", () => {
            const r = mirror({ BUCKETS: "jupyterhub-notebooks argo-artifacts", DEST: "backup/b1/minio" });
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(box.calls(), [
                "mc mirror --overwrite src/jupyterhub-notebooks backup/b1/minio/jupyterhub-notebooks",
                "mc mirror --overwrite src/argo-artifacts backup/b1/minio/argo-artifacts",
            ]);
        });

        it("tries every bucket, then fails naming the ones that failed", () => {
            box.touch("failing", "jupyterhub-notebooks");
            const r = mirror({ BUCKETS: "jupyterhub-notebooks argo-artifacts", DEST: "backup/b1/minio" });
            assert.strictEqual(r.status, 1);
            assert.match(r.stderr, /mirroring failed for: jupyterhub-notebooks$/m);
            assert.strictEqual(box.calls().length, 2, "the second bucket is still mirrored");
        });

        it("needs its buckets and destination", () => {
            assert.notStrictEqual(mirror({ DEST: "backup/b1/minio" }).status, 0);
            assert.notStrictEqual(mirror({ BUCKETS: "a" }).status, 0);
        });
    });

    it("builds mc aliases with URL-encoded keys (AWS secret keys hold / and +)", () => {
        assert.strictEqual(mcHost("https://s3.eu-central-1.amazonaws.com", "AKIA", "a/b+c"), "https://AKIA:a%2Fb%2Bc@s3.eu-central-1.amazonaws.com");
        assert.strictEqual(mcHost("http://minio.minio.svc:9000", "backup-mirror", "k"), "http://backup-mirror:k@minio.minio.svc:9000");
    });
});
