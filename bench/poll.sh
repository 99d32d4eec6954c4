#!/usr/bin/env bash
# Poll-round benchmark: builds what it needs, then times Switchboard's poll rounds over bbb-sim
# servers (default 1000 servers x 20 meetings; target: a round in under 2 s). See bench/README.md.
#   bench/poll.sh                      the full run
#   bench/poll.sh --smoke              20 servers x 2 meetings, 2 rounds (CI)
#   bench/poll.sh --servers 2000 ...   any option of poll-round-bench (--help lists them)
# Env: BUILD_DIR (default build), JOBS (default nproc).
# Exit status: 0 whether or not the target is met (the summary line says PASS or FAIL);
# non-zero only when the benchmark itself broke.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}

if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
if grep -q '^SWITCHBOARD_SANITIZE:BOOL=ON' "$build_dir/CMakeCache.txt"; then
  echo "warning: $build_dir is a sanitizer build; its figures are not comparable" >&2
fi
cmake --build "$build_dir" --target poll-round-bench bbb-sim -j "$jobs"

# Each side of a round holds one socket per server.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# The benchmark kills its bbb-sim on exit (and the kernel does if the benchmark dies: it sets
# PR_SET_PDEATHSIG); the trap stops the benchmark itself on Ctrl-C or when this script is killed.
bench_pid=""
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  if [[ -n "$bench_pid" ]] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), open files $(ulimit -n)"
"$build_dir/bin/poll-round-bench" "$@" &
bench_pid=$!
status=0
wait "$bench_pid" || status=$?
bench_pid=""
exit "$status"
