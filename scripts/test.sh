#!/usr/bin/env bash
# README's test command: installs what the tests need (Debian 12, as root), builds, starts Redis
# and PostgreSQL on loopback, runs every test (unit, integration against bbb-sim over real
# sockets, the third-party client end-to-end test, the fault suite's short mode, a formatting
# check, the secret scan of every integration test's logs and answers), runs each libFuzzer target
# for a few seconds, then builds with AddressSanitizer + UndefinedBehaviorSanitizer and runs the
# tests again, and with ThreadSanitizer for the unit tests and the concurrent integration tests.
#   QUICK=1 scripts/test.sh   skips the sanitizer build
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Each phase prints how long it took, and the run ends with the list: CI's budget is 45 minutes
# on 2 cores, and these figures show where it goes.
phase_names=()
phase_seconds=()
phase_started=$SECONDS
phase_name="install"
phase() {
  local took=$((SECONDS - phase_started))
  phase_names+=("$phase_name")
  phase_seconds+=("$took")
  echo "   ($phase_name: ${took} s)"
  phase_name=$1
  phase_started=$SECONDS
  echo "== $1"
}
phase_summary() {
  phase ""
  echo "== phase times (s)"
  local i
  for i in "${!phase_names[@]}"; do printf '%6d  %s\n' "${phase_seconds[$i]}" "${phase_names[$i]}"; done
  printf '%6d  total\n' "$SECONDS"
}

scripts/install-deps.sh --test
source scripts/lib/stores.sh
start_stores

phase "compose.yml check"
scripts/check-compose.sh

phase "format check"
git ls-files '*.cc' '*.h' | xargs clang-format --dry-run -Werror

phase "build"
# Line tables only (-g1) in CI's builds: about a third less compile time than -g, and still
# file:line in every backtrace and sanitizer report.
BUILD_DIR=build scripts/build.sh -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
phase "tests"
(cd build && ctest --output-on-failure -j 2 --timeout 300)
phase "bbb-sim smoke test (the simulator the other tests rely on)"
python3 tests/sim/smoke_test.py build/bin/bbb-sim

phase "end-to-end with a third-party BBB client library"
# README's run command uses the embedded store: keep the test stores out of it.
env -u REDIS_URL -u DATABASE_URL tests/e2e/run.sh "$root/build/bin"

phase "fault suite, short mode (2 routers, 2 pollers, Redis, PostgreSQL, 6 bbb-sim servers; see tests/chaos/README.md)"
tests/chaos/run.sh --short "$root/build/bin"

phase "benchmark smoke runs (figures only, no thresholds; see bench/README.md)"
bench/poll.sh --smoke
bench/run-all.sh --smoke --no-poll

phase "fuzz targets, 10 s each (tests/fuzz/README.md)"
tests/fuzz/run.sh 10

if [[ "${QUICK:-0}" != "1" ]]; then
  phase "sanitizer build (ASan + UBSan)"
  BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DSWITCHBOARD_SANITIZE=ON \
    -DCMAKE_CXX_FLAGS_DEBUG="-g1"
  phase "sanitizer tests"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
  # Every unit and integration test but the ones whose time is spent waiting out timeouts of
  # stalled or dead stores and servers (they ran in the plain build above; under the sanitizers
  # they take as long and exercise the same code as the tests kept). Same rule as scripts/tsan.sh.
  asan_skip='^(StoreStallTest|SharedStoreFaultTest|HungAndKilled/RedirectTimingTest|RedisReconnectTest|PgReconnectTest)\.|^PgConnectionTest\.ConnectTimeoutOnASilentServer$'
  (cd build-asan && ctest --output-on-failure -j 2 --timeout 600 -E "$asan_skip")
  phase "ThreadSanitizer build and tests (scripts/tsan.sh)"
  (unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; scripts/tsan.sh)
fi
phase_summary
echo "== all tests passed"
