#!/usr/bin/env bash
# Makes what the tests need available, then runs the command it is given with PORTAL_TEST_POSTGRES set:
#   scripts/test-services.sh dotnet test Portal.sln --blame --blame-hang-timeout 10m   (every test: README, .ci/run)
#   scripts/test-services.sh dotnet test Portal.sln --filter FullyQualifiedName~Account
# Installs Debian's chromium, postgresql, nginx and python3-aiosmtpd (the tests' SMTP server) when missing (needs root or sudo) and starts a
# throwaway PostgreSQL role on 127.0.0.1 for the SQLite-and-PostgreSQL, browser and cluster tests.
# The tests run their own nginx in a temporary folder; the system's nginx service is left alone.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 <command> [args…], e.g. $0 dotnet test Portal.sln --blame" >&2; exit 2; }
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
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
-- DROP DATABASE … WITH (FORCE) ends every session on the test's database, and under load that
-- can be an autovacuum worker, which runs as the superuser: ending it takes this role.
GRANT pg_signal_backend TO portal_test;
SQL
export PORTAL_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=portal_test;Password=portal_test;Database=postgres"

exec "$@"
