#!/usr/bin/env bash
# Installs the Debian 12 packages Switchboard needs. Idempotent; run as root (or with sudo).
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also the servers and tools the test suite uses
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config ca-certificates curl
  libpistache-dev libssl-dev libcurl4-openssl-dev libpugixml-dev zlib1g-dev libarchive-dev
  libhiredis-dev libpqxx-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev prometheus-cpp-dev
)
test_pkgs=(
  libgtest-dev libgmock-dev redis-server postgresql postgresql-client
  docker-compose clang-format python3 python3-prometheus-client nginx wrk
  clang libclang-rt-14-dev llvm  # libFuzzer targets (tests/fuzz)
  ruby  # BBB's post_publish hook (deploy/bbb-node/switchboard_post_publish.rb)
)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
  want+=("${test_pkgs[@]}")
  # The client-library end-to-end test runs on Node.js; the image may ship its own node/npm
  # (which conflicts with Debian's npm package), so only install Debian's when none is there.
  command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then exit 0; fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
