# shellcheck shell=bash
# Bench target "portal-jit": bench/portal.sh published without ReadyToRun code, so every method of Portal
# and its packages starts as quickly jitted code (what `dotnet build` and Portal before 2026-12-07 ran):
# measures what ReadyToRun changes for start-up and warm-up (docs/performance.md). Same store, same work.
PORTAL_PUBLISH_ARGS="-p:PublishReadyToRun=false ${PORTAL_PUBLISH_ARGS:-}"
# shellcheck source=bench/portal.sh
source "$(dirname "${BASH_SOURCE[0]}")/portal.sh"
PORTAL_PUBLISH_DIR=$PORTAL_ROOT/Portal/bin/publish-bench-jit
PORTAL_BIN=$PORTAL_PUBLISH_DIR/Portal
TARGET_PORT=${PORTAL_JIT_PORT:-18110}
TARGET_DESC="$TARGET_DESC, no ReadyToRun"
