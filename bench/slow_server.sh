#!/usr/bin/env bash
# Slow-server isolation benchmark (issue 6, target 6): one bbb-sim server answers every call 5 s
# late while creates to it are in flight (re-creates of meetings placed on it, which the router
# forwards to their server), and wrk measures joins of the meetings on the other servers, against
# nginx's fixed 302 with the same wrk settings. Beside it, one client re-creates meetings of the
# healthy servers in a loop: its latency shows whether the slow creates starve the router's
# worker threads. Creates beyond the router's SERVER_CALL_LIMIT (32) for the slow server are
# refused at once (counted as failed); their client connection waits 1 s before the next.
#   bench/slow_server.sh                 full run, both stores (Redis+PostgreSQL, then embedded)
#   bench/slow_server.sh --smoke         a few seconds, no thresholds (CI)
#   bench/slow_server.sh --store shared  one store only (memory, shared or both)
# Options: --servers K (4, server 1 is the slow one) --meetings M (400, spread by the router)
#   --per-meeting J (10 join URLs per meeting) --delay-ms D (5000) --inflight N (40 creates to
#   the slow server kept in flight) --duration S (10) --conns C (256) --threads T (2)
#   --alg sha1|... (sha1) --poll-interval S (5)
#   --perf FILE: `perf record --call-graph dwarf` the router while the joins are measured (FILE.<store>)
#   --paced R (10000; 0 = skip): the joins measured a second time while the slow creates are
#   still in flight, the connections offering about R joins/s in all (urls.lua's paced mode; the
#   same for nginx's reference): the latency at a given load, below saturation
# Target (full run): join p99 <= 10 ms, zero errors, for each of the two runs (the saturating
# run's p99 is bounded by connections / throughput, see join.sh). Exit 0 whether or not it is
# met; non-zero when the benchmark itself broke. See bench/README.md.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

store=both smoke=0 servers=4 meetings=400 per_meeting=10 delay_ms=5000 inflight=40 duration=10
conns=256 threads=2 alg=sha1 poll=5 target_p99=10 perf_out="" paced=10000
while [[ $# -gt 0 ]]; do
  bench_option "store smoke duration conns threads alg poll perf" "$@"
  if [[ $BENCH_SHIFT -gt 0 ]]; then shift "$BENCH_SHIFT"; continue; fi
  case $1 in
    --servers) servers=$2; shift ;;
    --meetings) meetings=$2; shift ;;
    --per-meeting) per_meeting=$2; shift ;;
    --delay-ms) delay_ms=$2; shift ;;
    --inflight) inflight=$2; shift ;;
    --paced) paced=$2; shift ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ $smoke -eq 1 ]]; then
  servers=3 meetings=30 per_meeting=5 delay_ms=1000 inflight=8 duration=1 poll=1
fi
[[ $servers -ge 2 ]] || die "--servers must be at least 2"
stores=$(bench_stores "$store")

bench_init slow_server
start_nginx
start_sim "$servers"

