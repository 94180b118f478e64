import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { INIT_SCHEMA_SH } from "../../apps/geocube/init-schema";

// The schema Job's script runs for real here, with a fake psql on PATH that
// logs its calls and keeps "the database" as marker files.

const FAKE_PSQL = `#!/bin/sh
echo "psql $*" >>"$SANDBOX/calls"
case "$*" in
  *"to_regnamespace('geocube')"*) [ -f "$SANDBOX/db/schema" ] && echo t || echo f ;;
  *"to_regclass('public.pgq_jobs')"*) [ -f "$SANDBOX/db/pgq_jobs" ] && echo t || echo f ;;
  *"-f schema.sql"*) [ -f "$SANDBOX/fail-apply" ] && exit 3; touch "$SANDBOX/db/schema" ;;
  *"-f pgqueue.sql"*) touch "$SANDBOX/db/pgq_jobs" ;;
  *) exit 2 ;;
esac
`;

const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest("hex");

class Sandbox {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "geoplatform-geocube-"));
    readonly sql = path.join(this.dir, "sql");
    readonly files = { "schema.sql": "CREATE SCHEMA geocube;\n", "pgqueue.sql": "BEGIN; CREATE TABLE pgq_jobs (id int); COMMIT;\n" };

    constructor() {
        for (const sub of ["bin", "db", "sql"]) fs.mkdirSync(path.join(this.dir, sub));
        for (const [name, text] of Object.entries(this.files)) fs.writeFileSync(path.join(this.sql, name), text);
        fs.writeFileSync(path.join(this.dir, "bin/psql"), FAKE_PSQL, { mode: 0o755 });
        fs.writeFileSync(path.join(this.dir, "init-schema.sh"), INIT_SCHEMA_SH);
    }

    run(checksums = { schema: sha256(this.files["schema.sql"]), pgqueue: sha256(this.files["pgqueue.sql"]) }) {
        const env = {
            PATH: `${path.join(this.dir, "bin")}:${process.env.PATH}`,
            SANDBOX: this.dir,
            SQL_DIR: this.sql,
            SCHEMA_SHA256: checksums.schema,
            PGQUEUE_SHA256: checksums.pgqueue,
        };
        return spawnSync("bash", [path.join(this.dir, "init-schema.sh")], { env, encoding: "utf8" });
    }

    calls(): string[] {
        const file = path.join(this.dir, "calls");
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
    }

    applied = () => this.calls().filter((c) => c.includes(" -f "));
}

describe("Geocube schema Job script", () => {
    let box: Sandbox;
    beforeEach(() => (box = new Sandbox()));
    afterEach(() => fs.rmSync(box.dir, { recursive: true, force: true }));

    it("passes shellcheck", () => {
        assert.strictEqual(spawnSync("sh", ["-c", "command -v shellcheck"]).status, 0, "shellcheck is not installed (.ci/run installs it)");
        execFileSync("shellcheck", ["--shell=bash", path.join(box.dir, "init-schema.sh")], { encoding: "utf8" });
    });

    it("creates the schema in one transaction and the pgqueue table on an empty database", () => {
        const result = box.run();
        assert.strictEqual(result.status, 0, result.stderr);
        assert.deepStrictEqual(box.applied(), [
            "psql -X -q -v ON_ERROR_STOP=1 --single-transaction -f schema.sql",
            "psql -X -q -v ON_ERROR_STOP=1 -f pgqueue.sql",
        ]);
        assert.ok(fs.existsSync(path.join(box.dir, "db/schema")) && fs.existsSync(path.join(box.dir, "db/pgq_jobs")));
    });

    it("changes nothing when run again", () => {
        assert.strictEqual(box.run().status, 0);
        fs.rmSync(path.join(box.dir, "calls"));
        const again = box.run();
        assert.strictEqual(again.status, 0, again.stderr);
        assert.deepStrictEqual(box.applied(), []);
        assert.match(again.stdout, /schema geocube exists\ntable pgq_jobs exists/);
    });

    it("refuses SQL whose checksum differs from the pinned one, before touching the database", () => {
        const result = box.run({ schema: sha256("something else"), pgqueue: sha256(box.files["pgqueue.sql"]) });
        assert.notStrictEqual(result.status, 0);
        assert.match(result.stdout + result.stderr, /schema.sql: FAILED/);
        assert.deepStrictEqual(box.calls(), []);
    });

    it("fails, and goes no further, when applying the schema fails", () => {
        fs.writeFileSync(path.join(box.dir, "fail-apply"), "");
        const result = box.run();
        assert.notStrictEqual(result.status, 0);
        assert.ok(!box.calls().some((c) => c.includes("pgqueue.sql") || c.includes("pgq_jobs")), box.calls().join("\n"));
    });
});
