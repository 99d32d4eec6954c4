# shellcheck shell=bash disable=SC2034  # (variables read by the scripts that source this)
# Shared helpers of the HTTP benchmarks (bench/join.sh, create.sh, get_meetings.sh, memory.sh,
# slow_server.sh). Source it, then call bench_init. Everything runs on 127.0.0.1, in one
# temporary directory, and everything started here is stopped on exit (trap EXIT), in reverse
# order: wrk and loaders, routers, bbb-sim, nginx, Redis and PostgreSQL.
#
# Environment:
#   BUILD_DIR        build directory holding bin/switchboard and bin/bbb-sim (default build)
#   BENCH_BIN_DIR    take the binaries from this directory instead
#   BENCH_KEEP=1     keep the work directory (logs, URL files) after a successful run
#   BENCH_LOG_LEVEL  the router's LOG_LEVEL (default info, the router's own default)
#   HTTP_THREADS, WORKER_THREADS, ... any router variable of README.md's table reaches the router
# The binaries are copied into the work directory first, so a rebuild during the run does not
# swap them.
#
# Conventions: functions die (exit 1, "bench: ...") when the benchmark itself breaks; figures
# come out as key=value lines; a verdict is PASS, FAIL (target missed) or SMOKE (no target).

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_PY="$BENCH_ROOT/bench/lib.py"
BENCH_LUA="$BENCH_ROOT/bench/urls.lua"
BENCH_PYTHON=${BENCH_PYTHON:-/usr/bin/python3}
[[ -x $BENCH_PYTHON ]] || BENCH_PYTHON=python3

bench_work=""
bench_name=""
bench_ok=0
bench_pids=()          # everything started in the background, in start order
bench_stores_started=0
bench_router_n=0
declare -gA W=()       # the last wrk run's figures (run_wrk)
declare -gA L=()       # the last loader run's figures (run_load)

bench_log() { printf '%s\n' "$*" >&2; }
die() {
  printf 'bench: %s\n' "$*" >&2
  exit 1
}

# ---- options shared by the benchmarks --------------------------------------------------------

# bench_option OPTIONS ARG...: handles ARG... ($1 and its value) when $1 is one of the common
# options named in OPTIONS (a list of: store smoke duration conns threads alg poll perf) or
# --help, setting the variable of the same name (store, smoke, duration, conns, threads, alg,
# poll, perf_out). Sets BENCH_SHIFT to the words used, 0 when $1 is not one of them.
bench_option() {
  local allowed=" $1 " name
  shift
  case $1 in
    --store) name=store ;; --smoke) name=smoke ;; --duration) name=duration ;;
    --conns) name=conns ;; --threads) name=threads ;; --alg) name=alg ;;
    --poll-interval) name=poll ;; --perf) name=perf ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) BENCH_SHIFT=0; return 0 ;;
  esac
  if [[ $allowed != *" $name "* ]]; then BENCH_SHIFT=0; return 0; fi
  if [[ $name == smoke ]]; then smoke=1; BENCH_SHIFT=1; return 0; fi
  [[ $# -ge 2 ]] || { echo "option $1 needs a value (see --help)" >&2; exit 2; }
  case $name in perf) perf_out=$2 ;; *) printf -v "$name" '%s' "$2" ;; esac
  BENCH_SHIFT=2
}

# bench_stores STORE: the stores a --store value stands for, in run order.
bench_stores() {
  case $1 in
    both) echo "shared memory" ;;
    memory | shared) echo "$1" ;;
    *) die "--store memory|shared|both" ;;
  esac
}

# ---- set-up and clean-up ---------------------------------------------------------------------

