#!/usr/bin/env bash
# End-to-end test with a third-party BBB client library (see README.md in this folder).
#   tests/e2e/run.sh <bin-dir>      <bin-dir> holds the built `switchboard` and `bbb-sim`
# Starts bbb-sim (3 servers) and `switchboard serve` on loopback, registers the servers with the
# CLI, then runs drive.js twice (SHA-1, SHA-256). Always stops both processes. Exits non-zero on
# any failure; the last line is "e2e: N passed, M failed".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [[ $# -ne 1 ]]; then
  echo "usage: $0 <bin-dir>   (the directory with the built switchboard and bbb-sim)" >&2
  exit 2
fi
bin_dir=$(cd "$1" && pwd)
switchboard=$bin_dir/switchboard
bbb_sim=$bin_dir/bbb-sim
for exe in "$switchboard" "$bbb_sim"; do
  [[ -x $exe ]] || { echo "e2e: $exe is missing or not executable; build it first" >&2; exit 2; }
done
command -v node >/dev/null || { echo "e2e: node is not installed" >&2; exit 2; }
command -v npm >/dev/null || { echo "e2e: npm is not installed" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-e2e.XXXXXX")
sim_pid=""
sb_pid=""
drive_pid=""
tail_pid=""
out=""
passed=0
failed=0
finished=0

ok() {
  passed=$((passed + 1))
  echo "ok   [setup] $*"
}

# Stops one process we started: SIGTERM, up to 5 s, then SIGKILL.
stop() {
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

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n $drive_pid ]]; then
    stop "$drive_pid"
    passed=$((passed + $(grep -c '^ok ' "$out" || true)))
  fi
  stop "$tail_pid"
  stop "$sb_pid"
  stop "$sim_pid"
  if [[ $finished -ne 1 ]]; then
    [[ $failed -gt 0 ]] || failed=1
    for log in switchboard.log sim.log; do
      if [[ -s $work/$log ]]; then
        echo "---- last lines of $log (all logs kept in $work)"
        tail -n 30 "$work/$log"
      fi
    done
    echo "e2e: $passed passed, $failed failed"
    [[ $status -ne 0 ]] || status=1
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'echo "e2e: interrupted"; exit 130' INT TERM

die() {
  echo "FAIL [setup] $*"
  failed=1
  exit 1
}

# ---- the client library, exactly as locked
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1) ||
  { cat "$work/npm.log"; die "npm ci failed in tests/e2e"; }
version=$(cd "$here" && node -p 'require("bigbluebutton-js/package.json").version')
ok "npm ci: bigbluebutton-js $version installed from package-lock.json"

# ---- bbb-sim with three servers on ephemeral loopback ports
"$bbb_sim" --servers 3 >"$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!
for _ in $(seq 100); do
  grep -qx ready "$work/sim.out" 2>/dev/null && break
  kill -0 "$sim_pid" 2>/dev/null || die "bbb-sim exited early: $(cat "$work/sim.log")"
  sleep 0.1
