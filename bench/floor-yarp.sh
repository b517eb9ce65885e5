# shellcheck shell=bash
# Bench target "floor-yarp": the floor Portal stands on — YARP (Microsoft's reverse proxy on
# ASP.NET Core, .NET 10, Release) forwarding /v1/* to the fake upstream with nothing
# else: no key, no parsing, no billing. bench/floor-aspnet.sh: the same for a minimal Kestrel +
# HttpClient endpoint. Run from the repository root: ../shared/bench/run.sh ./bench/floor-yarp.sh
FLOOR_ROOT=${FLOOR_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/Floor}
FLOOR_BIN=$FLOOR_ROOT/bin/Release/net10.0/Floor
FLOOR_MODE=${FLOOR_MODE:-yarp}
TARGET_PORT=${FLOOR_PORT:-18107}
TARGET_MODEL=glm-5
TARGET_DESC="ASP.NET Core floor ($FLOOR_MODE, .NET 10, Release; relays only: no auth, no parsing, no billing)"

target_start() {
  dotnet build "$FLOOR_ROOT/Floor.csproj" -c Release >"$RUN_DIR/build.log" 2>&1 || die "floor build failed: $RUN_DIR/build.log"
  start_bg "$RUN_DIR/gateway.log" "${PIN_GW[@]}" env DOTNET_NOLOGO=1 FLOOR_UPSTREAM="${UPSTREAM_BASE%/v1}" \
    ASPNETCORE_URLS="http://127.0.0.1:$TARGET_PORT" "$FLOOR_BIN" "$FLOOR_MODE"
  TARGET_PID=$BG_PID
  BASE_URL=http://127.0.0.1:$TARGET_PORT/v1
  TARGET_HEADERS="Authorization: Bearer not-checked"
}

target_stop() { stop_pid "$TARGET_PID" TERM; }