# bench_init NAME: work directory, binaries, trap, open-files limit, a line about the machine.
bench_init() {
  bench_name=$1
  for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install $tool)"
  done
  local bin_dir=${BENCH_BIN_DIR:-}
  if [[ -z $bin_dir ]]; then
    local build=${BUILD_DIR:-build}
    [[ $build == /* ]] || build=$BENCH_ROOT/$build
    bin_dir=$build/bin
    if [[ -f $build/CMakeCache.txt ]] && grep -q '^SWITCHBOARD_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
      bench_log "warning: $build is a sanitizer build; its figures are not comparable"
    fi
  fi
  for exe in switchboard bbb-sim pistache-302 join-path-bench; do
    [[ -x $bin_dir/$exe ]] || die "$bin_dir/$exe is missing: build first (scripts/build.sh)"
  done
  bench_work=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-bench-$bench_name.XXXXXX")
  chmod 755 "$bench_work"
  mkdir -p "$bench_work/bin"
  cp "$bin_dir/switchboard" "$bin_dir/bbb-sim" "$bin_dir/pistache-302" "$bin_dir/join-path-bench" \
    "$bench_work/bin/"
  SB_BIN=$bench_work/bin/switchboard
  SIM_BIN=$bench_work/bin/bbb-sim
  PISTACHE_BIN=$bench_work/bin/pistache-302
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  SB_SECRET=bench-secret-$RANDOM$RANDOM$RANDOM
  SB_TOKEN=bench-token-$RANDOM$RANDOM$RANDOM
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg), open files $(ulimit -n)"
  echo "binaries: $bin_dir (copied to $bench_work/bin), $(date -u '+%Y-%m-%d %H:%M UTC')"
}

# bench_stop PID: SIGTERM, up to 5 s, then SIGKILL.
bench_stop() {
  local pid=$1
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local i
  for ((i = ${#bench_pids[@]} - 1; i >= 0; i--)); do bench_stop "${bench_pids[i]}"; done
  if [[ $bench_stores_started -eq 1 ]]; then stop_stores; fi
  if [[ -n $bench_work && -d $bench_work ]]; then
    if [[ $status -ne 0 || $bench_ok -ne 1 || ${BENCH_KEEP:-0} == 1 ]]; then
      bench_log "bench: logs kept in $bench_work"
      local log
      if [[ $status -ne 0 ]]; then
        for log in "$bench_work"/*.log; do
          [[ -s $log ]] || continue
          bench_log "---- last lines of $log"
          tail -n 15 "$log" >&2
        done
      fi
      rm -rf "${bench_work:?}/bin"
    else
      rm -rf "$bench_work"
    fi
  fi
  exit "$status"
}

# bench_spawn NAME CMD...: runs CMD in the background (stdout and stderr to NAME.log); sets
# SPAWNED_PID and records it for the clean-up.
bench_spawn() {
  local name=$1
  shift
  "$@" >"$bench_work/$name.log" 2>&1 &
  SPAWNED_PID=$!
  bench_pids+=("$SPAWNED_PID")
}

# bench_forget PID: stop a process now and drop it from the clean-up list.
bench_forget() {
  local pid=$1 i
  bench_stop "$pid"
  for i in "${!bench_pids[@]}"; do
    [[ ${bench_pids[i]} == "$pid" ]] && unset 'bench_pids[i]'
  done
  bench_pids=("${bench_pids[@]}")
}

free_port() { "$BENCH_PYTHON" "$BENCH_PY" free-port; }

# Runs a command in the background and waits for it, so that a signal to the script is handled
# at once (bash defers traps while a foreground child runs). Bounded by `timeout`.
bench_run() {
  local limit=$1
  shift
  timeout --kill-after=5 "$limit" "$@" &
  local pid=$!
  bench_pids+=("$pid")
  local rc=0
  wait "$pid" || rc=$?
  local i
  for i in "${!bench_pids[@]}"; do [[ ${bench_pids[i]} == "$pid" ]] && unset 'bench_pids[i]'; done
  bench_pids=("${bench_pids[@]}")
  return "$rc"
}

# ---- CPU and memory of processes -------------------------------------------------------------

# cpu_ticks PID...: utime+stime of the processes (all their threads), in clock ticks.
cpu_ticks() {
  local total=0 pid f
  local -a a
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    f=$(sed 's/.*) //' "/proc/$pid/stat")
    read -r -a a <<<"$f"
    total=$((total + a[11] + a[12]))
  done
  echo "$total"
}
CLK_TCK=$(getconf CLK_TCK)

# ctx_switches PID...: context switches (voluntary and not) of the processes' live threads. A
# thread that blocks (on a lock, a condition, a socket) costs two: out, and back in when woken.
ctx_switches() {
  local pid
  for pid in "$@"; do
    cat /proc/"$pid"/task/*/status 2>/dev/null
  done | awk '/^(non)?voluntary_ctxt_switches:/ { t += $2 } END { print t + 0 }'
}

# wait_idle PID...: waits (up to 60 s) until the processes use less than a quarter of a core, so
# that work left over from one measurement (answers still being computed after wrk stopped) does
# not run into the next. Prints how long it waited when that was more than a second.
wait_idle() {
  [[ $# -gt 0 ]] || return 0
  local start=$SECONDS a b
  for _ in $(seq 120); do
    a=$(cpu_ticks "$@")
    sleep 0.5
    b=$(cpu_ticks "$@")
    (((b - a) * 8 < CLK_TCK)) && break
  done
  if ((SECONDS - start > 1)); then
    echo "    (the server stayed busy $((SECONDS - start)) s after wrk stopped: answers still in flight)"
  fi
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---- nginx: the fixed-302 reference ----------------------------------------------------------

# start_nginx: two workers answering every request with `return 302`, access log off, on a free
# port, from a temporary configuration (never the system's). Sets NGINX_URL, NGINX_PID.
start_nginx() {
  local dir=$bench_work/nginx
  mkdir -p "$dir/tmp"
  local port
  port=$(free_port)
  cat >"$dir/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$port;
    location / { return 302 http://example.invalid/; }
  }
}
CONF
  bench_spawn nginx nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
  NGINX_PID=$SPAWNED_PID
  NGINX_URL=http://127.0.0.1:$port
  for _ in $(seq 50); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$NGINX_URL/" 2>/dev/null) == 302 ]] && break
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(cat "$dir/error.log" "$bench_work/nginx.log")"
    sleep 0.1
  done
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$NGINX_URL/") == 302 ]] || die "nginx does not answer on $NGINX_URL"
  sleep 0.2
  mapfile -t NGINX_PIDS < <(nginx_pids)  # master and workers, for CPU time per request
  echo "nginx: $NGINX_URL (2 workers, return 302, pids ${NGINX_PIDS[*]})"
}

# The nginx master and its workers (for CPU accounting).
nginx_pids() {
  echo "$NGINX_PID"
  ps -o pid= --ppid "$NGINX_PID" 2>/dev/null | tr -d ' '
}

# start_pistache: bare Pistache answering every request with a fixed 302 (bench/pistache_302.cc),
# configured like the router's listener with as many reactor threads (HTTP_THREADS, default 2):
# the floor of the router's HTTP library on this machine. Sets PISTACHE_URL, PISTACHE_PID.
start_pistache() {
  local out=$bench_work/pistache.out
  "$PISTACHE_BIN" --port 0 --threads "${HTTP_THREADS:-2}" >"$out" 2>"$bench_work/pistache.log" &
  PISTACHE_PID=$!
  bench_pids+=("$PISTACHE_PID")
  for _ in $(seq 50); do
    grep -q '^ready ' "$out" 2>/dev/null && break
    kill -0 "$PISTACHE_PID" 2>/dev/null || die "pistache-302 exited early: $(cat "$bench_work/pistache.log")"
    sleep 0.1
  done
  grep -q '^ready ' "$out" || die "pistache-302 did not print 'ready' within 5 s"
  PISTACHE_URL=http://127.0.0.1:$(awk '$1 == "ready" { print $2 }' "$out")
  echo "pistache-302: $PISTACHE_URL (bare Pistache, ${HTTP_THREADS:-2} reactor threads, fixed 302, pid $PISTACHE_PID)"
}


# ---- bbb-sim ----------------------------------------------------------------------------------

# start_sim N [ARGS...]: N simulated BBB servers (more ARGS go to bbb-sim, e.g.
# --shared-port 0 --threads 2). Sets SIM_PID, SIM_CONTROL, SIM_SERVERS_FILE ("url secret"
# lines, server index = line number), SIM_COUNT.
start_sim() {
  local n=$1
  shift
  local out=$bench_work/sim.out
  "$SIM_BIN" --servers "$n" "$@" >"$out" 2>"$bench_work/sim.log" &
  SIM_PID=$!
  bench_pids+=("$SIM_PID")
  for _ in $(seq 100); do
    grep -qx ready "$out" 2>/dev/null && break
    kill -0 "$SIM_PID" 2>/dev/null || die "bbb-sim exited early: $(cat "$bench_work/sim.log")"
    sleep 0.1
  done
  grep -qx ready "$out" || die "bbb-sim did not print 'ready' within 10 s"
  SIM_CONTROL=$(awk '$1 == "control" { print $2 }' "$out")
  SIM_SERVERS_FILE=$bench_work/sim-servers.txt
  awk '$1 == "server" { print $3, $4 }' "$out" >"$SIM_SERVERS_FILE"
  SIM_COUNT=$(wc -l <"$SIM_SERVERS_FILE")
  [[ $SIM_COUNT -eq $n && -n $SIM_CONTROL ]] || die "unexpected bbb-sim output: $(head -5 "$out")"
  echo "bbb-sim: $n servers (pid $SIM_PID, bbb-sim $*), control $SIM_CONTROL"
}

# sim_fault INDEX JSON: sets a fault of one simulated server.
sim_fault() {
  curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$SIM_CONTROL/servers/$1/fault" >/dev/null ||
    die "bbb-sim control: fault $2 on server $1 failed"
}

# ---- Redis and PostgreSQL --------------------------------------------------------------------

# start_bench_stores: Redis and PostgreSQL on private free ports in a temporary directory, with
# scripts/lib/stores.sh (the test command's helper); exports REDIS_URL and DATABASE_URL.
start_bench_stores() {
  [[ $bench_stores_started -eq 1 ]] && return 0
  command -v redis-server >/dev/null || die "redis-server is not installed (scripts/install-deps.sh --test)"
  TEST_REDIS_PORT=$(free_port)
  TEST_PG_PORT=$(free_port)
  export TEST_REDIS_PORT TEST_PG_PORT
  # shellcheck source=scripts/lib/stores.sh
  source "$BENCH_ROOT/scripts/lib/stores.sh"
  bench_stores_started=1
  start_stores >"$bench_work/stores.log" 2>&1 || die "Redis/PostgreSQL did not start: $(tail -5 "$bench_work/stores.log")"
  trap bench_cleanup EXIT  # start_stores installs its own trap; ours calls stop_stores
  echo "stores: $REDIS_URL $DATABASE_URL"
}

# redis_pids / pg_pids: the Redis server; every PostgreSQL process (postmaster and its children: the
# backends of the router's pooled connections). For CPU accounting; empty without bench stores.
redis_pids() {
  [[ $bench_stores_started -eq 1 && -r $stores_dir/redis.pid ]] && cat "$stores_dir/redis.pid"
  return 0
}
pg_pids() {
  [[ $bench_stores_started -eq 1 && -r $stores_dir/pg/postmaster.pid ]] || return 0
  local pm
  pm=$(head -1 "$stores_dir/pg/postmaster.pid")
  echo "$pm"
  pgrep -P "$pm" || true
}

stop_bench_stores() {
  if [[ $bench_stores_started -eq 1 ]]; then
    stop_stores
    bench_stores_started=0
  fi
}

# ---- the router -------------------------------------------------------------------------------

# start_router STORE [POLL_INTERVAL]: `switchboard serve` (router and poller in one process) on a
# free port with the embedded store (memory) or Redis + PostgreSQL (shared: starts them if
# needed, runs `switchboard migrate` first, a namespace of its own). Sets SB_URL, SB_PID.
# BENCH_ROUTER_ENV (an array of NAME=value) adds to the router's environment.
[[ -v BENCH_ROUTER_ENV ]] || BENCH_ROUTER_ENV=()
start_router() {
  local store=$1 poll=${2:-5}
  bench_router_n=$((bench_router_n + 1))
  local port
  port=$(free_port)
  SB_URL=http://127.0.0.1:$port
  local log=router-$store-$bench_router_n
  local -a envs=(LOADBALANCER_SECRET="$SB_SECRET" PORT="$port" BIND=127.0.0.1
    SWITCHBOARD_ADMIN_TOKEN="$SB_TOKEN" SWITCHBOARD_URL="$SB_URL" POLL_INTERVAL="$poll"
    SERVER_URL_ALLOWED_NETS=127.0.0.0/8
    RECORDING_DIR="${BENCH_RECORDING_DIR:-$bench_work/recordings-$bench_router_n}"
    LOG_LEVEL="${BENCH_LOG_LEVEL:-info}" "${BENCH_ROUTER_ENV[@]}")
  case $store in
    memory)
      bench_spawn "$log" env -u REDIS_URL -u DATABASE_URL "${envs[@]}" "$SB_BIN" serve
      ;;
    shared)
      start_bench_stores
      envs+=(REDIS_URL="$REDIS_URL" DATABASE_URL="$DATABASE_URL" REDIS_NAMESPACE="bench$bench_router_n")
      env "${envs[@]}" "$SB_BIN" migrate >"$bench_work/migrate-$bench_router_n.log" 2>&1 ||
        die "switchboard migrate failed: $(cat "$bench_work/migrate-$bench_router_n.log")"
      bench_spawn "$log" env "${envs[@]}" "$SB_BIN" serve
      ;;
    *) die "unknown store $store (memory or shared)" ;;
  esac
  SB_PID=$SPAWNED_PID
  SB_LOG=$bench_work/$log.log
  for _ in $(seq 100); do
    curl -sf -o /dev/null "$SB_URL/bigbluebutton/api" 2>/dev/null && break
    kill -0 "$SB_PID" 2>/dev/null || die "switchboard exited early: $(tail -5 "$SB_LOG")"
    sleep 0.1
  done
  curl -sf -o /dev/null "$SB_URL/bigbluebutton/api" || die "switchboard does not answer on $SB_URL"
  echo "router: switchboard serve, $store store, $SB_URL (pid $SB_PID, POLL_INTERVAL=$poll, LOG_LEVEL=${BENCH_LOG_LEVEL:-info}, log $SB_LOG)"
}

