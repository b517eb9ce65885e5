# shellcheck shell=bash
# Sourced by bench/profile.sh and bench/warmup.sh once they have set TARGET (a target script) and RUN_NAME:
# starts the harness's fake upstream and the target in bench/.run/<RUN_NAME>-<time>/, and stops both (by PID)
# when the calling script exits.
BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "$0")/../../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}
export BENCH_DIR
source "$BENCH_DIR/lib/common.sh"
bench_cpus
export UPSTREAM_BASE=http://127.0.0.1:$UPSTREAM_PORT/v1
RUN_DIR=$(cd "$(dirname "$0")" && pwd)/.run/$RUN_NAME-$(date -u +%Y%m%dT%H%M%SZ); mkdir -p "$RUN_DIR"; export RUN_DIR
UPSTREAM_PID=""; TARGET_PID=""
cleanup() { [[ -n $TARGET_PID ]] && target_stop || true; [[ -n $UPSTREAM_PID ]] && upstream_stop "$UPSTREAM_PID" || true; }
trap cleanup EXIT
upstream_start "$RUN_DIR/upstream" "$UPSTREAM_PORT" "${UPSTREAM_CPU:-}"
upstream_config "$UPSTREAM_PORT" 20 0
# shellcheck source=bench/portal.sh
source "$TARGET"
target_start
