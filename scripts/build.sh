#!/usr/bin/env bash
# Configures and builds Switchboard into build/ (or $BUILD_DIR). Extra args go to cmake.
#   scripts/build.sh                 optimised build with tests
#   BUILD_DIR=build-asan scripts/build.sh -DSWITCHBOARD_SANITIZE=ON
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"