stop_router() {
  [[ -n ${SB_PID:-} ]] && bench_forget "$SB_PID"
  SB_PID=""
}

# add_sim_servers: registers every bbb-sim server, enabled, and waits (up to 60 s) until the
# router reports them all online (the next poll round: up to POLL_INTERVAL).
add_sim_servers() {
  local timeout=60
  "$BENCH_PYTHON" "$BENCH_PY" add-servers --url "$SB_URL" --token "$SB_TOKEN" \
    --servers "$SIM_SERVERS_FILE" >"$bench_work/servers.txt" || die "adding servers failed"
  local online
  online=$("$BENCH_PYTHON" "$BENCH_PY" wait-online --url "$SB_URL" --token "$SB_TOKEN" \
    --count "$SIM_COUNT" --timeout "$timeout") || die "servers did not come online"
  echo "router: $online servers added and online"
}

# ---- loads ----------------------------------------------------------------------------------

# run_load URL FILE CONNS EXPECT [more lib.py load options]: sends every line of FILE once
# (asyncio, keep-alive) and fills L[...] (sent, ok, failed, rate, p50_ms, p99_ms, ...).
run_load() {
  local url=$1 file=$2 conns=$3 expect=$4
  shift 4
  local out=$bench_work/load.out
  bench_run 900 "$BENCH_PYTHON" "$BENCH_PY" load --url "$url" --file "$file" --conns "$conns" \
    --expect "$expect" "$@" >"$out" || die "load of $file on $url broke: $(tail -3 "$out")"
  parse_kv L "$(grep '^LOAD ' "$out" | tail -1)"
}

