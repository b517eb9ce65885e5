#!/usr/bin/env bash
# Makes the "upgrade in place" fixtures in this folder: a SQLite and a PostgreSQL database created and
# used by the .NET 8 release of Portal, dumped as plain SQL, plus expected.json (what must survive).
#
# MUST be run with Portal's sources as of commit 2587d19a3719977cec516bf967da7b3fd43ce2f4 (the .NET 8
# release: net8.0, EF Core 8.0.33, Npgsql EF 8.0.0, Identity schema v2). The fixtures stand for a
# database that release made, which the .NET 10 release (EF Core 10, Identity schema v3) must migrate
# in place; made by any later build they would prove nothing about upgrading. The script therefore
# refuses to run when Portal/ or the build files differ from that commit (FIXTURE_ANY_COMMIT=1 overrides).
#
# It drives the real binary only (admin CLI verbs, and a running server for /api/v1 calls against the
# built-in simulated upstream); no row is inserted by hand. Keys, ids, timestamps and hashes are random,
# so every run makes different (equally valid) fixtures and a new expected.json.
#
#   Portal.Tests/Store/Fixtures/make-fixtures.sh          make both fixtures, then verify them
#   Portal.Tests/Store/Fixtures/make-fixtures.sh verify   only check the dumps here load and match expected.json
#
# PostgreSQL connection (a role that may create databases; scripts/test-services.sh makes portal_test):
#   FIXTURE_PG_HOST=127.0.0.1 FIXTURE_PG_PORT=5432 FIXTURE_PG_USER=portal_test FIXTURE_PG_PASSWORD=portal_test
#   FIXTURE_PG_DATABASE=portal_upgrade_fixture   (dropped and re-created; "<name>_verify" is used by verify)
# Other settings: FIXTURE_PORT=5787 (loopback port of the server). Needs the .NET SDK of global.json,
# NuGet access (NUGET_PACKAGES is honoured), sqlite3, psql and pg_dump (15 or later), curl, python3.
set -euo pipefail

RELEASE=2587d19a3719977cec516bf967da7b3fd43ce2f4
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
mode=${1:-make}
case "$mode" in make|verify) ;; *) echo "usage: $0 [make|verify]" >&2; exit 2 ;; esac

export PGHOST=${FIXTURE_PG_HOST:-127.0.0.1} PGPORT=${FIXTURE_PG_PORT:-5432}
export PGUSER=${FIXTURE_PG_USER:-portal_test} PGPASSWORD=${FIXTURE_PG_PASSWORD:-portal_test}
pg_db=${FIXTURE_PG_DATABASE:-portal_upgrade_fixture}
port=${FIXTURE_PORT:-5787}
pg_conn() { echo "Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Password=$PGPASSWORD;Database=$1"; }

sqlite_dump="$here/release-2026-11-sqlite.sql"
pg_dump_file="$here/release-2026-11-postgres.sql"
expected="$here/expected.json"

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -TERM "$server"; wait "$server" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---- facts: reads a store (sqlite file or PostgreSQL database) into the JSON expected.json holds ----
facts() { # facts sqlite FILE | facts postgres DBNAME  -> JSON on stdout
  python3 - "$@" <<'PY'
import datetime, hashlib, json, subprocess, sys
kind, target = sys.argv[1], sys.argv[2]

def q(sql):
    if kind == "sqlite":
        import sqlite3
        con = sqlite3.connect(target)
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        con.close()
        return rows
    out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", target, "-c",
                          f"SELECT COALESCE(json_agg(t), '[]') FROM ({sql}) t"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)

users = q('''SELECT u."Id" AS "id", u."Email" AS "email",
    CASE WHEN EXISTS (SELECT 1 FROM "AspNetUserRoles" ur JOIN "AspNetRoles" r ON r."Id" = ur."RoleId"
                      WHERE ur."UserId" = u."Id" AND r."Name" = 'Admin') THEN 'Admin' ELSE 'User' END AS "role",
    b."BalanceMicros" AS "balanceMicros",
    (SELECT COALESCE(SUM(l."AmountMicros"), 0) FROM "LedgerEntries" l WHERE l."UserId" = u."Id") AS "ledgerSumMicros",
    (SELECT COUNT(*) FROM "LedgerEntries" l WHERE l."UserId" = u."Id") AS "ledgerEntries"
  FROM "AspNetUsers" u LEFT JOIN "CreditBalances" b ON b."UserId" = u."Id" ORDER BY u."Email"''')
