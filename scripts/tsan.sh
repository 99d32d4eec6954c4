#!/usr/bin/env bash
# ThreadSanitizer build and run (issue 18, race detection): builds the unit and integration tests
# with -fsanitize=thread into build-tsan/ (or $BUILD_DIR) and runs the TSan subset below. Any
# report fails the run (halt_on_error); tests/tsan.supp holds suppressions for third-party
# internals only, each with its reason.
# The integration tests need Redis and PostgreSQL: source scripts/lib/stores.sh and call
# start_stores first (scripts/test.sh does), or export REDIS_URL and DATABASE_URL.
#   scripts/tsan.sh            the subset CI runs (all unit tests, the concurrent integration ones)
#   TSAN_ALL=1 scripts/tsan.sh every unit and integration test
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-build-tsan}

# The subset: every unit test (they run in seconds, and carry the concurrency tests of the
# placement view, the reservation writer, group commit, the worker pool and the join cache), and
# the integration tests whose point is concurrency across threads or processes of ours (tenant
# limits over two routers and racing quota admissions among them). Left out:
# integration tests that mostly wait on timeouts of stalled stores or servers (StoreStallTest,
# the fault suites' outage tests, reconnect tests): under TSan they take many times longer and
# exercise the same code paths as the ones kept.
integration_subset=${TSAN_INTEGRATION_REGEX:-'^(BbbApiTest|PollerTest|SlowServerTest|BusyRouterTest|OneMeetingOnePlaceTest|SharedStoreTest|TenantsTest|TenantLimitsSharedTest|Redis/TenantQuotaContract|PgMeetingStoreTest\.(Concurrent|Racing)|PgServerStoreTest\.Concurrent|RedisMeetingStoreTest\.Concurrent|RedisServerStoreTest\.Concurrent)'}

# -O1 -g1: TSan's recommended optimisation, and about 40% less compile time than -O2 -g with the
# file and line of every frame still in the reports.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHBOARD_TSAN=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" "$@" >/dev/null
cmake --build "$build_dir" -j "${JOBS:-$(nproc)}" --target unit_tests integration_tests

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp"
cd "$build_dir"
echo "== TSan: unit tests"
ctest --output-on-failure -j 2 --timeout 600 -L unit
echo "== TSan: integration tests"
if [[ "${TSAN_ALL:-0}" == "1" ]]; then
  ctest --output-on-failure -j 2 --timeout 600 -L integration
else
  ctest --output-on-failure -j 2 --timeout 600 -L integration -R "$integration_subset"
fi
