#!/usr/bin/env bash
# Runs every test: unit/integration (SQLite and PostgreSQL), browser (Chromium) and cluster (several
# Portal processes on PostgreSQL, behind nginx).
# Installs what the tests need when it is missing (Debian's chromium, postgresql and nginx; needs
# root or sudo) and starts a throwaway PostgreSQL role and database on 127.0.0.1. The tests run
# their own nginx in a temporary folder; the system's nginx service is left alone.
# Extra arguments go to `dotnet test`, e.g. scripts/test.sh --filter FullyQualifiedName~Account
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v pg_ctlcluster >/dev/null && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} from Debian's packages..."
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PostgreSQL: start the default cluster on loopback only, and make sure the test role exists.
pg_version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | grep -q "^$pg_version main"; then
  as_root pg_createcluster "$pg_version" main >/dev/null
fi
as_root sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/" "/etc/postgresql/$pg_version/main/postgresql.conf"
if ! pg_lsclusters -h | grep -q "^$pg_version main .* online"; then
  as_root pg_ctlcluster "$pg_version" main start
fi
pg_port=$(pg_lsclusters -h | awk -v v="$pg_version" '$1 == v && $2 == "main" { print $3 }')
as_root su postgres -c "psql -q -p $pg_port -v ON_ERROR_STOP=1" <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'portal_test') THEN
    CREATE ROLE portal_test LOGIN CREATEDB PASSWORD 'portal_test';
  END IF;
END $$;
SQL
export PORTAL_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=portal_test;Password=portal_test;Database=postgres"

# dotnet test prints one summary per test project; add them up into one closing line.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# --blame: if a test host crashes, the log names the test that was running.
dotnet test Portal.sln --blame "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
awk '/(Passed|Failed)! +- +Failed: /{
       for (i = 1; i <= NF; i++) { v = $(i+1); gsub(/,/, "", v);
         if ($i == "Failed:") f += v; if ($i == "Passed:") p += v; if ($i == "Skipped:") s += v } }
     END { printf "Tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
# The counts cover only the tests that ran: a crashed test host or a failed build stops a project early.
[[ $status == 0 ]] || echo "dotnet test FAILED (exit $status): see the errors above (a crashed test host or a build error counts nothing)"
exit "$status"
