#!/usr/bin/env bash
# getMeetings benchmark (issue 6, target 3): a signed getMeetings over 100 servers x 50 meetings
# (3 participants each), latency with one client and throughput with a few, against nginx's
# fixed 302 with the same wrk settings.
#   bench/get_meetings.sh                 full run, both stores (Redis+PostgreSQL, then embedded)
#   bench/get_meetings.sh --smoke         a few seconds, no thresholds (CI)
#   bench/get_meetings.sh --store shared  one store only (memory, shared or both)
# Options: --servers K (100, bbb-sim in shared-port mode) --meetings M per server (50)
#   --participants P per meeting (3) --sim-threads T (2) --duration S (10)
#   --conns "1 8" (the first is the one with the target; wrk -t1 for 1 connection)
#   --alg sha1|... (sha1) --poll-interval S (5)
#   --perf FILE: `perf record --call-graph dwarf` the router during its first measured run (FILE.<store>)
# The meetings are created through the router (so its store knows them, as in production), then
# the participants are added through bbb-sim's control API, then the script waits for a poll
# round and checks that one getMeetings lists every meeting.
# Target (full run, first --conns value): p50 <= 20 ms, zero errors. Exit 0 whether or not it is
# met; non-zero when the benchmark itself broke. See bench/README.md.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

store=both smoke=0 servers=100 per_server=50 participants=3 sim_threads=2 duration=10 conns="1 8"
alg=sha1 poll=5 target_p50=20 perf_out=""
while [[ $# -gt 0 ]]; do
  bench_option "store smoke duration conns alg poll perf" "$@"
  if [[ $BENCH_SHIFT -gt 0 ]]; then shift "$BENCH_SHIFT"; continue; fi
  case $1 in
    --servers) servers=$2; shift ;;
    --meetings) per_server=$2; shift ;;
    --participants) participants=$2; shift ;;
    --sim-threads) sim_threads=$2; shift ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ $smoke -eq 1 ]]; then
  servers=5 per_server=4 duration=1 poll=1
fi
stores=$(bench_stores "$store")
read -r -a conn_levels <<<"$conns"
total=$((servers * per_server))

bench_init get_meetings
start_nginx
start_sim "$servers" --shared-port 0 --threads "$sim_threads"

summaries=()
for st in $stores; do
  echo "== getMeetings, $st store"
  curl -sf -X POST "$SIM_CONTROL/reset" >/dev/null || die "bbb-sim reset failed"
  start_router "$st" "$poll"
  add_sim_servers
  create_meetings "$bench_work/meetings-$st.txt" "$total" "gm-$st-" 16
  "$BENCH_PYTHON" "$BENCH_PY" sim-meetings --control "$SIM_CONTROL" >"$bench_work/sim-meetings-$st.txt" ||
    die "listing bbb-sim's meetings failed"
  placed=$(wc -l <"$bench_work/sim-meetings-$st.txt")
  [[ $placed -eq $total ]] || die "bbb-sim holds $placed meetings, expected $total"
  per=$(cut -d' ' -f1 "$bench_work/sim-meetings-$st.txt" | sort | uniq -c | awk 'NR == 1 { mn = $1; mx = $1 } { if ($1 < mn) mn = $1; if ($1 > mx) mx = $1 } END { print mn "-" mx }')
  if [[ $participants -gt 0 ]]; then
    bench_run 300 "$BENCH_PYTHON" "$BENCH_PY" sim-participants --control "$SIM_CONTROL" \
      --meetings "$bench_work/sim-meetings-$st.txt" --count "$participants" >"$bench_work/participants.out" ||
      die "adding participants failed"
    parse_kv L "$(grep '^LOAD ' "$bench_work/participants.out")"
    [[ ${L[failed]} -eq 0 ]] || die "adding participants: ${L[failed]} failed (${L[first_error]:-})"
  fi
  echo "bbb-sim: $placed meetings ($per per server), $participants participants each"
  sleep $((poll + 1))  # a poll round sees the participants
  urls=$bench_work/get-meetings-$st.urls
  "$BENCH_PYTHON" "$BENCH_PY" gen-get-meetings --secret "$SB_SECRET" --alg "$alg" --out "$urls"
  read -r listed bytes < <("$BENCH_PYTHON" "$BENCH_PY" count-meetings --url "$SB_URL$(head -1 "$urls")") ||
    die "getMeetings through the router failed"
  [[ $listed -eq $total ]] || die "getMeetings lists $listed meetings, expected $total"
  echo "getMeetings answer: $listed meetings, $bytes bytes"

  first=1
  for c in "${conn_levels[@]}"; do
    t=$((c < 2 ? 1 : 2))
    run_wrk "nginx c$c" "$NGINX_URL" "$urls" 302 "$t" "$c" "$duration" 0 "${NGINX_PIDS[@]}"
    nginx_rps=${W[rps]} nginx_p50=${W[p50_ms]}
    s0=$(cpu_ticks "$SIM_PID")
    [[ -n $perf_out && $first -eq 1 ]] && perf_router "$perf_out.$st" "$duration"
    BENCH_COUNT_REDIS=$([[ $st == shared ]] && echo 1 || echo 0) \
      run_wrk "router[$st] c$c" "$SB_URL" "$urls" success "$t" "$c" "$duration" 0 "$SB_PID"
    s1=$(cpu_ticks "$SIM_PID")
    sim_cpu=$(awk -v t=$((s1 - s0)) -v hz="$CLK_TCK" -v n="${W[requests]}" \
      'BEGIN { if (n > 0) printf "%.0f", t / hz * 1e6 / n; else print "-" }')
    r=$(ratio "${W[rps]}" "$nginx_rps")
    if [[ $first -eq 1 ]]; then
      label="getMeetings[$st]"
      target="p50<=${target_p50}ms,errors=0"
      v=$(verdict "$smoke" "le ${W[p50_ms]} $target_p50" "[[ ${W[errors]} -eq 0 ]]")
    else
      label="getMeetings[$st,c$c]"
      target="none(figures only)"
      v=$([[ $smoke -eq 1 ]] && echo SMOKE || echo INFO)
    fi
    line="$label: p50_ms=${W[p50_ms]} p99_ms=${W[p99_ms]} rps=${W[rps]} nginx_rps=$nginx_rps ratio=$r% nginx_p50_ms=$nginx_p50 errors=${W[errors]} router_cpu_us_per_req=${W[cpu_us_per_req]} sim_cpu_us_per_req=$sim_cpu meetings=$listed bytes=$bytes conns=$c target=$target $v"
    echo "$line"
    summaries+=("$line")
    first=0
  done
  stop_router
  [[ $st == shared ]] && stop_bench_stores
done

echo "== summary"
printf '%s\n' "${summaries[@]}"
bench_ok=1
