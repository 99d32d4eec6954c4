-- wrk script of the HTTP benchmarks (bench/lib.sh runs it): every request takes the next path
-- of a file of pre-signed paths, every answer is checked, and done() prints one machine-readable
-- line (BENCH key=value ...).
--   wrk ... -s bench/urls.lua URL -- FILE EXPECT THREADS UNIQUE
--     FILE     one path per line ("/bigbluebutton/api/join?...&checksum=...")
--     EXPECT   302      good = HTTP 302
--              success  good = HTTP 200 whose body holds <returncode>SUCCESS</returncode>
--              any      every answer is good
--     THREADS  wrk's -t (each thread needs it to take its share of the file)
--     UNIQUE   1: threads take disjoint slices of the file and send each path once; when a
--              thread's slice runs out it starts it again and counts `wrapped` (the figures of
--              a create run with wrapped > 0 include repeated creates)
--              0: every thread cycles over the whole file from its own offset
-- Each wrk thread has its own Lua state; setup() (main state) keeps the thread objects so that
-- done() can sum their counters.
-- Paced mode: with WRK_PACE_MS=D (> 0) in the environment, each connection waits a random
-- 0.5 D .. 1.5 D ms after an answer before its next request, so C connections offer about
-- C * 1000 / D requests/s whatever the server's speed (below saturation, the latency at that
-- load). The jitter keeps the connections from sending in lockstep bursts. wrk starts a
-- request's latency when it is written, after the wait. delay() must be defined at the top
-- level: wrk looks for it in its main Lua state, before any init().

local pace_ms = tonumber(os.getenv("WRK_PACE_MS") or "0") or 0
if pace_ms > 0 then
  function delay()
    return math.floor(pace_ms * (0.5 + math.random()))
  end
end

local threads = {}
local nsetup = 0

function setup(thread)
  thread:set("tid", nsetup)
  nsetup = nsetup + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nth = args[1], tonumber(args[3] or "1")
  expect = args[2] or "any"
  local unique = args[4] == "1"
  paths = {}
  local i = 0
  for line in io.lines(file) do
    if line ~= "" then
      if (not unique) or (i % nth == tid) then paths[#paths + 1] = line end
      i = i + 1
    end
  end
  if #paths == 0 then error("urls.lua: no paths for thread " .. tid .. " in " .. file) end
  if unique then idx = 0 else idx = (tid * math.floor(#paths / nth)) % #paths end
  math.randomseed(os.time() + tid)
  good, bad, wrapped = 0, 0, 0
  first_bad = ""
end

function request()
  idx = idx + 1
  if idx > #paths then
    idx = 1
    wrapped = wrapped + 1
  end
  return wrk.format("GET", paths[idx])
end

function response(status, headers, body)
  local ok
  if expect == "302" then
    ok = status == 302
  elseif expect == "success" then
    ok = status == 200 and body ~= nil and
        string.find(body, "<returncode>SUCCESS</returncode>", 1, true) ~= nil
  else
    ok = true
  end
  if ok then
    good = good + 1
  else
    bad = bad + 1
    if first_bad == "" then
      local snippet = string.gsub(string.sub(body or "", 1, 160), "[%s]+", " ")
      first_bad = "HTTP " .. status .. " " .. snippet
    end
  end
end

function done(summary, latency, requests)
  local g, b, w, fb = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    g = g + (t:get("good") or 0)
    b = b + (t:get("bad") or 0)
    w = w + (t:get("wrapped") or 0)
    local f = t:get("first_bad") or ""
    if fb == "" then fb = f end
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d p999_us=%d " ..
    "max_us=%d mean_us=%.0f connect_err=%d read_err=%d write_err=%d timeout_err=%d " ..
    "status_err=%d good=%d bad=%d wrapped=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, e.status, g, b, w))
  if fb ~= "" then io.write("BENCH_FIRST_BAD " .. fb .. "\n") end
end