summaries=()
for st in $stores; do
  echo "== slow server, $st store"
  curl -sf -X POST "$SIM_CONTROL/reset" >/dev/null || die "bbb-sim reset failed"
  start_router "$st" "$poll"
  add_sim_servers
  create_meetings "$bench_work/meetings-$st.txt" "$meetings" "slow-$st-"
  "$BENCH_PYTHON" "$BENCH_PY" sim-meetings --control "$SIM_CONTROL" >"$bench_work/placed-$st.txt" ||
    die "listing bbb-sim's meetings failed"
  awk '$1 == 1' "$bench_work/placed-$st.txt" >"$bench_work/on-slow-$st.txt"
  awk '$1 != 1' "$bench_work/placed-$st.txt" >"$bench_work/on-fast-$st.txt"
  n_slow=$(wc -l <"$bench_work/on-slow-$st.txt")
  n_fast=$(wc -l <"$bench_work/on-fast-$st.txt")
  [[ $n_slow -gt 0 && $n_fast -gt 0 ]] || die "placement left no meeting on server 1 or on the others ($n_slow / $n_fast)"
  echo "meetings: $n_slow on the slow server (1), $n_fast on the $((servers - 1)) others"
  join_urls=$bench_work/join-$st.urls
  "$BENCH_PYTHON" "$BENCH_PY" gen-join --secret "$SB_SECRET" --alg "$alg" \
    --meetings "$bench_work/on-fast-$st.txt" --per-meeting "$per_meeting" --out "$join_urls" >/dev/null
  slow_urls=$bench_work/recreate-slow-$st.urls
  "$BENCH_PYTHON" "$BENCH_PY" gen-create --secret "$SB_SECRET" --alg "$alg" \
    --meetings "$bench_work/on-slow-$st.txt" --out "$slow_urls" >/dev/null
  fast_urls=$bench_work/recreate-fast-$st.urls
  "$BENCH_PYTHON" "$BENCH_PY" gen-create --secret "$SB_SECRET" --alg "$alg" \
    --meetings "$bench_work/on-fast-$st.txt" --out "$fast_urls" >/dev/null

  run_wrk "warm-up router[$st]" "$SB_URL" "$join_urls" 302 "$threads" "$conns" 1 0 "$SB_PID" >/dev/null
  run_wrk "nginx c$conns" "$NGINX_URL" "$join_urls" 302 "$threads" "$conns" "$duration" 0 "${NGINX_PIDS[@]}"
  nginx_rps=${W[rps]} nginx_p99=${W[p99_ms]}
  pace=""
  if [[ $paced -gt 0 ]]; then
    pace=$(pace_ms "$paced" "$conns")
    WRK_PACE_MS=$pace run_wrk "nginx c$conns paced" "$NGINX_URL" "$join_urls" 302 "$threads" "$conns" "$duration" 0 "${NGINX_PIDS[@]}"
    nginx_paced_p99=${W[p99_ms]}
  fi

  sim_fault 1 "{\"delay_ms\": $delay_ms}"
  creates_before=$(curl -sf "$SIM_CONTROL/servers/1" | "$BENCH_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["requests"].get("create", 0))')
  secs=$((duration + 3))
  [[ -n $pace ]] && secs=$((2 * duration + 4))  # the creates stay in flight through both join runs
  bench_spawn "slow-creates-$st" "$BENCH_PYTHON" "$BENCH_PY" load --url "$SB_URL" --file "$slow_urls" \
    --conns "$inflight" --expect success --loop --duration "$secs" --timeout $((delay_ms / 1000 + 20)) \
    --error-pause 1
  slow_pid=$SPAWNED_PID
  bench_spawn "fast-creates-$st" "$BENCH_PYTHON" "$BENCH_PY" load --url "$SB_URL" --file "$fast_urls" \
    --conns 1 --expect success --loop --duration "$secs" --timeout $((delay_ms / 1000 + 20))
  fast_pid=$SPAWNED_PID
  settle=$(awk -v d="$delay_ms" 'BEGIN { s = d / 2000; if (s > 1.5) s = 1.5; printf "%.2f", s }')
  sleep "$settle"  # less than the delay: every create counted below is still unanswered
  in_flight=$(curl -sf "$SIM_CONTROL/servers/1" | "$BENCH_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["requests"].get("create", 0))')
  in_flight=$((in_flight - creates_before))
  echo "slow server: delay ${delay_ms} ms; $inflight client connections keep creates to it going; $in_flight creates reached it in the first $settle s (all still unanswered)"
  perf_router "${perf_out:+$perf_out.$st}" "$duration"
  run_wrk "router[$st] c$conns" "$SB_URL" "$join_urls" 302 "$threads" "$conns" "$duration" 0 "$SB_PID"
  join_p99=${W[p99_ms]} join_p50=${W[p50_ms]} join_rps=${W[rps]} join_errors=${W[errors]}
  paced_line=""
  if [[ -n $pace ]]; then
    WRK_PACE_MS=$pace run_wrk "router[$st] c$conns paced" "$SB_URL" "$join_urls" 302 "$threads" "$conns" "$duration" 0 "$SB_PID"
    v=$(verdict "$smoke" "le ${W[p99_ms]} $target_p99" "[[ ${W[errors]} -eq 0 ]]")
    paced_line="slow_server-paced[$st]: offered_rps=$paced join_rps=${W[rps]} join_p50_ms=${W[p50_ms]} join_p99_ms=${W[p99_ms]} join_max_ms=${W[max_ms]} nginx_p99_ms=$nginx_paced_p99 errors=${W[errors]} conns=$conns pause_ms=$pace target=p99<=${target_p99}ms,errors=0 $v"
  fi
  for pid in "$slow_pid" "$fast_pid"; do
    for _ in $(seq $((delay_ms / 100 + 200))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  parse_kv L "$(grep '^LOAD ' "$bench_work/slow-creates-$st.log" | tail -1)"
  [[ -n ${L[answered]:-} ]] || die "the slow-create loader printed no figures: $(tail -3 "$bench_work/slow-creates-$st.log")"
  slow_done=${L[answered]} slow_failed=${L[failed]} slow_p50=${L[p50_ms]}
  parse_kv L "$(grep '^LOAD ' "$bench_work/fast-creates-$st.log" | tail -1)"
  [[ -n ${L[answered]:-} ]] || die "the healthy-create loader printed no figures: $(tail -3 "$bench_work/fast-creates-$st.log")"
  fast_done=${L[answered]} fast_failed=${L[failed]} fast_p50=${L[p50_ms]} fast_p99=${L[p99_ms]} fast_max=${L[max_ms]}
  bench_forget "$slow_pid"
  bench_forget "$fast_pid"
  sim_fault 1 '{"delay_ms": 0}'
  echo "  creates to the slow server: $slow_done answered (p50 $slow_p50 ms), $slow_failed failed; re-creates on healthy servers meanwhile (1 client): $fast_done answered, p50 $fast_p50 ms, p99 $fast_p99 ms, max $fast_max ms, $fast_failed failed"

  r=$(ratio "$join_rps" "$nginx_rps")
  v=$(verdict "$smoke" "le $join_p99 $target_p99" "[[ $join_errors -eq 0 ]]")
  line="slow_server[$st]: join_p99_ms=$join_p99 join_p50_ms=$join_p50 rps=$join_rps nginx_rps=$nginx_rps ratio=$r% nginx_p99_ms=$nginx_p99 errors=$join_errors slow_creates_answered=$slow_done slow_creates_failed=$slow_failed slow_creates_in_flight=$in_flight healthy_create_p50_ms=$fast_p50 healthy_create_max_ms=$fast_max healthy_creates_failed=$fast_failed conns=$conns target=p99<=${target_p99}ms,errors=0 $v"
  echo "$line"
  summaries+=("$line")
  if [[ -n $paced_line ]]; then
    echo "$paced_line"
    summaries+=("$paced_line")
  fi
  stop_router
  [[ $st == shared ]] && stop_bench_stores
done

echo "== summary"
printf '%s\n' "${summaries[@]}"
bench_ok=1
