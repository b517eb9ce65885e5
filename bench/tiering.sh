#!/usr/bin/env bash
# Why a fresh Portal runs unoptimised code for so long under load: bench/warmup.sh with a startup hook
# (bench/TierLog) that logs the runtime's tiered compilation, then, per second of the gateway's life, the
# methods used for the first time (each restarts the tiering delay: the background compiler waits until a
# whole delay passes without one), the delay's pauses and resumes, and the methods compiled at tier 1.
# usage: bench/tiering.sh [target.sh] [windows] [seconds per window]   (bench/warmup.sh's arguments)
# Output: warmup.sh's table, then the per-second table; the raw logs under bench/.run/tiering-<time>/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/.run/tiering-$(date -u +%Y%m%dT%H%M%SZ); mkdir -p "$out"
dotnet build "$here/TierLog/TierLog.csproj" -c Release -o "$out/hook" >"$out/build.log" 2>&1 || { echo "TierLog build failed: $out/build.log" >&2; exit 1; }
PORTAL_EXTRA_ENV="DOTNET_STARTUP_HOOKS=$out/hook/TierLog.dll TIERLOG=$out/tier ${PORTAL_EXTRA_ENV:-}" "$here/warmup.sh" "$@"
# The admin commands that set the target up log too; the gateway lives longest, so its log is the largest.
log=$(ls -S "$out"/tier.* | head -n 1)
python3 - "$log" <<'PY'
import collections, sys
first, quick, tier1, events = collections.Counter(), collections.Counter(), collections.Counter(), collections.defaultdict(list)
seen = set()
for line in open(sys.argv[1]):
    ms, kind, *rest = line.split()
    s = int(ms) // 1000
    if kind in ('jit', 'r2r'):
        name = rest[-1]
        if kind == 'jit' and rest[0] == 'tier4':
            tier1[s] += 1
            continue
        if kind == 'jit' and rest[0] in ('tier1', 'tier3'):
            quick[s] += 1
        if name not in seen:
            seen.add(name); first[s] += 1
    elif kind in ('pause', 'resume'):  # 'background' lines (the compiler's batches) stay in the raw log
        events[s].append(kind if kind == 'pause' else f'resume ({rest[0]} methods start counting)')
print(f"\n{sys.argv[1]} (seconds since the process started; its first requests come after start-up)")
print(f"{'second':>6} {'first uses':>10} {'quick-jitted':>12} {'tier 1':>7}  tiering delay")
for s in range(max([*first, *quick, *tier1, *events, 0]) + 1):
    print(f"{s:>6} {first[s]:>10} {quick[s]:>12} {tier1[s]:>7}  {', '.join(events[s])}")
PY
