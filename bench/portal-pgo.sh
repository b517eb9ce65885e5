# shellcheck shell=bash
# Bench target "portal-pgo": bench/portal.sh with tiered PGO switched on (DOTNET_TieredPGO=1, the
# runtime's default, which Portal.csproj turns off), to re-check that decision with figures
# (docs/performance.md). Same binary, same store, same work per request.
PORTAL_EXTRA_ENV="DOTNET_TieredPGO=1 ${PORTAL_EXTRA_ENV:-}"
# shellcheck source=bench/portal.sh
source "$(dirname "${BASH_SOURCE[0]}")/portal.sh"
TARGET_PORT=${PORTAL_PGO_PORT:-18109}
TARGET_DESC="$TARGET_DESC, DOTNET_TieredPGO=1"
