#!/usr/bin/env bash
# Memory benchmark (issue 6, target 5): the router's resident memory (VmRSS) with 100,000
# meetings in its store, created through its BBB API on bbb-sim servers; printed before, after
# the creates, after a poll round, and per meeting. With the shared store, Redis's own memory is
# printed beside it. nginx's fixed 302 is not a reference for memory; the creates' rate is
# printed for information.
#   bench/memory.sh                   full run, both stores (Redis+PostgreSQL, then embedded)
#   bench/memory.sh --smoke           a few seconds, no thresholds (CI)
#   bench/memory.sh --store memory    one store only (memory, shared or both)
# Options: --meetings N (100000) --servers K (20, bbb-sim in shared-port mode) --sim-threads T (2)
#   --conns C (32 keep-alive connections creating) --poll-interval S (10)
#   --shared-meetings N (meetings for the shared store; default: --meetings)
# Target (full run): RSS after the poll round <= 200 MB. Exit 0 whether or not it is met;
# non-zero when the benchmark itself broke (any create failed). See bench/README.md.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

store=both smoke=0 meetings=100000 shared_meetings="" servers=20 sim_threads=2 conns=32 poll=10
target_mb=200
while [[ $# -gt 0 ]]; do
  bench_option "store smoke conns poll" "$@"
  if [[ $BENCH_SHIFT -gt 0 ]]; then shift "$BENCH_SHIFT"; continue; fi
  case $1 in
    --meetings) meetings=$2; shift ;;
    --shared-meetings) shared_meetings=$2; shift ;;
    --servers) servers=$2; shift ;;
    --sim-threads) sim_threads=$2; shift ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ $smoke -eq 1 ]]; then
  meetings=1000 servers=5 poll=1
fi
[[ -n $shared_meetings ]] || shared_meetings=$meetings
stores=$(bench_stores "$store")

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

bench_init memory
start_sim "$servers" --shared-port 0 --threads "$sim_threads"

summaries=()
for st in $stores; do
  n=$meetings
  [[ $st == shared ]] && n=$shared_meetings
  echo "== memory, $st store, $n meetings"
  curl -sf -X POST "$SIM_CONTROL/reset" >/dev/null || die "bbb-sim reset failed"
  start_router "$st" "$poll"
  add_sim_servers
  sleep $((poll + 1))  # one poll round with the servers, before measuring the baseline
  rss0=$(rss_kb "$SB_PID")
  echo "router RSS before: $(mb "$rss0") MB"
  redis0=0
  if [[ $st == shared ]]; then
    redis0=$(redis-cli -p "$TEST_REDIS_PORT" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }')
  fi
  create_meetings "$bench_work/meetings-$st.txt" "$n" "mem-$st-" "$conns"
  rss1=$(rss_kb "$SB_PID")
  echo "router RSS after the creates: $(mb "$rss1") MB"
  sleep $((poll + 2))  # a poll round over every meeting
  rss2=$(rss_kb "$SB_PID")
  hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SB_PID/status")
  per=$(awk -v a="$rss2" -v b="$rss0" -v n="$n" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
  extra=""
  if [[ $st == shared ]]; then
    redis1=$(redis-cli -p "$TEST_REDIS_PORT" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }')
    extra=" redis_used_mb=$(awk -v b=$((redis1 - redis0)) 'BEGIN { printf "%.1f", b / 1048576 }') redis_bytes_per_meeting=$(((redis1 - redis0) / n))"
  fi
  echo "router RSS after a poll round: $(mb "$rss2") MB (peak $(mb "$hwm") MB); bbb-sim RSS $(mb "$(rss_kb "$SIM_PID")") MB"
  v=$(verdict "$smoke" "le $(mb "$rss2") $target_mb")
  line="memory[$st]: meetings=$n rss_mb=$(mb "$rss2") rss_before_mb=$(mb "$rss0") rss_after_creates_mb=$(mb "$rss1") peak_mb=$(mb "$hwm") bytes_per_meeting=$per$extra create_rate=${L[rate]}/s target=rss<=${target_mb}MB $v"
  echo "$line"
  summaries+=("$line")
  stop_router
  [[ $st == shared ]] && stop_bench_stores
done

echo "== summary"
printf '%s\n' "${summaries[@]}"
bench_ok=1
