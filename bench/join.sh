#!/usr/bin/env bash
# Join benchmark (issue 6, target 1): signed joins of running meetings answered with the 302,
# against nginx answering a fixed 302 with the same wrk settings in the same run.
#   bench/join.sh                   full run, both stores (Redis+PostgreSQL, then embedded)
#   bench/join.sh --smoke           a few seconds, no thresholds (CI)
#   bench/join.sh --store shared    one store only (memory, shared or both)
# Options: --servers K (10) --meetings N (1000) --per-meeting J (10 signed join URLs per meeting)
#   --duration S (10) --conns "256 64" (the first is the one with the target) --threads T (2)
#   --alg sha1|sha256|sha384|sha512 (sha1) --poll-interval S (5)
#   --perf FILE: `perf record --call-graph dwarf` the router during its first measured run (perf.data per store:
#   FILE.<store>); read it with `perf report -i FILE.<store> --no-children`
#   --paced R (10000; 0 = skip): after the saturating runs, nginx, bare Pistache and the router
#   again at the first --conns value, each connection pausing between an answer and its next
#   request so that all of them offer about R joins/s (urls.lua's paced mode): the latency at a
#   given load, below saturation.
# Target (full run, first --conns value): rps >= 40% of nginx's, p99 <= 10 ms, zero errors (any
# answer but a 302, any socket error). The saturating run's p99 is bounded by connections /
# throughput (Little's law: nginx itself misses 10 ms at 256 connections on 2 cores), so the paced
# run's p99 is printed against the same 10 ms, as its own line. Exit 0 whether or not a target is
# met; non-zero when the benchmark itself broke. See bench/README.md.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

store=both smoke=0 servers=10 meetings=1000 per_meeting=10 duration=10 conns="256 64" threads=2
alg=sha1 poll=5 perf_out="" paced=10000
target_ratio=40 target_p99=10
while [[ $# -gt 0 ]]; do
  bench_option "store smoke duration conns threads alg poll perf" "$@"
  if [[ $BENCH_SHIFT -gt 0 ]]; then shift "$BENCH_SHIFT"; continue; fi
  case $1 in
    --servers) servers=$2; shift ;;
    --meetings) meetings=$2; shift ;;
    --per-meeting) per_meeting=$2; shift ;;
    --paced) paced=$2; shift ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ $smoke -eq 1 ]]; then
  servers=2 meetings=20 per_meeting=5 duration=1 conns=256 poll=1
fi
stores=$(bench_stores "$store")
read -r -a conn_levels <<<"$conns"

bench_init join
# Context: the router's own work per join in process, without sockets (bench/join_path_bench.cc).
"$bench_work/bin/join-path-bench" --joins "$([[ $smoke -eq 1 ]] && echo 2000 || echo 500000)" 2>&1 |
  sed 's/^/  /' || die "join-path-bench broke"
start_nginx
start_pistache
start_sim "$servers"
# Context only: nginx with wrk's plainest form (one static URL, no script). The script that cycles
# over the URL file costs wrk itself CPU, so every compared figure below uses it on both sides.
plain_url="$NGINX_URL/bigbluebutton/api/join?fullName=User+1&meetingID=m-1&password=ap&checksum=0123456789abcdef0123456789abcdef01234567"
bench_run $((duration + 60)) wrk -t"$threads" -c"${conn_levels[0]}" -d"${duration}s" --latency "$plain_url" >"$bench_work/wrk-nginx-plain.out" 2>&1 ||
  die "wrk broke on nginx: $(tail -3 "$bench_work/wrk-nginx-plain.out")"
nginx_plain=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$bench_work/wrk-nginx-plain.out")
echo "  nginx c${conn_levels[0]}, one static URL, no wrk script (context): rps=$nginx_plain"