for u in users:
    u["ledgerSumMicros"] = int(u["ledgerSumMicros"])
    if u["balanceMicros"] != u["ledgerSumMicros"]:
        sys.exit(f"{u['email']}: balance {u['balanceMicros']} is not the sum of the ledger {u['ledgerSumMicros']}")

keys = q('''SELECT k."Id" AS "id", u."Email" AS "email", k."Name" AS "name", k."Hash" AS "hash",
    CASE WHEN k."RevokedAt" IS NULL THEN 0 ELSE 1 END AS "revoked",
    k."SpendCapMicros" AS "spendCapMicros", k."SpentMicros" AS "spentMicros",
    k."AllowedModels" AS "allowedModels", k."RateLimitPerMinute" AS "rateLimitPerMinute",
    CASE WHEN k."ExpiresAt" IS NULL THEN 0 ELSE 1 END AS "expires"
  FROM "ApiKeys" k JOIN "AspNetUsers" u ON u."Id" = k."UserId" ORDER BY u."Email", k."Name"''')
for k in keys:
    k["revoked"] = bool(k["revoked"]); k["expires"] = bool(k["expires"])

def grouped(sql):
    return {str(r["k"]): int(r["n"]) for r in q(sql)}

audit = q('''SELECT "Id" AS "id", "At" AS "at", "ActorId" AS "actorId", "Actor" AS "actor", "Action" AS "action",
    "Target" AS "target", "Details" AS "details", "PrevHash" AS "prevHash", "Hash" AS "hash"
  FROM "AuditEntries" ORDER BY "Id"''')
# The chain as Portal/Audit/AuditLog.cs HashOf computes it: SHA-256 over "portal-audit-v1\n" and, per field,
# "<utf8 byte length>:<value>\n" ("~\n" for null) of PrevHash, At (UTC, microseconds), ActorId, Actor, Action, Target, Details.
previous = "0" * 64
for e in audit:
    at = datetime.datetime.fromisoformat(e["at"])
    if at.tzinfo is not None:
        at = at.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    canonical = "portal-audit-v1\n"
    for f in [e["prevHash"], at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), e["actorId"], e["actor"], e["action"], e["target"], e["details"]]:
        canonical += ("~" if f is None else f"{len(f.encode())}:{f}") + "\n"
    if e["prevHash"] != previous or hashlib.sha256(canonical.encode()).hexdigest() != e["hash"]:
        sys.exit(f"audit chain broken at entry {e['id']}")
    previous = e["hash"]

upstreams = q('''SELECT "Id" AS "id", "ModelId" AS "model", "UpstreamModel" AS "upstreamModel", "BaseUrl" AS "baseUrl",
    CASE WHEN "ProtectedApiKey" IS NULL THEN 0 ELSE 1 END AS "hasKey" FROM "ModelUpstreams" ORDER BY "Id"''')
for u in upstreams:
    u["hasKey"] = bool(u["hasKey"])

print(json.dumps({
    "migrations": [r["id"] for r in q('SELECT "MigrationId" AS "id" FROM "__EFMigrationsHistory" ORDER BY "MigrationId"')],
    "users": users,
    "keys": keys,
    "counts": {
        "users": len(users),
        "apiKeys": len(keys),
        "ledgerEntries": int(q('SELECT COUNT(*) AS "n" FROM "LedgerEntries"')[0]["n"]),
        "ledgerEntriesByKind": grouped('SELECT "Kind" AS "k", COUNT(*) AS "n" FROM "LedgerEntries" GROUP BY "Kind" ORDER BY "Kind"'),
        "usageRecords": int(q('SELECT COUNT(*) AS "n" FROM "UsageRecords"')[0]["n"]),
        "usageRecordsByStatus": grouped('SELECT "Status" AS "k", COUNT(*) AS "n" FROM "UsageRecords" GROUP BY "Status" ORDER BY "Status"'),
        "auditEntries": len(audit),
        "dataProtectionKeys": int(q('SELECT COUNT(*) AS "n" FROM "DataProtectionKeys"')[0]["n"]),
        "modelUpstreams": len(upstreams),
    },
    "audit": {
        "genesis": "0" * 64,
        "lastHash": previous,
        "entries": [{"id": e["id"], "action": e["action"], "target": e["target"], "hash": e["hash"]} for e in audit],
    },
    "upstreams": upstreams,
}, indent=2))
PY
}

