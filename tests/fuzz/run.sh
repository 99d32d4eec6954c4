#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time from its
# seed corpus (tests/fuzz/corpus/<target>/, read only: new inputs go to a temporary directory).
# Fails when a target crashes, leaks, times out or breaks an invariant; the input that did it is
# kept in <build-dir>/fuzz-findings/ (see tests/fuzz/README.md).
#   tests/fuzz/run.sh [seconds-per-target] [build-dir]      defaults: 20, build-fuzz
#   FUZZ_TARGETS="bbb_xml_fuzz" tests/fuzz/run.sh 600       only these targets
#   FUZZ_PARALLEL=1 tests/fuzz/run.sh 600                   one target at a time (default 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
seconds=${1:-20}
build_dir=${2:-build-fuzz}
jobs=${JOBS:-2}

launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# libFuzzer's usual flags: -O1 with line tables compiles faster than -O2 -g and still symbolizes.
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Fuzz \
  -DCMAKE_CXX_FLAGS_FUZZ="-O1 -gline-tables-only" -DSWITCHBOARD_FUZZ=ON -DSWITCHBOARD_TESTS=OFF \
  "${launcher[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs" --target fuzz_targets

targets=${FUZZ_TARGETS:-$(cd "$build_dir/fuzz" && ls -- *_fuzz)}
findings="$root/$build_dir/fuzz-findings"
rm -rf "$findings"
mkdir -p "$findings"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Targets run FUZZ_PARALLEL at a time (default: 2, the CI machine's cores); each is one process.
parallel=${FUZZ_PARALLEL:-2}
run_target() {
  local target=$1 seeds="tests/fuzz/corpus/$1"
  mkdir -p "$work/$target"
  # The first corpus directory gets the new inputs; the seeds are only read.
  if "$build_dir/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$findings/$target-" \
    "$work/$target" "$seeds" >"$work/$target.log" 2>&1; then
    touch "$work/$target.passed"
  fi
}
report() {
  local target=$1
  echo "== $target: ${seconds}s from $(ls "tests/fuzz/corpus/$target" | wc -l) seeds"
  if [[ -f "$work/$target.passed" ]]; then
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
      "$work/$target.log" | tr '\n' ' '
    grep -E '#[0-9]+[[:space:]]+DONE' "$work/$target.log" | tail -1 || true
  else
    tail -n 60 "$work/$target.log"
    failed+=("$target")
  fi
}
failed=()
running=()
for target in $targets; do
  run_target "$target" &
  running+=("$target:$!")
  if ((${#running[@]} >= parallel)); then
    wait "${running[0]##*:}" || true
    report "${running[0]%%:*}"
    running=("${running[@]:1}")
  fi
done
for entry in "${running[@]}"; do
  wait "${entry##*:}" || true
  report "${entry%%:*}"
done

if ((${#failed[@]} > 0)); then
  echo "== fuzzing FAILED: ${failed[*]}; inputs in $findings (make each a regression test)"
  exit 1
fi
echo "== fuzzing passed: $(echo $targets | wc -w) targets, ${seconds}s each"