summaries=()
for st in $stores; do
  echo "== join, $st store"
  start_router "$st" "$poll"
  add_sim_servers
  create_meetings "$bench_work/meetings-$st.txt" "$meetings" "join-$st-"
  urls=$bench_work/join-$st.urls
  n=$("$BENCH_PYTHON" "$BENCH_PY" gen-join --secret "$SB_SECRET" --alg "$alg" \
    --meetings "$bench_work/meetings-$st.txt" --per-meeting "$per_meeting" --out "$urls")
  echo "join URLs: $n ($per_meeting per meeting, $alg checksums)"
  # One join by hand: a 302 to a bbb-sim server's join.
  loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$SB_URL$(head -1 "$urls")")
  [[ $loc == "302 http://127.0.0.1:"*"/join?"* ]] || die "a join did not redirect to a BBB server: $loc"

  run_wrk "warm-up router[$st]" "$SB_URL" "$urls" 302 "$threads" "${conn_levels[0]}" 1 0 "$SB_PID" >/dev/null
  first=1
  for c in "${conn_levels[@]}"; do
    run_wrk "nginx c$c" "$NGINX_URL" "$urls" 302 "$threads" "$c" "$duration" 0 "${NGINX_PIDS[@]}"
    nginx_rps=${W[rps]} nginx_p99=${W[p99_ms]} nginx_cpu=${W[cpu_us_per_req]}
    run_wrk "pistache c$c" "$PISTACHE_URL" "$urls" 302 "$threads" "$c" "$duration" 0 "$PISTACHE_PID"
    pistache_rps=${W[rps]} pistache_p99=${W[p99_ms]} pistache_cpu=${W[cpu_us_per_req]}
    [[ -n $perf_out && $first -eq 1 ]] && perf_router "$perf_out.$st" "$duration"
    BENCH_COUNT_REDIS=$([[ $st == shared ]] && echo 1 || echo 0) \
      run_wrk "router[$st] c$c" "$SB_URL" "$urls" 302 "$threads" "$c" "$duration" 0 "$SB_PID"
    r=$(ratio "${W[rps]}" "$nginx_rps")
    label="join[$st]"
    if [[ $first -eq 1 ]]; then
      target="ratio>=${target_ratio}%,p99<=${target_p99}ms,errors=0"
      v=$(verdict "$smoke" "ge $r $target_ratio" "le ${W[p99_ms]} $target_p99" "[[ ${W[errors]} -eq 0 ]]")
    else
      label="join[$st,c$c]"
      target="none(figures only)"
      v=$([[ $smoke -eq 1 ]] && echo SMOKE || echo INFO)
    fi
    line="$label: rps=${W[rps]} nginx_rps=$nginx_rps ratio=$r% p50_ms=${W[p50_ms]} p99_ms=${W[p99_ms]} nginx_p99_ms=$nginx_p99 errors=${W[errors]} cpu_us_per_req=${W[cpu_us_per_req]} nginx_cpu_us_per_req=$nginx_cpu pistache_rps=$pistache_rps of_pistache=$(ratio "${W[rps]}" "$pistache_rps")% pistache_p99_ms=$pistache_p99 pistache_cpu_us_per_req=$pistache_cpu conns=$c target=$target $v"
    echo "$line"
    summaries+=("$line")
    first=0
  done
  if [[ $paced -gt 0 ]]; then
    c=${conn_levels[0]}
    pace=$(pace_ms "$paced" "$c")
    WRK_PACE_MS=$pace run_wrk "nginx c$c paced" "$NGINX_URL" "$urls" 302 "$threads" "$c" "$duration" 0 "${NGINX_PIDS[@]}"
    nginx_p99=${W[p99_ms]}
    WRK_PACE_MS=$pace run_wrk "pistache c$c paced" "$PISTACHE_URL" "$urls" 302 "$threads" "$c" "$duration" 0 "$PISTACHE_PID"
    pistache_p99=${W[p99_ms]}
    WRK_PACE_MS=$pace run_wrk "router[$st] c$c paced" "$SB_URL" "$urls" 302 "$threads" "$c" "$duration" 0 "$SB_PID"
    v=$(verdict "$smoke" "le ${W[p99_ms]} $target_p99" "[[ ${W[errors]} -eq 0 ]]")
    line="join-paced[$st]: offered_rps=$paced rps=${W[rps]} p50_ms=${W[p50_ms]} p99_ms=${W[p99_ms]} max_ms=${W[max_ms]} nginx_p99_ms=$nginx_p99 pistache_p99_ms=$pistache_p99 errors=${W[errors]} cpu_us_per_req=${W[cpu_us_per_req]} conns=$c pause_ms=$pace target=p99<=${target_p99}ms,errors=0 $v"
    echo "$line"
    summaries+=("$line")
  fi
  stop_router
  [[ $st == shared ]] && stop_bench_stores