# ---- verify: load each dump into an empty store and compare with expected.json ----
verify() {
  echo "== verify: SQLite dump into an empty file"
  sqlite3 -bail "$work/verify.db" < "$sqlite_dump"
  facts sqlite "$work/verify.db" > "$work/verify-sqlite.json"

  echo "== verify: PostgreSQL dump into an empty database"
  dropdb --if-exists "${pg_db}_verify"
  createdb "${pg_db}_verify"
  psql -X -q -v ON_ERROR_STOP=1 -d "${pg_db}_verify" -f "$pg_dump_file" > /dev/null
  facts postgres "${pg_db}_verify" > "$work/verify-postgres.json"
  dropdb "${pg_db}_verify"

  python3 - "$expected" "$work/verify-sqlite.json" "$work/verify-postgres.json" <<'PY'
import json, sys
expected = json.load(open(sys.argv[1]))
def strip(facts):  # what expected.json adds from outside the store
    facts = json.loads(json.dumps(facts))
    for u in facts["users"]: u.pop("password", None)
    for k in facts["keys"]: k.pop("plaintext", None)
    for u in facts["upstreams"]: u.pop("apiKey", None)
    facts.pop("dump", None)
    return facts
for provider, path in (("sqlite", sys.argv[2]), ("postgres", sys.argv[3])):
    loaded = json.load(open(path))
    if strip(expected["providers"][provider]) != loaded:
        sys.exit(f"{provider}: the loaded dump does not match expected.json")
    balances = ", ".join(f"{u['email']}={u['balanceMicros']}" for u in loaded["users"])
    print(f"{provider}: matches expected.json ({balances}; audit chain of {loaded['counts']['auditEntries']} intact)")
PY
}

if [ "$mode" = verify ]; then verify; exit 0; fi

# ---- make ----
cd "$root"
if [ "${FIXTURE_ANY_COMMIT:-0}" != 1 ] && ! git diff --quiet "$RELEASE" -- Portal Directory.Build.props Directory.Build.targets Directory.Packages.props global.json; then
  echo "Portal's sources differ from the .NET 8 release ($RELEASE); check that commit out (see the top of this script)." >&2
  exit 1
fi

echo "== build the .NET 8 release"
dotnet build Portal -c Release -nologo -v quiet
bin=$(dirname "$(ls "$root"/Portal/bin/Release/net8.0/*/Portal)")

# Production settings (no welcome credits, no first-user admin), the simulated upstream at full speed.
export ASPNETCORE_ENVIRONMENT=Production Simulation__TokensPerSecond=0 Simulation__FirstTokenDelayMs=0
admin() { (cd "$bin" && ./Portal admin "$@"); }

# email, password, role wanted at the end (cyd becomes an admin through set-role)
users=(
  "admin@fixture.test|admin fixture passphrase|Admin"
  "ada@fixture.test|ada fixture passphrase|User"
  "bob@fixture.test|bob fixture passphrase|User"
  "cyd@fixture.test|cyd fixture passphrase|Admin"
)

create_key() { # create_key PROVIDER NAME EMAIL [options] -> records name|id|plaintext
  local provider=$1 name=$2 email=$3; shift 3
  local plaintext id
  plaintext=$(admin create-key --email "$email" --name "$name" "$@" 2> "$work/key.err")
  id=$(sed -n "s/^Created key '.*' (id \([^)]*\)) for .*/\1/p" "$work/key.err")
  [ -n "$id" ] && [[ "$plaintext" == sk-portal-* ]] || { cat "$work/key.err" >&2; exit 1; }
  echo "$name|$id|$plaintext" >> "$work/$provider-keys"
}
key() { sed -n "s/^$2|[^|]*|//p" "$work/$1-keys"; }
key_id() { sed -n "s/^$2|\([^|]*\)|.*/\1/p" "$work/$1-keys"; }

