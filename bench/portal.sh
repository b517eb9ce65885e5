# shellcheck shell=bash
# Bench target "portal": Portal as it is deployed — `dotnet publish -c Release`, framework-dependent and
# ReadyToRun-compiled (Portal.csproj) — on its embedded defaults (SQLite in a fresh data folder),
# serving model glm-5 from the harness's fake upstream, with
# everything a real request pays for: key authentication, rate limit (set high enough not to trip),
# hold, settlement and usage record. Run from the repository root:
#   ../shared/bench/run.sh nginx portkey ./bench/portal.sh
# Knobs: PORTAL_PORT (18104), PORTAL_NO_BUILD=1 (use the binary as published), PORTAL_CONFIG (Release),
# PORTAL_PUBLISH_ARGS (extra `dotnet publish` arguments, e.g. -p:PublishReadyToRun=false), PORTAL_BIN.
# bench/portal-pg.sh sources this file and swaps the store for PostgreSQL.

PORTAL_ROOT=${PORTAL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PORTAL_CONFIG=${PORTAL_CONFIG:-Release}
PORTAL_PUBLISH_DIR=${PORTAL_PUBLISH_DIR:-$PORTAL_ROOT/Portal/bin/publish-bench}
PORTAL_BIN=${PORTAL_BIN:-$PORTAL_PUBLISH_DIR/Portal}
TARGET_PORT=${PORTAL_PORT:-18104}
TARGET_MODEL=glm-5
TARGET_READY_S=120
PORTAL_STORE_DESC=${PORTAL_STORE_DESC:-SQLite}
TARGET_DESC="Portal ($PORTAL_CONFIG, .NET 10, $PORTAL_STORE_DESC; key auth, rate limit, hold, settlement, usage record)"

# The store, as environment variables; portal-pg.sh replaces this function.
portal_store_env() { echo "Store__Provider=Sqlite"; echo "Store__DataFolder=$RUN_DIR/data"; }
portal_store_cleanup() { :; }

# portal_env: the environment every Portal process of this target runs with (CLI verbs and server)
portal_env() {
  echo "ASPNETCORE_ENVIRONMENT=Production"
  echo "DOTNET_NOLOGO=1"
  echo "BENCH_UPSTREAM_KEY=sk-bench-not-a-real-key"
  # The bench key's limit (below) is far above what the bench sends, and above the default ceiling.
  echo "ApiKeys__MaxRequestsPerMinute=1000000"
  portal_store_env
  # e.g. PORTAL_EXTRA_ENV="DOTNET_PerfMapEnabled=1" for bench/profile.sh --perf
  local kv
  for kv in ${PORTAL_EXTRA_ENV:-}; do echo "$kv"; done
}

portal_admin() {
  local env=()
  mapfile -t env < <(portal_env)
  env -C "$(dirname "$PORTAL_BIN")" "${env[@]}" "$PORTAL_BIN" admin "$@" 2>>"$RUN_DIR/admin.log"
}

target_start() {
  if [[ ${PORTAL_NO_BUILD:-0} != 1 ]]; then
    # Built outside the measured steps, so no request pays for it.
    # shellcheck disable=SC2086 # PORTAL_PUBLISH_ARGS is a list of arguments
    dotnet publish "$PORTAL_ROOT/Portal/Portal.csproj" -c "$PORTAL_CONFIG" -o "$PORTAL_PUBLISH_DIR" ${PORTAL_PUBLISH_ARGS:-} >"$RUN_DIR/build.log" 2>&1 \
      || die "portal publish failed: $RUN_DIR/build.log"
  fi
  [[ -x $PORTAL_BIN ]] || die "no Portal binary at $PORTAL_BIN"
  mkdir -p "$RUN_DIR/data"
  # A funded user, a key with a limit far above what the bench sends, and glm-5 routed to the fake
  # upstream (its key read from the environment and stored encrypted, as in a real deployment).
  printf '%s\n' 'bench passphrase 1234' | portal_admin create-user --email bench@example.test --password-stdin >/dev/null \
    || die "create-user failed: $RUN_DIR/admin.log"
  portal_admin grant-credits --email bench@example.test --amount 1000000 --reason bench >/dev/null \
    || die "grant-credits failed: $RUN_DIR/admin.log"
  portal_admin add-upstream --model glm-5 --url "$UPSTREAM_BASE" --upstream-model glm-5 --key-env BENCH_UPSTREAM_KEY >/dev/null \
    || die "add-upstream failed: $RUN_DIR/admin.log"
  local key
  key=$(portal_admin create-key --email bench@example.test --name bench --rate-limit 1000000 | tail -n 1)
  [[ $key == sk-portal-* ]] || die "create-key printed no key: $RUN_DIR/admin.log"

  local env=()
  mapfile -t env < <(portal_env)
  # Run from the binary's folder, as a deployment would: that folder is the content root where
  # appsettings.json (and its logging levels) are found.
  start_bg "$RUN_DIR/gateway.log" "${PIN_GW[@]}" env -C "$(dirname "$PORTAL_BIN")" "${env[@]}" ASPNETCORE_URLS="http://127.0.0.1:$TARGET_PORT" "$PORTAL_BIN"
  TARGET_PID=$BG_PID
  BASE_URL=http://127.0.0.1:$TARGET_PORT/api/v1
  TARGET_HEADERS="Authorization: Bearer $key"
}

target_stop() {
  stop_pid "$TARGET_PID" TERM
  portal_store_cleanup
}
