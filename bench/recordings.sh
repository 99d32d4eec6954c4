#!/usr/bin/env bash
# Recordings benchmark (issue 19): importing a large archive and starting up on many recordings.
#  1. Import: an archive of one recording holding a file of --archive-mb MiB (default 2048),
#     uploaded to `switchboard serve` (embedded store) with `switchboard recordings import`; the
#     router's peak resident memory (VmHWM) growth and the import's throughput are printed beside
#     `cp` of the same file on the same disk. Target: RSS growth <= 50 MB.
#  2. Start-up: --recordings N (default 100000) recordings of N/10 meetings written into the
#     recordings folder; the time `switchboard serve` takes to read them back (the embedded
#     store's index) is printed, with its RSS.
#  3. getRecordings on them (embedded store), one client at a time: one meeting's recordings
#     (target p50 <= 5 ms) and a page of 100 with state=any and a meta_ filter (p50 <= 20 ms).
#  4. The same on PostgreSQL (Redis + PostgreSQL started on loopback): the folder read into it by
#     `switchboard recordings reindex` (its time printed), then the same two queries.
#   bench/recordings.sh            full run
#   bench/recordings.sh --smoke    a 64 MiB archive and 2,000 recordings, no threshold (CI)
# Exit 0 whether or not the target is met; non-zero when the benchmark itself broke.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

smoke=0 archive_mb=2048 recordings=100000 target_mb=50
while [[ $# -gt 0 ]]; do
  bench_option "smoke" "$@"
  if [[ $BENCH_SHIFT -gt 0 ]]; then shift "$BENCH_SHIFT"; continue; fi
  case $1 in
    --archive-mb) archive_mb=$2; shift ;;
    --recordings) recordings=$2; shift ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ $smoke -eq 1 ]]; then archive_mb=64 recordings=2000; fi

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

bench_init recordings
rid=0123456789abcdef0123456789abcdef01234567-1700000000000
metadata() {  # metadata ID MEETING: BBB's metadata.xml of a presentation
  cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<recording><id>$1</id><state>published</state><published>true</published>
<start_time>1700000000000</start_time><end_time>1700000600000</end_time><participants>3</participants>
<meeting id="$1" externalId="$2" name="Lecture" breakout="false"/>
<meta><meetingId>$2</meetingId><meetingName>Lecture</meetingName><gl-listed>true</gl-listed></meta>
<playback><format>presentation</format><link>https://bbb1.example.com/playback/presentation/2.3/$1</link>
<processing_time>7177</processing_time><duration>600000</duration><size>2048</size></playback></recording>
XML
}

# ---- 1. import ------------------------------------------------------------------------------
echo "== import: one recording of ${archive_mb} MiB"
src=$bench_work/src
mkdir -p "$src/presentation/$rid"
metadata "$rid" bench-m >"$src/presentation/$rid/metadata.xml"
# Incompressible-looking data is not needed: the archive is a plain tar, copied byte for byte.
head -c $((archive_mb * 1048576)) /dev/zero | tr '\0' 'r' >"$src/presentation/$rid/video.webm"
tar -C "$src" -cf "$bench_work/$rid.tar" presentation
rm -rf "$src"
size=$(stat -c %s "$bench_work/$rid.tar")
sync
t0=$(now)
cp "$bench_work/$rid.tar" "$bench_work/copy.tar"
sync
cp_s=$(secs "$t0" "$(now)")
rm -f "$bench_work/copy.tar"

start_router memory 60
rss0=$(rss_kb "$SB_PID")
t0=$(now)
SWITCHBOARD_URL=$SB_URL SWITCHBOARD_ADMIN_TOKEN=$SB_TOKEN "$SB_BIN" recordings import \
  "$bench_work/$rid.tar" >"$bench_work/import.out" 2>&1 ||
  die "the import failed: $(cat "$bench_work/import.out")"
import_s=$(secs "$t0" "$(now)")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SB_PID/status")
growth=$((hwm - rss0))
mbs() { awk -v b="$size" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? b / 1048576 / s : 0) }'; }
v=$(verdict "$smoke" "le $(mb "$growth") $target_mb")
import_line="recordings[import]: archive_mb=$((size / 1048576)) seconds=$import_s mb_per_s=$(mbs "$import_s") cp_seconds=$cp_s cp_mb_per_s=$(mbs "$cp_s") rss_before_mb=$(mb "$rss0") peak_rss_mb=$(mb "$hwm") rss_growth_mb=$(mb "$growth") target=growth<=${target_mb}MB $v"
echo "$import_line"
stop_router
rm -f "$bench_work/$rid.tar"

