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
RUN_NAME=warmup
source "$(dirname "$0")/start-target.sh"
started=$(date +%s.%N)
export BENCH_HEADERS=$TARGET_HEADERS BENCH_MAX_REQ=10000000
export BENCH_BODY='{"model":"'"$TARGET_MODEL"'","messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}'
until curl -fsS -o /dev/null --max-time 2 -X POST "$BASE_URL/chat/completions" -H 'Content-Type: application/json' \
  -H "$TARGET_HEADERS" -d "$BENCH_BODY" 2>/dev/null; do
  alive "$TARGET_PID" || die "the target exited: $RUN_DIR/gateway.log"
  (( $(date +%s) - ${started%.*} < ${TARGET_READY_S:-120} )) || die "no answer within ${TARGET_READY_S:-120} s"
  sleep 0.05
done
awk -v now="$(date +%s.%N)" -v started="$started" 'BEGIN { printf "start-up to the first answered completion: %.2f s\n", now - started }'
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
