#!/usr/bin/env bash
# Steady state, away from the harness's window: starts the fake upstream and a bench target (default
# bench/portal-tuned.sh), loads it at c=32 for a warm-up, then measures 10 s at c=1 and 10 s at c=32: latency
# (wrk) and the gateway's CPU per request (/proc). The harness measures c=1 first, 3 s after start-up.
# usage: bench/steady.sh [target.sh] [warm-up seconds (30)]
# PERF=1: a `perf record -g` profile of each step too (start with PORTAL_EXTRA_ENV="DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0"),
# for bench/where.py. Output: bench/.run/steady-<time>/. Every process it starts is stopped by PID.
set -euo pipefail
TARGET=$(cd "$(dirname "${1:-bench/portal-tuned.sh}")" && pwd)/$(basename "${1:-bench/portal-tuned.sh}")
WARM=${2:-30}
RUN_NAME=steady
source "$(dirname "$0")/start-target.sh"
export BENCH_HEADERS=$TARGET_HEADERS BENCH_MAX_REQ=10000000
export BENCH_BODY='{"model":"'"$TARGET_MODEL"'","messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}'
wait_ready 120 curl -fsS -o /dev/null --max-time 2 -X POST "$BASE_URL/chat/completions" -H 'Content-Type: application/json' \
  -H "$TARGET_HEADERS" -d "$BENCH_BODY"
"${PIN_LOAD[@]}" wrk -t1 -c32 -d"${WARM}s" -s "$BENCH_DIR/tools/post.lua" "$BASE_URL/chat/completions" >"$RUN_DIR/warmup.txt" 2>&1
for c in 1 32; do
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$TARGET_PID/stat")
  "${PIN_LOAD[@]}" wrk -t1 -c"$c" -d10s --latency -s "$BENCH_DIR/tools/post.lua" "$BASE_URL/chat/completions" >"$RUN_DIR/wrk-c$c.txt" 2>&1 &
  wrk=$!
  if [[ ${PERF:-0} == 1 ]]; then
    sleep 1
    perf record -F 999 -g -o "$RUN_DIR/perf-c$c.data" -p "$TARGET_PID" -- sleep 8 >"$RUN_DIR/perf-c$c.log" 2>&1
  fi
  wait "$wrk"
  read -r u2 s2 < <(awk '{print $14, $15}' "/proc/$TARGET_PID/stat")
  requests=$(grep -Eo '^ *[0-9]+ requests' "$RUN_DIR/wrk-c$c.txt" | grep -Eo '[0-9]+')
  ticks=$(( u2 - u1 + s2 - s1 ))
  echo "c=$c: $requests requests, gateway CPU $ticks ticks of 1/$(getconf CLK_TCK) s ($(( u2 - u1 )) user, $(( s2 - s1 )) system)," \
    "$(( ticks * 1000000 / $(getconf CLK_TCK) / requests )) µs per request; latency p50 $(awk '$1 == "50%" {print $2}' "$RUN_DIR/wrk-c$c.txt")," \
    "p99 $(awk '$1 == "99%" {print $2}' "$RUN_DIR/wrk-c$c.txt")"
done
[[ ${PERF:-0} == 1 ]] && echo "profiles: $RUN_DIR/perf-c1.data, $RUN_DIR/perf-c32.data"
exit 0