done

# ---- what tenants cost (issue 20): the same joins by a tenant's path (/t/bench/...), its own
# secret, on a router with MULTITENANCY_ENABLED, against the single-tenant router, embedded store,
# alternating (single, tenant, single, tenant) so that drift of the machine falls on both.
# Target: the tenant router's rps at least 95% of the single-tenant one's.
if [[ " $stores " == *" memory "* ]]; then
  c=${conn_levels[0]}
  tenant_secret=bench-tenant-secret-$RANDOM$RANDOM
  declare -A tenant_rps=([single]=0 [tenant]=0)
  rounds=$([[ $smoke -eq 1 ]] && echo 1 || echo 2)
  for round in $(seq "$rounds"); do
    for mode in single tenant; do
      if [[ $mode == tenant ]]; then
        BENCH_ROUTER_ENV=(MULTITENANCY_ENABLED=true)
        start_router memory "$poll"
        curl -sf -o /dev/null -X POST -H "Authorization: Bearer $SB_TOKEN" \
          -d "{\"name\": \"bench\", \"secrets\": [\"$tenant_secret\"]}" \
          "$SB_URL/switchboard/api/v1/tenants" || die "adding the bench tenant failed"
        base=/t/bench/bigbluebutton/api/ secret=$tenant_secret
      else
        BENCH_ROUTER_ENV=()
        start_router memory "$poll"
        base=/bigbluebutton/api/ secret=$SB_SECRET
      fi
      add_sim_servers
      BENCH_API_BASE=$base BENCH_API_SECRET=$secret \
        create_meetings "$bench_work/meetings-$mode.txt" "$meetings" "tenant-$mode-$round-"
      urls=$bench_work/join-$mode.urls
      "$BENCH_PYTHON" "$BENCH_PY" gen-join --secret "$secret" --alg "$alg" --base "$base" \
        --meetings "$bench_work/meetings-$mode.txt" --per-meeting "$per_meeting" --out "$urls" >/dev/null
      run_wrk "warm-up $mode" "$SB_URL" "$urls" 302 "$threads" "$c" 1 0 "$SB_PID" >/dev/null
      run_wrk "router[memory,$mode] c$c round $round" "$SB_URL" "$urls" 302 "$threads" "$c" \
        "$duration" 0 "$SB_PID"
      [[ ${W[errors]} -eq 0 ]] || die "joins of the $mode router failed: ${W[errors]} errors"
      tenant_rps[$mode]=$(awk -v a="${tenant_rps[$mode]}" -v b="${W[rps]}" 'BEGIN { print a + b }')
      stop_router
    done
  done
  BENCH_ROUTER_ENV=()
  r=$(ratio "${tenant_rps[tenant]}" "${tenant_rps[single]}")
  v=$(verdict "$smoke" "ge $r 95")
  line="join-tenant[memory]: rps=$(awk -v a="${tenant_rps[tenant]}" -v n="$rounds" 'BEGIN { printf "%.0f", a / n }') single_tenant_rps=$(awk -v a="${tenant_rps[single]}" -v n="$rounds" 'BEGIN { printf "%.0f", a / n }') ratio=$r% conns=$c rounds=$rounds target=ratio>=95% $v"
  echo "$line"
  summaries+=("$line")
fi

echo "== summary (nginx without a wrk script, one URL: rps=$nginx_plain)"
printf '%s\n' "${summaries[@]}"
bench_ok=1