# ---- 2. start-up on many recordings ---------------------------------------------------------
echo "== start-up: $recordings recordings on disk"
folder=$bench_work/recordings-startup/published/presentation
mkdir -p "$folder"
"$BENCH_PYTHON" - "$folder" "$recordings" <<'PY'
import os, sys
folder, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    rid = "%040x-%d" % (i, 1700000000000 + i)
    meeting = "m%d" % (i // 10)
    os.makedirs(os.path.join(folder, rid))
    with open(os.path.join(folder, rid, "metadata.xml"), "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<recording><id>%s</id><state>published</state>'
                '<published>true</published><start_time>%d</start_time><end_time>%d</end_time>'
                '<participants>3</participants><meeting id="%s" externalId="%s" name="Lecture" breakout="false"/>'
                '<meta><meetingId>%s</meetingId><meetingName>Lecture</meetingName><gl-listed>true</gl-listed>'
                '<course>c%d</course></meta><playback><format>presentation</format>'
                '<link>https://bbb1.example.com/playback/presentation/2.3/%s</link>'
                '<processing_time>7177</processing_time><duration>600000</duration><size>2048</size>'
                '</playback></recording>\n' % (rid, 1700000000000 + i, 1700000600000 + i, rid, meeting,
                                                meeting, i % 100, rid))
PY
sync
RECORDING_DIR_OVERRIDE=$bench_work/recordings-startup
t0=$(now)
port=$(free_port)
bench_spawn startup env -u REDIS_URL -u DATABASE_URL LOADBALANCER_SECRET="$SB_SECRET" PORT="$port" \
  BIND=127.0.0.1 RECORDING_DIR="$RECORDING_DIR_OVERRIDE" RECORDING_IMPORTER=off "$SB_BIN" serve
pid=$SPAWNED_PID
for _ in $(seq 1200); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || die "switchboard exited: $(tail -5 "$bench_work/startup.log")"
  sleep 0.1
done
ready_s=$(secs "$t0" "$(now)")
read_line=$(grep -o 'recordings: [0-9]* read from .* in [0-9.]* s' "$bench_work/startup.log" || true)
n=$(sed -n 's/recordings: \([0-9]*\) read.*/\1/p' <<<"$read_line")
[[ $n == "$recordings" ]] || die "read $n of $recordings recordings: $(tail -3 "$bench_work/startup.log")"
index_s=$(sed -n 's/.* in \([0-9.]*\) s.*/\1/p' <<<"$read_line")
startup_line="recordings[startup]: recordings=$recordings index_seconds=$index_s ready_seconds=$ready_s rss_mb=$(mb "$(rss_kb "$pid")")"
echo "$startup_line"

# ---- 3. getRecordings over them (embedded store), one client, sequential -----------------------
# query_figures STORE URL: one meeting's recordings and a page of 100 with state=any and a meta_
# filter, one client at a time; prints the figures line with its verdict.
query_figures() {
  local store=$1 url=$2 one page v
  one=$("$BENCH_PYTHON" "$BENCH_PY" latency "$url" getRecordings \
    "meetingID=m{i}" "$SB_SECRET" --count 300 --spread "$((recordings / 10))") ||
    die "getRecordings of one meeting failed: $one"
  page=$("$BENCH_PYTHON" "$BENCH_PY" latency "$url" getRecordings \
    "state=any&meta_course=c{i}&limit=100" "$SB_SECRET" --count 100 --spread 100) ||
    die "getRecordings of a page failed: $page"
  v=$(verdict "$smoke" "le $(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$one") 5" \
    "le $(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$page") 20")
  echo "recordings[getRecordings,$store]: recordings=$recordings one_meeting: $one page_of_100_state_any_meta: $page target=p50<=5ms/20ms $v"
}
query_line=$(query_figures memory "http://127.0.0.1:$port")
echo "$query_line"
bench_forget "$pid"

# ---- 4. getRecordings on PostgreSQL ---------------------------------------------------------------
echo "== getRecordings on PostgreSQL: $recordings recordings read in by recordings reindex"
BENCH_RECORDING_DIR=$RECORDING_DIR_OVERRIDE RECORDING_IMPORTER=off start_router shared 60
t0=$(now)
SWITCHBOARD_URL=$SB_URL SWITCHBOARD_ADMIN_TOKEN=$SB_TOKEN "$SB_BIN" recordings reindex \
  >"$bench_work/reindex.out" 2>&1 || die "recordings reindex failed: $(tail -3 "$bench_work/reindex.out")"
reindex_s=$(secs "$t0" "$(now)")
grep -q "OK: $recordings recordings stored" "$bench_work/reindex.out" ||
  die "reindex stored other than $recordings: $(tail -3 "$bench_work/reindex.out")"
pg_line="$(query_figures postgres "$SB_URL") reindex_seconds=$reindex_s"
echo "$pg_line"
stop_router

echo "== summary"
echo "$import_line"
echo "$startup_line"
echo "$query_line"
echo "$pg_line"
bench_ok=1
