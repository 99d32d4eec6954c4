#!/usr/bin/env bash
# Runs every benchmark of bench/ one after the other and prints their summary lines together.
#   bench/run-all.sh             full runs (about 17 minutes on the 2-core machine today)
#   bench/run-all.sh --smoke     smoke runs (CI: figures only, no thresholds)
#   bench/run-all.sh --no-poll   leave out bench/poll.sh (which builds its own target first)
#   bench/run-all.sh --only "join create"   a subset (join create get_meetings memory
#                                           slow_server recordings poll)
# Other options are passed to every HTTP benchmark (e.g. --store memory).
# Exit status: 0 when every benchmark ran (targets met or not), else the number of benchmarks
# that broke. Environment: as bench/lib.sh (BUILD_DIR, BENCH_BIN_DIR, BENCH_KEEP, ...).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

smoke=() poll=1 only="join create get_meetings memory slow_server recordings poll" pass=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --smoke) smoke=(--smoke) ;;
    --no-poll) poll=0 ;;
    --only) only=$2; shift ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) pass+=("$1") ;;
  esac
  shift
done

child=""
trap '[[ -n $child ]] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 130' INT TERM

broken=0
summary=()
for b in $only; do
  case $b in
    poll)
      [[ $poll -eq 1 ]] || continue
      args=("${smoke[@]}")
      ;;
    join | create | get_meetings | memory | slow_server) args=("${smoke[@]}" "${pass[@]}") ;;
    recordings) args=("${smoke[@]}") ;;
    *) echo "run-all: unknown benchmark $b" >&2; exit 2 ;;
  esac
  echo "===== bench/$b.sh ${args[*]}"
  out=$(mktemp)
  # In the background so that a signal reaches the trap at once; tee shows the output live.
  bench/"$b".sh "${args[@]}" > >(tee "$out") 2>&1 &
  child=$!
  rc=0
  wait "$child" || rc=$?
  child=""
  sleep 0.2  # let tee drain
  if [[ $rc -ne 0 ]]; then
    broken=$((broken + 1))
    summary+=("$b: BROKEN (exit $rc)")
  else
    mapfile -t lines < <(awk '/^== summary/ { s = 1; next } s || /^poll round: /' "$out")
    summary+=("${lines[@]}")
  fi
  rm -f "$out"
done

echo "===== summary ($(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s\n' "${summary[@]}"
exit "$broken"
