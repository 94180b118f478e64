/**
 * Runs in the schema Job, in the PostgreSQL image (bash, psql, sha256sum):
 * checks the fetched SQL against the pinned checksums, then creates Geocube's
 * schema and the pgqueue table, each only if it is missing, so a re-run (a
 * retried pod, a replaced Job) changes nothing. Connection settings come from
 * the standard PG* environment variables.
 */
export const INIT_SCHEMA_SH = `#!/usr/bin/env bash
set -euo pipefail

cd "$SQL_DIR"
sha256sum --check --strict <<CHECKSUMS
$SCHEMA_SHA256  schema.sql
$PGQUEUE_SHA256  pgqueue.sql
CHECKSUMS

exists() {
    [[ $(psql -X -A -t -q -v ON_ERROR_STOP=1 -c "SELECT $1 IS NOT NULL") == t ]]
}

if exists "to_regnamespace('geocube')"; then
    echo "schema geocube exists"
else
    psql -X -q -v ON_ERROR_STOP=1 --single-transaction -f schema.sql
    echo "schema geocube created"
fi

# The file has its own BEGIN/COMMIT.
if exists "to_regclass('public.pgq_jobs')"; then
    echo "table pgq_jobs exists"
else
    psql -X -q -v ON_ERROR_STOP=1 -f pgqueue.sql
    echo "table pgq_jobs created"
fi
`;