# parse_kv ARRAY "key=value key=value ...": fills the associative array (values without spaces).
parse_kv() {
  local -n arr=$1
  arr=()
  local kv
  for kv in $2; do
    if [[ $kv == *=* ]]; then arr[${kv%%=*}]=${kv#*=}; fi
  done
}

# create_meetings FILE_OUT COUNT PREFIX [CONNS]: creates COUNT meetings through the router's BBB
# API (ids PREFIX0..), writes the ids to FILE_OUT; dies unless every create succeeded.
# BENCH_API_BASE and BENCH_API_SECRET: a tenant's API path and secret instead of the router's.
create_meetings() {
  local out=$1 count=$2 prefix=$3 conns=${4:-16}
  local urls=$bench_work/create-$prefix.urls
  "$BENCH_PYTHON" "$BENCH_PY" gen-create --secret "${BENCH_API_SECRET:-$SB_SECRET}" \
    --base "${BENCH_API_BASE:-/bigbluebutton/api/}" --prefix "$prefix" \
    --count "$count" --out "$urls" >/dev/null
  run_load "$SB_URL" "$urls" "$conns" success
  [[ ${L[failed]} -eq 0 && ${L[ok]} -eq $count ]] ||
    die "creating $count meetings: ${L[ok]} ok, ${L[failed]} failed (${L[first_error]:-})"
  seq 0 $((count - 1)) | sed "s/^/$prefix/" >"$out"
  echo "created $count meetings through the router in ${L[seconds]} s (${L[rate]}/s, p50 ${L[p50_ms]} ms, p99 ${L[p99_ms]} ms, $conns connections)"
}

# redis_calls: "total cmd:calls,cmd:calls,..." of the benchmark's Redis (INFO commandstats).
redis_calls() {
  [[ $bench_stores_started -eq 1 ]] || return 0
  redis-cli -p "$TEST_REDIS_PORT" info commandstats 2>/dev/null | tr -d '\r' |
    awk -F'[:,=]' '/^cmdstat_/ { sub("cmdstat_", "", $1); n[$1] = $3; u[$1] = $5; t += $3 }
      END { printf "%d ", t; for (c in n) printf "%s:%d:%d,", c, n[c], u[c]; print "" }'
}

# redis_per_req BEFORE AFTER REQUESTS: Redis commands per request, total and the busiest five
# with the time Redis spent executing each per request (INFO commandstats usec; a script's time
# includes the commands it runs, which are also counted on their own).
redis_per_req() {
  awk -v before="$1" -v after="$2" -v n="$3" 'BEGIN {
    split(before, b, " "); split(after, a, " ");
    split(b[2], bl, ","); for (i in bl) { split(bl[i], kv, ":"); if (kv[1] != "") { old[kv[1]] = kv[2]; oldu[kv[1]] = kv[3] } }
    split(a[2], al, ","); k = 0
    for (i in al) { split(al[i], kv, ":"); if (kv[1] == "" || kv[1] == "info") continue; d = kv[2] - old[kv[1]]; if (d > 0) { k++; name[k] = kv[1]; cnt[k] = d; us[k] = kv[3] - oldu[kv[1]] } }
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (cnt[j] > cnt[i]) { t = cnt[i]; cnt[i] = cnt[j]; cnt[j] = t; t = name[i]; name[i] = name[j]; name[j] = t; t = us[i]; us[i] = us[j]; us[j] = t }
    tot = 0; for (i = 1; i <= k; i++) tot += cnt[i]
    out = sprintf("%.2f", n > 0 ? tot / n : 0); sep = " ("
    for (i = 1; i <= k && i <= 5; i++) { out = out sep sprintf("%s %.2f %.1fus", name[i], cnt[i] / n, us[i] / n); sep = ", " }
    if (k > 0) out = out ")"
    print out }'
}

