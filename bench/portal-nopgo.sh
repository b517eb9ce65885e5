# shellcheck shell=bash
# Bench target "portal-nopgo": bench/portal.sh with tiered PGO switched off (DOTNET_TieredPGO=0), to
# decide from figures whether Portal keeps the runtime's default (PGO on) on .NET 10 (ADR 9,
# docs/performance.md). Same binary, same store, same work per request.
PORTAL_EXTRA_ENV="DOTNET_TieredPGO=0 ${PORTAL_EXTRA_ENV:-}"
# shellcheck source=bench/portal.sh
source "$(dirname "${BASH_SOURCE[0]}")/portal.sh"
TARGET_PORT=${PORTAL_NOPGO_PORT:-18109}
TARGET_DESC="$TARGET_DESC, DOTNET_TieredPGO=0"
