# shellcheck shell=bash
# Bench target "portal-pg": the same Portal as bench/portal.sh, on PostgreSQL (the scale-out store),
# in a fresh database per run on the local server (127.0.0.1), dropped when the target stops.
# Like scripts/test-services.sh it starts the local cluster and makes the `portal_test` role when missing
# (needs root or sudo then). PostgreSQL's own processes are not pinned and their CPU is not counted
# in the gateway's figures. Knobs: PORTAL_BENCH_PG (a connection string for a role with CREATEDB).

PORTAL_STORE_DESC=PostgreSQL
# shellcheck source=bench/portal.sh
source "$(dirname "${BASH_SOURCE[0]}")/portal.sh"
TARGET_PORT=${PORTAL_PG_PORT:-18105}

portal_pg_server() {
  if [[ -n ${PORTAL_BENCH_PG:-} ]]; then echo "$PORTAL_BENCH_PG"; return; fi
  local as_root=(); [[ $(id -u) == 0 ]] || as_root=(sudo)
  local v; v=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  pg_lsclusters -h | grep -q "^$v main .* online" || "${as_root[@]}" pg_ctlcluster "$v" main start >&2
  local port; port=$(pg_lsclusters -h | awk -v v="$v" '$1 == v && $2 == "main" { print $3 }')
  "${as_root[@]}" su postgres -c "psql -q -p $port -v ON_ERROR_STOP=1" >&2 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'portal_test') THEN
    CREATE ROLE portal_test LOGIN CREATEDB PASSWORD 'portal_test';
  END IF;
END $$;
SQL
  # Loopback: no TLS, as the HTTP legs of every target are plain too (TLS here measured OpenSSL, not Portal).
  # No pool size: Portal's default (20, ADR 19) is what the PostgreSQL target is measured with.
  echo "Host=127.0.0.1;Port=$port;Username=portal_test;Password=portal_test;Database=postgres;SSL Mode=Disable"
}

PORTAL_PG_DB=portal_bench_$(date -u +%Y%m%d%H%M%S)_$$
PORTAL_PG_SERVER=$(portal_pg_server)
# Portal's migrations create the database; only its name changes.
PORTAL_PG_CONN=${PORTAL_PG_SERVER/Database=postgres/Database=$PORTAL_PG_DB}

# The key ring secret the CLI and the server share (ADR 14), new for the run's new database.
PORTAL_PG_KEYRING_SECRET=$(head -c 32 /dev/urandom | base64)

portal_store_env() {
  echo "Store__Provider=Postgres"; echo "Store__ConnectionString=$PORTAL_PG_CONN"
  echo "DataProtection__KeyRingSecret=$PORTAL_PG_KEYRING_SECRET"
}
# The Npgsql connection string as libpq's conninfo, for psql.
portal_pg_conninfo() {
  python3 -c 'import sys; m = {"host": "host", "port": "port", "username": "user", "password": "password", "database": "dbname"}
print(" ".join(m[k.strip().lower()] + "=" + v for k, v in (p.split("=", 1) for p in sys.argv[1].split(";") if "=" in p) if k.strip().lower() in m))' "$1"
}
portal_store_cleanup() {
  psql -q "$(portal_pg_conninfo "$PORTAL_PG_SERVER")" -c "DROP DATABASE IF EXISTS \"$PORTAL_PG_DB\" WITH (FORCE)" >/dev/null 2>&1 \
    || log "could not drop $PORTAL_PG_DB"
}
