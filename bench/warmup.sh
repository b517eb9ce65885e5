#!/usr/bin/env bash
# Warm-up curve of a bench target: starts the harness's fake upstream and the target (default
# bench/portal.sh), times its start-up to the first answered completion, then drives it with wrk at
# c=32 in back-to-back windows from the first request on and prints, per window, requests/s and the
# gateway's CPU per request (from /proc). No warm-up run beforehand: the first window is the process's
# first load. The performance issue's warm-up target reads off this curve (steady within 10 s).
# usage: bench/warmup.sh [target.sh] [windows] [seconds per window]   e.g. bench/warmup.sh bench/portal.sh 10 2
# Output: a table on stdout; raw wrk output under bench/.run/warmup-<time>/.
set -euo pipefail
TARGET=$(cd "$(dirname "${1:-bench/portal.sh}")" && pwd)/$(basename "${1:-bench/portal.sh}")
WINDOWS=${2:-10}; SECS=${3:-2}
BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "$0")/../../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}
export BENCH_DIR
source "$BENCH_DIR/lib/common.sh"
bench_cpus
export UPSTREAM_BASE=http://127.0.0.1:$UPSTREAM_PORT/v1
RUN_DIR=$(cd "$(dirname "$0")" && pwd)/.run/warmup-$(date -u +%Y%m%dT%H%M%SZ); mkdir -p "$RUN_DIR"; export RUN_DIR
UPSTREAM_PID=""; TARGET_PID=""
cleanup() { [[ -n $TARGET_PID ]] && target_stop || true; [[ -n $UPSTREAM_PID ]] && upstream_stop "$UPSTREAM_PID" || true; }
trap cleanup EXIT
upstream_start "$RUN_DIR/upstream" "$UPSTREAM_PORT" "${UPSTREAM_CPU:-}"
upstream_config "$UPSTREAM_PORT" 20 0
source "$TARGET"
target_start
started=$(date +%s.%N)
export BENCH_HEADERS=$TARGET_HEADERS BENCH_MAX_REQ=10000000
export BENCH_BODY='{"model":"'"$TARGET_MODEL"'","messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}'
until curl -fsS -o /dev/null --max-time 2 -X POST "$BASE_URL/chat/completions" -H 'Content-Type: application/json' \
  -H "$TARGET_HEADERS" -d "$BENCH_BODY" 2>/dev/null; do
  alive "$TARGET_PID" || die "the target exited: $RUN_DIR/gateway.log"
  (( $(date +%s) - ${started%.*} < ${TARGET_READY_S:-120} )) || die "no answer within ${TARGET_READY_S:-120} s"
  sleep 0.05
done
printf 'start-up to the first answered completion: %.2f s\n' "$(echo "$(date +%s.%N) - $started" | bc)"
ticks=$(getconf CLK_TCK)
printf '%-8s %10s %14s\n' window requests/s 'CPU/request'
for ((w = 1; w <= WINDOWS; w++)); do
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$TARGET_PID/stat")
  "${PIN_LOAD[@]}" wrk -t1 -c32 -d"${SECS}s" -s "$BENCH_DIR/tools/post.lua" "$BASE_URL/chat/completions" >"$RUN_DIR/wrk-$w.txt" 2>&1
  read -r u2 s2 < <(awk '{print $14, $15}' "/proc/$TARGET_PID/stat")
  requests=$(grep -oE '^ +[0-9]+ requests in' "$RUN_DIR/wrk-$w.txt" | grep -oE '[0-9]+' | head -n 1)
  [[ ${requests:-0} -gt 0 ]] || die "window $w answered nothing: $RUN_DIR/wrk-$w.txt"
  cpu_us=$(( (u2 - u1 + s2 - s1) * 1000000 / ticks / requests ))
  printf '%-8s %10d %11d µs\n' "$(( (w - 1) * SECS ))-$(( w * SECS ))s" "$(( requests / SECS ))" "$cpu_us"
done
