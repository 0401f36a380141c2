#!/usr/bin/env bash
# The migration rehearsal of the GitHub Actions example (sark-migrate.yml), every command of it.
# `make test` runs this same script on a throwaway database (test/ciExample.test.ts), so the example
# is proved on every change, not hoped.
#
# Connection: libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE), which
# both sark-migrate and pg_prove read. Not a URL for pg_prove: its option parser splits
# `-d "postgresql://...?sslmode=disable"` at the '=' and psql ends up on the local socket.
#
#   SEED=0            rehearse on a restored production snapshot instead of seeded v1 data
#   SERVERS=5000      how many v1 servers to seed (10 tools each, a few dirty rows)
#   REPORTS=.         where preflight.json, copy.json and validation_report.json go
set -euo pipefail
cd "$(dirname "$0")/../.."
reports="${REPORTS:-.}"
mkdir -p "$reports"
sark() { node bin/sark-migrate.js "$@"; }

[ -d node_modules ] || npm ci --no-audit --no-fund

if [ "${SEED:-1}" = 1 ]; then
  echo "::group::a SARK v1 database, seeded"
  sark schema up --to 005
  sark seed --servers "${SERVERS:-5000}" --tools-per-server 10 --dirty
  echo "::endgroup::"
fi

echo "::group::preflight"
sark preflight --json > "$reports/preflight.json"
echo "::endgroup::"

echo "::group::phase 1, schema"
sark schema up
echo "::endgroup::"

echo "::group::phase 2, data: the plan, then the copy"
sark data --dry-run
# Exit 1 with quarantined rows is expected on dirty data (they are reported, never dropped);
# any other failure fails the rehearsal.
status=0
sark data --execute --json > "$reports/copy.json" || status=$?
if [ "$status" -ne 0 ]; then
  if [ "$status" -eq 1 ] && node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.exit(!r.error && r.quarantined > 0 ? 0 : 1)' "$reports/copy.json"; then
    echo "quarantined v1 rows (not copied, with their reasons): $(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).quarantined' "$reports/copy.json")"
  else
    echo "the copy failed (exit $status): see $reports/copy.json" >&2
    exit "$status"
  fi
fi
echo "::endgroup::"

echo "::group::phase 3, validation"
sark validate --full --output "$reports/validation_report.json"
echo "::endgroup::"

echo "::group::pgTAP invariants on the migrated database"
pg_prove --ext .sql pgtap/02-v2-schema.sql pgtap/1*.sql pgtap/2*.sql
echo "::endgroup::"

echo "::group::phase 5, optimize; the invariants again"
sark optimize --optimize
pg_prove --ext .sql pgtap/02-v2-schema.sql pgtap/1*.sql pgtap/2*.sql
echo "::endgroup::"