# run_wrk LABEL URL FILE EXPECT THREADS CONNS SECONDS UNIQUE [PID...]: wrk --latency with
# bench/urls.lua; fills W[...] (rps, p50_ms, p99_ms, errors, cpu_us_per_req, ...) and prints
# one line. PIDs: the server's processes, for its CPU time per request. With WRK_PACE_MS=D in
# the environment, each connection pauses about D ms between an answer and its next request
# (urls.lua's paced mode; pace_ms RATE CONNS computes D).
run_wrk() {
  local label=$1 url=$2 file=$3 expect=$4 threads=$5 conns=$6 secs=$7 unique=$8
  shift 8
  local out=$bench_work/wrk-${label//[^A-Za-z0-9_.-]/_}.out
  local t0 t1 c0 c1 r0="" r1=""
  [[ ${BENCH_COUNT_REDIS:-0} -eq 1 ]] && r0=$(redis_calls)
  t0=$(cpu_ticks "$@")
  c0=$(ctx_switches "$@")
  bench_run $((secs + 60)) wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s --latency \
    -s "$BENCH_LUA" "$url" -- "$file" "$expect" "$threads" "$unique" >"$out" 2>&1 ||
    die "wrk broke ($label): $(tail -5 "$out")"
  t1=$(cpu_ticks "$@")
  c1=$(ctx_switches "$@")
  [[ -n $r0 ]] && r1=$(redis_calls)
  local busy
  busy=$(wait_idle "$@")
  local line
  line=$(grep '^BENCH ' "$out" | tail -1) || die "wrk printed no figures ($label): $(tail -5 "$out")"
  parse_kv W "$line"
  W[first_bad]=$(grep '^BENCH_FIRST_BAD ' "$out" | head -1 | cut -d' ' -f2- | cut -c1-160 || true)
  W[socket_errors]=$((W[connect_err] + W[read_err] + W[write_err] + W[timeout_err]))
  W[errors]=$((W[bad] + W[socket_errors]))
  # No answer at all within the run is a failure even though wrk counts no error for it.
  W[unanswered]=0
  if [[ ${W[requests]} -eq 0 ]]; then
    W[unanswered]=$conns
    W[errors]=$((W[errors] + conns))
  fi
  W[p50_ms]=$(awk -v u="${W[p50_us]}" 'BEGIN { printf "%.2f", u / 1000 }')
  W[p99_ms]=$(awk -v u="${W[p99_us]}" 'BEGIN { printf "%.2f", u / 1000 }')
  W[max_ms]=$(awk -v u="${W[max_us]}" 'BEGIN { printf "%.1f", u / 1000 }')
  W[rps]=$(awk -v r="${W[rps]}" 'BEGIN { printf (r < 100 ? "%.1f" : "%.0f"), r }')
  W[cpu_us_per_req]=-
  W[ctx_per_req]=-
  if [[ $# -gt 0 && ${W[requests]} -gt 0 ]]; then
    W[cpu_us_per_req]=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="${W[requests]}" \
      'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
    W[ctx_per_req]=$(awk -v c=$((c1 - c0)) -v n="${W[requests]}" 'BEGIN { printf "%.2f", c / n }')
  fi
  printf '  %-28s wrk -t%s -c%s -d%ss%s: rps=%s p50_ms=%s p99_ms=%s max_ms=%s requests=%s non_expected=%s socket_errors=%s (connect %s read %s write %s timeout %s) server_cpu_us_per_req=%s ctx_switches_per_req=%s%s\n' \
    "$label" "$threads" "$conns" "$secs" "${WRK_PACE_MS:+ paced ${WRK_PACE_MS} ms}" "${W[rps]}" "${W[p50_ms]}" "${W[p99_ms]}" "${W[max_ms]}" \
    "${W[requests]}" "${W[bad]}" "${W[socket_errors]}" "${W[connect_err]}" "${W[read_err]}" \
    "${W[write_err]}" "${W[timeout_err]}" "${W[cpu_us_per_req]}" "${W[ctx_per_req]}" \
    "$([[ ${W[wrapped]} -gt 0 && $unique == 1 ]] && echo " WRAPPED(${W[wrapped]}): file too short, paths repeated")"
  W[redis_per_req]=-
  if [[ -n $r0 && -n $r1 && ${W[requests]} -gt 0 ]]; then
    W[redis_per_req]=$(redis_per_req "$r0" "$r1" "${W[requests]}")
    echo "    Redis commands per request: ${W[redis_per_req]}"
  fi
  [[ -n $busy ]] && echo "$busy"
  [[ ${W[unanswered]} -gt 0 ]] && echo "    NO ANSWER within ${secs} s: the $conns requests in flight are counted as errors"
  if [[ -n ${W[first_bad]} ]]; then echo "    first unexpected answer: ${W[first_bad]}"; fi
}

# perf_router FILE DURATION: in the background, `perf record` the router (SB_PID) with DWARF call
# graphs (the build has no frame pointers, so -g alone gives none) for the middle of a measured run
# of DURATION seconds that starts now. No-op when FILE is empty.
perf_router() {
  local out=$1 duration=$2
  [[ -n $out ]] || return 0
  (sleep 1 && perf record -q -F 499 --call-graph dwarf,16384 -p "$SB_PID" -o "$out" -- sleep $((duration > 3 ? duration - 2 : 1)) \
    >/dev/null 2>&1) &
}

# pace_ms RATE CONNS: the mean pause per connection (ms) for CONNS paced connections to offer
# about RATE requests/s in all (urls.lua's paced mode; the answers' own latency lowers it a little).
pace_ms() { awk -v r="$1" -v c="$2" 'BEGIN { d = c * 1000 / r; printf "%d", (d < 1 ? 1 : d + 0.5) }'; }

# ratio A B: A/B in percent, one decimal.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", 100 * a / b; else print "0" }'; }
# le A B / ge A B: numeric comparisons for verdicts.
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# verdict SMOKE COND...: SMOKE when smoke=1, else PASS when every COND (a shell command) holds.
verdict() {
  local smoke=$1
  shift
  if [[ $smoke -eq 1 ]]; then
    echo SMOKE
    return
  fi
  local c
  for c in "$@"; do
    eval "$c" || {
      echo FAIL
      return
    }
  done
  echo PASS
}