done
grep -qx ready "$work/sim.out" || die "bbb-sim did not print 'ready' within 10 s"
sim_control=$(awk '$1 == "control" { print $2 }' "$work/sim.out")
mapfile -t sim_servers < <(awk '$1 == "server" { print $3 " " $4 }' "$work/sim.out")
[[ ${#sim_servers[@]} -eq 3 && -n $sim_control ]] ||
  die "unexpected bbb-sim output: $(cat "$work/sim.out")"
ok "bbb-sim: 3 servers, control $sim_control"

# ---- switchboard on a free loopback port
port=$(node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })')
random_hex() { node -p "require('crypto').randomBytes($1).toString('hex')"; }
admin_token=e2e-admin-$(random_hex 16)
lb_secret=e2e-$(random_hex 24)
export SWITCHBOARD_URL="http://127.0.0.1:$port"
export SWITCHBOARD_ADMIN_TOKEN=$admin_token
export LOADBALANCER_SECRET=$lb_secret
# drive.js waits for what the design promises: PLACEMENT_VIEW_TTL after a change before checking
# where a create lands, up to two POLL_INTERVALs for participant counts in getMeetings. The
# router and the driver get the same values (0.25 is the router's default, stated here).
export PLACEMENT_VIEW_TTL=0.25 POLL_INTERVAL=1
# bbb-sim listens on loopback: SERVER_URL_ALLOWED_NETS allows servers there.
POLL_INTERVAL=1 SERVER_URL_ALLOWED_NETS=127.0.0.0/8 RECORDING_DIR="$work/recordings" "$switchboard" serve --bind 127.0.0.1 --port "$port" >"$work/switchboard.log" 2>&1 &
sb_pid=$!
for _ in $(seq 100); do
  "$switchboard" servers list --json >/dev/null 2>&1 && break
  kill -0 "$sb_pid" 2>/dev/null || die "switchboard exited early: $(cat "$work/switchboard.log")"
  sleep 0.1
done
"$switchboard" servers list --json >/dev/null 2>&1 ||
  die "switchboard's admin API did not answer on $SWITCHBOARD_URL within 10 s"
ok "switchboard serve listens on $SWITCHBOARD_URL (POLL_INTERVAL=1, PLACEMENT_VIEW_TTL=$PLACEMENT_VIEW_TTL, log $work/switchboard.log)"

# ---- register and enable the three servers with the CLI
for entry in "${sim_servers[@]}"; do
  url=${entry% *}
  secret=${entry#* }
  id=$("$switchboard" servers add "$url" "$secret" --enable) ||
    die "switchboard servers add $url failed"
  [[ -n $id ]] || die "switchboard servers add $url printed no id"
  ok "servers add $url --enable → id $id"
done

# ---- wait (bounded) until `switchboard status` reports all three online
online=0
for _ in $(seq 100); do
  online=$("$switchboard" status --json 2>/dev/null |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      try { console.log(JSON.parse(s).servers.filter((x) => x.online === true).length) }
      catch (e) { console.log(0) } })') || online=0
  [[ $online -eq 3 ]] && break
  sleep 0.2
done
status_table=$("$switchboard" status 2>&1) || true
echo "$status_table"
[[ $online -eq 3 ]] || die "only $online of 3 servers online after 20 s"
[[ $(grep -v '^Total' <<<"$status_table" | grep -cw online) -eq 3 ]] ||
  die "switchboard status does not show the three servers online"
ok "switchboard status: 3 servers online"

# ---- the client library drives Switchboard, once per checksum algorithm
export SWITCHBOARD_BIN="$switchboard" SIM_CONTROL="$sim_control"
# A recording of meeting $2 with record ID $1, as BBB publishes it, handed over by the BBB
# servers' hook (deploy/bbb-node/switchboard-recording-upload; the admin token may upload).
upload_recording() {
  local id=$1 meeting=$2 dir=$work/bbb/published/presentation/$1 tenant_meta=""
  # A tenant's recording (third argument): its create set meta_tenant-id, its ID is scoped.
  if [[ -n ${3:-} ]]; then
    meeting="$3~$meeting"
    tenant_meta="<tenant-id>$3</tenant-id>"
  fi
  mkdir -p "$dir"
  cat >"$dir/metadata.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<recording><id>$id</id><state>published</state><published>true</published>
<start_time>1700000000000</start_time><end_time>1700000600000</end_time><participants>2</participants>
<meeting id="$id" externalId="$meeting" name="E2E" breakout="false"/>
<meta><meetingId>$meeting</meetingId><meetingName>E2E</meetingName>$tenant_meta</meta>
<playback><format>presentation</format><link>https://bbb1.example.com/playback/presentation/2.3/$id</link>
<processing_time>100</processing_time><duration>600000</duration></playback></recording>
XML
  echo "slides of $id" >"$dir/slides.txt"
  local -a hook_env=(SWITCHBOARD_RECORDING_NO_DEFAULTS=1 PUBLISHED_DIR="$work/bbb/published"
    QUEUE_DIR="$work/bbb/queue" RECORDING_UPLOAD_TOKEN="$admin_token")
  env "${hook_env[@]}" "$here/../../deploy/bbb-node/switchboard-recording-upload" enqueue "$id" 2>/dev/null
  env "${hook_env[@]}" "$here/../../deploy/bbb-node/switchboard-recording-upload" run 2>"$work/hook.log" ||
    die "the recording hook failed: $(cat "$work/hook.log")"
  grep -q "imported by Switchboard" "$work/hook.log" ||
    die "the recording hook did not get it imported: $(cat "$work/hook.log")"
  ok "recording $id of meeting $meeting uploaded by the BBB hook"
}

for alg in sha1 sha256; do
  echo "== bigbluebutton-js $version signing with $alg"
  E2E_RECORD_ID=$(random_hex 20)-1700000000000
  E2E_RECORD_MEETING=e2e-recorded-$alg
  upload_recording "$E2E_RECORD_ID" "$E2E_RECORD_MEETING"
  export E2E_RECORD_ID E2E_RECORD_MEETING
  out=$work/drive-$alg.out
  : >"$out"
  # In the background, so that a signal to this script is handled at once (bash defers traps
  # while a foreground child runs); tail shows the output as it comes.
  (cd "$here" && exec timeout --kill-after=5 120 node drive.js --alg "$alg") >"$out" 2>&1 &
  drive_pid=$!
  tail -n +1 -f --pid="$drive_pid" "$out" &
  tail_pid=$!
  rc=0
  wait "$drive_pid" || rc=$?
  drive_pid=""
  wait "$tail_pid" || true
  tail_pid=""
  passed=$((passed + $(grep -c '^ok ' "$work/drive-$alg.out" || true)))
  if [[ $rc -ne 0 ]]; then
    [[ $rc -eq 124 || $rc -eq 137 ]] && echo "FAIL [$alg] drive.js did not finish within 120 s"
    failed=1
    exit 1
  fi
done

# ---- tenants (issue 20): a multitenant router in place of the first; two frontends with their
# own secrets and addresses (tenants.js)
stop "$sb_pid"
sb_pid=""
acme_secret=e2e-acme-$(random_hex 16)
beta_secret=e2e-beta-$(random_hex 16)
MULTITENANCY_ENABLED=true POLL_INTERVAL=1 SERVER_URL_ALLOWED_NETS=127.0.0.0/8 \
  RECORDING_DIR="$work/recordings-tenants" TENANTS_FILE="$work/tenants.json" \
  "$switchboard" serve --bind 127.0.0.1 --port "$port" >"$work/switchboard-tenants.log" 2>&1 &
sb_pid=$!
for _ in $(seq 100); do
  "$switchboard" servers list --json >/dev/null 2>&1 && break
  kill -0 "$sb_pid" 2>/dev/null || die "the multitenant switchboard exited early: $(cat "$work/switchboard-tenants.log")"
  sleep 0.1
done
for entry in "${sim_servers[@]}"; do
  "$switchboard" servers add "${entry% *}" "${entry#* }" --enable >/dev/null ||
    die "servers add ${entry% *} on the multitenant router failed"
done
"$switchboard" tenants add acme --secret "$acme_secret" --host 127.0.0.1 >/dev/null ||
  die "switchboard tenants add acme failed"
"$switchboard" tenants add beta --secret "$beta_secret" >/dev/null ||
  die "switchboard tenants add beta failed"
ok "a multitenant switchboard with tenants acme (host 127.0.0.1) and beta (path /t/beta/)"
for _ in $(seq 100); do
  [[ $("$switchboard" status --json 2>/dev/null | grep -o '"online":true' | wc -l) -eq 3 ]] && break
  sleep 0.2
done
ACME_RECORD_ID=$(random_hex 20)-1700000000001
BETA_RECORD_ID=$(random_hex 20)-1700000000002
upload_recording "$ACME_RECORD_ID" room-1 acme
upload_recording "$BETA_RECORD_ID" room-1 beta
out=$work/tenants.out
(cd "$here" && ACME_SECRET=$acme_secret BETA_SECRET=$beta_secret ACME_RECORD_ID=$ACME_RECORD_ID \
  BETA_RECORD_ID=$BETA_RECORD_ID exec timeout --kill-after=5 60 node tenants.js) >"$out" 2>&1 || {
  cat "$out"
  passed=$((passed + $(grep -c '^ok ' "$out" || true)))
  failed=1
  exit 1
}
cat "$out"
passed=$((passed + $(grep -c '^ok ' "$out" || true)))

# The secret scan (docs/security.md): the routers' whole logs hold none of the secrets of the run.
for secret in "$lb_secret" "$admin_token" "${sim_servers[@]#* }" "$acme_secret" "$beta_secret"; do
  if grep -qF -- "$secret" "$work/switchboard.log" "$work/switchboard-tenants.log"; then
    echo "FAIL a secret of the run appears in switchboard's log ($work/switchboard*.log)"
    exit 1
  fi
done
passed=$((passed + 1))
ok "switchboard's logs ($(cat "$work/switchboard.log" "$work/switchboard-tenants.log" | wc -l) lines) hold no secret or token of the run"

finished=1
echo "e2e: $passed passed, 0 failed"
