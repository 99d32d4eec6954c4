#!/usr/bin/env bash
# README's run command: installs what is needed (Debian 12, as root), builds, and starts
# `switchboard serve` (router + poller, embedded in-memory store) on port 8080 (PORT to change).
# Arguments are passed to `switchboard serve`, e.g. `scripts/run.sh --demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
SWITCHBOARD_TESTS=OFF scripts/build.sh -DSWITCHBOARD_TESTS=OFF

if [[ -z "${LOADBALANCER_SECRET:-}" ]]; then
  export LOADBALANCER_SECRET=$(openssl rand -hex 24)
  echo "LOADBALANCER_SECRET was not set; generated one for this run: $LOADBALANCER_SECRET"
fi
if [[ -z "${SWITCHBOARD_ADMIN_TOKEN:-}" ]]; then
  export SWITCHBOARD_ADMIN_TOKEN=$(openssl rand -hex 24)
  echo "SWITCHBOARD_ADMIN_TOKEN was not set; generated one for this run: $SWITCHBOARD_ADMIN_TOKEN"
fi
# The embedded store keeps its recordings in a folder (RECORDING_DIR): here, not /var/bigbluebutton.
export RECORDING_DIR="${RECORDING_DIR:-$PWD/data/recordings}"
echo "Recordings are kept in $RECORDING_DIR"
# Its tenants (MULTITENANCY_ENABLED) too, across restarts.
export TENANTS_FILE="${TENANTS_FILE:-$PWD/data/tenants.json}"
mkdir -p "$(dirname "$TENANTS_FILE")"
echo "In another shell, to use the CLI:"
echo "  export SWITCHBOARD_URL=http://127.0.0.1:${PORT:-8080} SWITCHBOARD_ADMIN_TOKEN=$SWITCHBOARD_ADMIN_TOKEN"
echo "  build/bin/switchboard status"
exec build/bin/switchboard serve "$@"
