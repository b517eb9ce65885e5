# shellcheck shell=bash
# Bench target "floor-aspnet": a minimal Kestrel endpoint that sends the body on with HttpClient and
# copies the reply back as it arrives — nothing else (see bench/floor-yarp.sh).
FLOOR_MODE=aspnet
FLOOR_PORT=${FLOOR_PORT:-18108}
# shellcheck source=bench/floor-yarp.sh
source "$(dirname "${BASH_SOURCE[0]}")/floor-yarp.sh"
