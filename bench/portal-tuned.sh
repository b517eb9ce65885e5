# shellcheck shell=bash
# Bench target "portal-tuned": bench/portal.sh with one runtime setting changed, to show what the
# JIT's warm-up costs in a short run (docs/performance.md): DOTNET_TC_CallCountingDelayMs=0 lets
# tiered compilation promote hot methods while the process is busy, instead of waiting for a quiet
# 100 ms that a loaded server never has. Same binary, same store, same work per request.
PORTAL_EXTRA_ENV="DOTNET_TC_CallCountingDelayMs=0 ${PORTAL_EXTRA_ENV:-}"
# shellcheck source=bench/portal.sh
source "$(dirname "${BASH_SOURCE[0]}")/portal.sh"
TARGET_PORT=${PORTAL_TUNED_PORT:-18106}
TARGET_DESC="$TARGET_DESC, DOTNET_TC_CallCountingDelayMs=0"
