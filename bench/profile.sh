#!/usr/bin/env bash
# CPU profile of Portal under load: starts the harness's fake upstream and a bench target (default
# bench/portal.sh), drives it with wrk at the given concurrency and records an EventPipe CPU sample
# trace with dotnet-trace (`dotnet tool install -g dotnet-trace`), then prints the hottest methods.
# usage: bench/profile.sh [target.sh] [concurrency] [seconds] [stream]   e.g. bench/profile.sh bench/portal.sh 32 15
# PERF=1: a native `perf record -g` profile instead (start with PORTAL_EXTRA_ENV="DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0").
# Output: bench/.run/profile-<time>/ (trace.nettrace, top.txt). Every process it starts is stopped by PID.
set -euo pipefail
TARGET=$(cd "$(dirname "${1:-bench/portal.sh}")" && pwd)/$(basename "${1:-bench/portal.sh}")
CONC=${2:-32}; SECS=${3:-15}; STREAM=${4:-}
TRACE=${DOTNET_TRACE:-$HOME/.dotnet/tools/dotnet-trace}
RUN_NAME=profile
source "$(dirname "$0")/start-target.sh"
export BENCH_HEADERS=$TARGET_HEADERS BENCH_MAX_REQ=10000000
if [[ -n $STREAM ]]; then
  export BENCH_BODY='{"model":"'"$TARGET_MODEL"'","messages":[{"role":"user","content":"Say hello"}],"max_tokens":64,"stream":true,"stream_options":{"include_usage":true}}'
else
  export BENCH_BODY='{"model":"'"$TARGET_MODEL"'","messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}'
fi
wait_ready 120 curl -fsS -o /dev/null --max-time 2 -X POST "$BASE_URL/chat/completions" -H 'Content-Type: application/json' \
  -H "$TARGET_HEADERS" -d "$BENCH_BODY"
"${PIN_LOAD[@]}" wrk -t1 -c"$CONC" -d5s -s "$BENCH_DIR/tools/post.lua" "$BASE_URL/chat/completions" >"$RUN_DIR/warmup.txt" 2>&1
"${PIN_LOAD[@]}" wrk -t1 -c"$CONC" -d"$((SECS + 4))s" -s "$BENCH_DIR/tools/post.lua" "$BASE_URL/chat/completions" >"$RUN_DIR/wrk.txt" 2>&1 &
WRK=$!
sleep 2
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$TARGET_PID/stat")
if [[ ${PERF:-0} == 1 ]]; then perf record -F 999 -g -o "$RUN_DIR/perf.data" -p "$TARGET_PID" -- sleep "$SECS" >"$RUN_DIR/perf.log" 2>&1
elif [[ ${NO_TRACE:-0} == 1 ]]; then sleep "$SECS"; else "$TRACE" collect -p "$TARGET_PID" --profile dotnet-sampled-thread-time --duration "00:00:00:$SECS" -o "$RUN_DIR/trace.nettrace" >"$RUN_DIR/collect.log" 2>&1 \
  || "$TRACE" collect -p "$TARGET_PID" --profile cpu-sampling --duration "00:00:00:$SECS" -o "$RUN_DIR/trace.nettrace" >"$RUN_DIR/collect.log" 2>&1; fi
read -r u2 s2 < <(awk '{print $14, $15}' "/proc/$TARGET_PID/stat")
echo "gateway CPU in the window: user $((u2 - u1)) + sys $((s2 - s1)) ticks of 1/$(getconf CLK_TCK) s"
wait $WRK || true
[[ ${NO_TRACE:-0} == 1 ]] && { grep -E 'Requests/sec|Latency' "$RUN_DIR/wrk.txt"; exit 0; }
if [[ ${PERF:-0} == 1 ]]; then
  grep -E 'Requests/sec|Latency' "$RUN_DIR/wrk.txt"
  perf report -i "$RUN_DIR/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^$' | grep '%' | head -60 >"$RUN_DIR/top.txt"
  perf report -i "$RUN_DIR/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep '%' | head -120 >"$RUN_DIR/top-inclusive.txt"
  cat "$RUN_DIR/top.txt"; echo "perf data: $RUN_DIR/perf.data"; exit 0
fi
grep -E 'Requests/sec|Latency' "$RUN_DIR/wrk.txt" || true
"$TRACE" report "$RUN_DIR/trace.nettrace" topN -n 40 --inclusive >"$RUN_DIR/top-inclusive.txt" 2>&1 || true
"$TRACE" report "$RUN_DIR/trace.nettrace" topN -n 40 >"$RUN_DIR/top.txt" 2>&1 || true
cat "$RUN_DIR/top.txt"
echo "trace: $RUN_DIR/trace.nettrace"