chat() { # chat KEY STATUS JSON -> fails unless the HTTP status is STATUS
  local status
  status=$(curl -sS -o "$work/reply" -w '%{http_code}' "http://127.0.0.1:$port/api/v1/chat/completions" \
    -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$3")
  if [ "$status" != "$2" ]; then echo "expected HTTP $2, got $status: $(head -c 400 "$work/reply")" >&2; exit 1; fi
  if [ "$status" = 200 ] && [[ "$3" == *'"stream":true'* ]]; then grep -q '^data: \[DONE\]' "$work/reply"; fi
}

run_release() { # run_release PROVIDER: everything today's release does to a store, through its own verbs and API
  local provider=$1 entry email password role
  : > "$work/$provider-keys"

  for entry in "${users[@]}"; do
    IFS='|' read -r email password role <<< "$entry"
    admin create-user --email "$email" --password "$password" $([ "$email" = admin@fixture.test ] && echo --admin)
  done
  admin grant-credits --email admin@fixture.test --amount 2.50 --reason "admin's own tests"
  admin grant-credits --email ada@fixture.test --amount 25 --reason welcome
  admin grant-credits --email ada@fixture.test --amount 5.125 --reason "conference bonus"
  admin grant-credits --email ada@fixture.test --amount -3.25 --reason "correction: double grant"
  admin grant-credits --email bob@fixture.test --amount 0.02 --reason trial
  admin grant-credits --email cyd@fixture.test --amount 1 --reason onboarding

  create_key "$provider" laptop ada@fixture.test
  create_key "$provider" ci ada@fixture.test --rate-limit 2 --spend-cap 1.50 --models glm-5,deepseek-r1 --expires-days 365
  create_key "$provider" old-laptop ada@fixture.test
  create_key "$provider" trial bob@fixture.test
  create_key "$provider" ops admin@fixture.test

  # Never called: kimi-k2 is not used below. Its key is stored encrypted with the Data Protection key ring.
  FIXTURE_UPSTREAM_KEY=fixture-upstream-secret-123 admin add-upstream --model kimi-k2 --url http://127.0.0.1:9/v1 \
    --upstream-model kimi-k2-fixture --key-env FIXTURE_UPSTREAM_KEY --priority 5 --timeout 30

  echo "== $provider: serve on 127.0.0.1:$port"
  (cd "$bin" && ASPNETCORE_URLS="http://127.0.0.1:$port" exec ./Portal) > "$work/$provider-server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 120); do curl -fsS "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && break; sleep 0.5; done
  curl -fsS "http://127.0.0.1:$port/readyz" > /dev/null

  local laptop ci old trial ops
  laptop=$(key "$provider" laptop); ci=$(key "$provider" ci); old=$(key "$provider" old-laptop)
  trial=$(key "$provider" trial); ops=$(key "$provider" ops)
  chat "$laptop" 200 '{"model":"glm-5","messages":[{"role":"user","content":"Hello from the fixture!"}]}'
  chat "$laptop" 200 '{"model":"glm-5","messages":[{"role":"user","content":"Stream me a haiku."}],"stream":true}'
  chat "$laptop" 200 '{"model":"deepseek-r1","messages":[{"role":"user","content":"Think, then answer."}],"stream":true,"stream_options":{"include_usage":true}}'
  chat "$laptop" 200 '{"model":"glm-5.2","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Two answers."}],"n":2,"max_tokens":64}'
  chat "$laptop" 404 '{"model":"no-such-model","messages":[{"role":"user","content":"Hi"}]}'
  chat "$ci" 200 '{"model":"deepseek-r1","messages":[{"role":"user","content":"CI check"}],"max_tokens":200}'
  chat "$ci" 403 '{"model":"glm-5.2","messages":[{"role":"user","content":"not on my list"}]}'
  chat "$ci" 429 '{"model":"glm-5","messages":[{"role":"user","content":"third in a minute"}]}'
  chat "$old" 200 '{"model":"glm-5","messages":[{"role":"user","content":"last call before revoking"}],"stream":true}'
  chat "$trial" 402 '{"model":"glm-5","messages":[{"role":"user","content":"a long essay please"}]}'
  chat "$trial" 200 '{"model":"glm-5","messages":[{"role":"user","content":"short"}],"max_tokens":50}'
  chat "$ops" 200 '{"model":"glm-5","messages":[{"role":"user","content":"ops check"}],"stream":true,"max_tokens":100}'

  admin revoke-key --id "$(key_id "$provider" old-laptop)"
  sleep 1.5
  chat "$old" 401 '{"model":"glm-5","messages":[{"role":"user","content":"after revoking"}]}'

  admin api --off
  sleep 1.5
  chat "$laptop" 503 '{"model":"glm-5","messages":[{"role":"user","content":"while off"}]}'
  admin api --on
  sleep 1.5
  chat "$laptop" 200 '{"model":"glm-5","messages":[{"role":"user","content":"back on"}]}'
  admin set-role --email cyd@fixture.test --role Admin

  echo "== $provider: stop the server (SIGTERM)"
  kill -TERM "$server"
  wait "$server"
  server=""
  admin list-users
}

echo "== SQLite"
export Store__Provider=Sqlite Store__DataFolder="$work/sqlite"
unset Store__ConnectionString
run_release sqlite
sqlite3 "$work/sqlite/portal.db" .dump > "$sqlite_dump"
facts sqlite "$work/sqlite/portal.db" > "$work/sqlite-facts.json"

echo "== PostgreSQL ($PGUSER@$PGHOST:$PGPORT, database $pg_db)"
dropdb --if-exists "$pg_db"   # Portal creates the database itself, as on a fresh install
export Store__Provider=Postgres Store__ConnectionString="$(pg_conn "$pg_db")"
run_release postgres
# Plain SQL that runs as one batch (no COPY, no psql meta-commands such as pg_dump's \restrict), and
# without pg_dump's session-wide empty search_path (every name in the dump is schema-qualified anyway).
pg_dump --inserts --no-owner --no-privileges --no-comments -d "$pg_db" \
  | grep -v '^\\' | grep -v "^SELECT pg_catalog.set_config('search_path', '', false);$" > "$pg_dump_file"
facts postgres "$pg_db" > "$work/postgres-facts.json"
dropdb "$pg_db"

echo "== expected.json"
printf '%s\n' "${users[@]}" > "$work/users"
python3 - "$RELEASE" "$work" "$expected" <<'PY'
import hashlib, json, os, sys
release, work, out = sys.argv[1:4]
users = {e: (p, r) for e, p, r in (l.rstrip("\n").split("|") for l in open(f"{work}/users"))}
doc = {
    "about": "Stores made by Portal's .NET 8 release (see make-fixtures.sh); balances are micro-dollars (1 USD = 1,000,000).",
    "release": {"commit": release, "targetFramework": "net8.0", "efCore": "8.0.33", "npgsqlEfCore": "8.0.0"},
    "providers": {},
}
for provider, dump in (("sqlite", "release-2026-11-sqlite.sql"), ("postgres", "release-2026-11-postgres.sql")):
    facts = json.load(open(f"{work}/{provider}-facts.json"))
    plaintexts = {name: (kid, text) for name, kid, text in (l.rstrip("\n").split("|") for l in open(f"{work}/{provider}-keys"))}
    for u in facts["users"]:
        password, role = users[u["email"]]
        assert u["role"] == role, (provider, u["email"], u["role"])
        u["password"] = password
    for k in facts["keys"]:
        kid, text = plaintexts[k["name"]]
        assert kid == k["id"] and hashlib.sha256(text.encode()).hexdigest() == k["hash"], (provider, k["name"])
        k["plaintext"] = text
    assert len(facts["upstreams"]) == 1 and facts["upstreams"][0]["hasKey"]
    facts["upstreams"][0]["apiKey"] = "fixture-upstream-secret-123"
    doc["providers"][provider] = {"dump": dump, **facts}
json.dump(doc, open(out, "w"), indent=2)
open(out, "a").write("\n")
PY

echo "== secrets and sizes"
{ echo fixture-upstream-secret-123; echo 'fixture passphrase'; cut -d'|' -f3 "$work"/*-keys; } > "$work/secrets"
for f in "$sqlite_dump" "$pg_dump_file"; do
  if grep -qF -f "$work/secrets" "$f"; then echo "$f holds a plaintext secret" >&2; exit 1; fi
  [ "$(stat -c %s "$f")" -lt 1000000 ] || { echo "$f is 1 MB or more" >&2; exit 1; }
done
ls -l "$here"

verify
