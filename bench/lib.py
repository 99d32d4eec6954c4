#!/usr/bin/env python3
"""Helpers of the HTTP benchmarks (bench/*.sh, through bench/lib.sh); standard library only.

  free-port                         a free TCP port on 127.0.0.1
  gen-join                          pre-signed join paths of a list of meetings
  gen-create                        pre-signed create paths with unique meetingIDs
  gen-get-meetings                  one pre-signed getMeetings path
  load                              sends paths over keep-alive connections (asyncio), checks the
                                    answers, prints a LOAD line of figures
  add-servers                       registers bbb-sim servers, enabled, through the admin API
  wait-online                       waits until the router reports N servers online
  sim-meetings                      "index meetingID" of every meeting bbb-sim holds
  sim-participants                  adds participants to meetings through bbb-sim's control API
  count-meetings                    <meeting> elements of one API answer

Paths are written one per line, relative to a host ("/bigbluebutton/api/join?...&checksum=...").
BBB checksum: hex(H(callName + query + secret)), H chosen by the caller (sha1 by default).
"""
import argparse
import asyncio
import hashlib
import json
import signal
import socket
import sys
import time
import urllib.parse
import urllib.request

API = "/bigbluebutton/api/"


def sign(call, query, secret, alg):
    h = hashlib.new(alg)
    h.update((call + query + secret).encode())
    return h.hexdigest()


def signed_path(base, call, params, secret, alg):
    query = urllib.parse.urlencode(params)
    checksum = sign(call, query, secret, alg)
    sep = "&" if query else ""
    return f"{base}{call}?{query}{sep}checksum={checksum}"


def read_servers(path):
    """Lines "url secret" (bbb-sim's servers) -> [(url, secret)]."""
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                out.append((parts[0], parts[1]))
    return out


# ---- URL generators ------------------------------------------------------------------------


def cmd_free_port(_args):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def cmd_gen_join(args):
    with open(args.meetings) as f:
        meetings = [line.split()[-1] for line in f if line.strip()]
    if not meetings:
        sys.exit("gen-join: no meetings in " + args.meetings)
    n = 0
    with open(args.out, "w") as out:
        # Round-robin over the meetings so that consecutive requests hit different meetings.
        for k in range(args.per_meeting):
            for mid in meetings:
                params = [("fullName", f"User {k}"), ("meetingID", mid), ("password", "ap")]
                out.write(signed_path(args.base, "join", params, args.secret, args.alg) + "\n")
                n += 1
    print(n)


def cmd_gen_create(args):
    if args.servers:
        targets = [(urllib.parse.urlsplit(u).path.rstrip("/") + "/", s)
                   for u, s in read_servers(args.servers)]
    else:
        targets = [(args.base, args.secret)]
    ids = None
    if args.meetings:
        with open(args.meetings) as f:
            ids = [line.split()[-1] for line in f if line.strip()]
    count = len(ids) if ids is not None else args.count
    with open(args.out, "w") as out:
        for i in range(count):
            base, secret = targets[i % len(targets)]
            mid = ids[i] if ids is not None else f"{args.prefix}{i}"
            params = [("name", f"Bench {mid}"), ("meetingID", mid), ("moderatorPW", "mp"),
                      ("attendeePW", "ap"), ("record", "false")]
            out.write(signed_path(base, "create", params, secret, args.alg) + "\n")
    print(count)


def cmd_gen_get_meetings(args):
    with open(args.out, "w") as out:
        out.write(signed_path(API, "getMeetings", [], args.secret, args.alg) + "\n")


# ---- asyncio HTTP/1.1 load client ------------------------------------------------------------


class Conn:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def ensure(self):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method, path, body=b"", content_type="application/json"):
        await self.ensure()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if body:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        line = await self.reader.readline()
        if not line:
            raise ConnectionError("connection closed before the answer")
        status = int(line.split()[1])
        length, close, chunked = None, False, False
        while True:
            h = await self.reader.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            k, v = k.strip().lower(), v.strip().lower()
            if k == "content-length":
                length = int(v)
            elif k == "connection" and v == "close":
                close = True
            elif k == "transfer-encoding" and "chunked" in v:
                chunked = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            data = b"".join(parts)
        elif length is not None:
            data = await self.reader.readexactly(length)
        else:
            data = await self.reader.read()
            close = True
        if close:
            self.close()
        return status, data


def answer_ok(expect, status, body):
    if expect == "302":
        return status == 302
    if expect == "success":
        return status == 200 and b"<returncode>SUCCESS</returncode>" in body
    if expect == "2xx":
        return 200 <= status < 300
    return True


def pct(sorted_values, p):
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values))) - 1))
    return sorted_values[i]


async def run_load(args, items):
    u = urllib.parse.urlsplit(args.url)
    host, port = u.hostname, u.port or 80
    stats = {"sent": 0, "ok": 0, "failed": 0, "errors": 0, "first_error": "", "lat": []}
    state = {"next": 0, "stop": False}
    deadline = time.monotonic() + args.duration if args.duration > 0 else None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: state.__setitem__("stop", True))

    def take():
        if state["stop"] or (deadline is not None and time.monotonic() >= deadline):
            return None
        i = state["next"]
        if i >= len(items):
            if not args.loop:
                return None
            i = 0
        state["next"] = i + 1
        return items[i]

    async def worker():
        conn = Conn(host, port)
        try:
            while True:
                item = take()
                if item is None:
                    return
                method, path, body = item
                stats["sent"] += 1
                t0 = time.monotonic()
                try:
                    status, data = await asyncio.wait_for(conn.request(method, path, body),
                                                          args.timeout)
                except (OSError, asyncio.TimeoutError, ConnectionError, ValueError,
                        asyncio.IncompleteReadError) as e:
                    conn.close()
                    stats["errors"] += 1
                    stats["failed"] += 1
                    if not stats["first_error"]:
                        stats["first_error"] = f"{type(e).__name__}: {e}"[:200]
                    await asyncio.sleep(0.05)
                    continue
                stats["lat"].append(time.monotonic() - t0)
                if answer_ok(args.expect, status, data):
                    stats["ok"] += 1
                else:
                    stats["failed"] += 1
                    if not stats["first_error"]:
                        stats["first_error"] = f"HTTP {status}: " + data[:200].decode(
                            "utf-8", "replace").replace("\n", " ")
                    if args.error_pause > 0:
                        await asyncio.sleep(args.error_pause)  # as a user would, before retrying
        finally:
            conn.close()

    started = time.monotonic()
    tasks = [asyncio.create_task(worker()) for _ in range(args.conns)]
    # Bounded: never wait longer than the duration (or the list) plus one timeout.
    while not all(t.done() for t in tasks):
        await asyncio.sleep(0.05)
        if state["stop"]:
            await asyncio.sleep(0)
            grace = time.monotonic() + 0.5
            while not all(t.done() for t in tasks) and time.monotonic() < grace:
                await asyncio.sleep(0.05)
            break
    in_flight = 0
    for t in tasks:
        if not t.done():
            t.cancel()
            in_flight += 1
    await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.monotonic() - started
    lat = sorted(stats["lat"])
    done = len(lat)
    fields = {
        "sent": stats["sent"], "answered": done, "ok": stats["ok"], "failed": stats["failed"],
        "conn_errors": stats["errors"], "in_flight_at_stop": in_flight,
        "seconds": f"{elapsed:.2f}", "rate": f"{done / elapsed if elapsed > 0 else 0:.1f}",
        "p50_ms": f"{pct(lat, 50) * 1000:.2f}", "p99_ms": f"{pct(lat, 99) * 1000:.2f}",
        "max_ms": f"{(lat[-1] if lat else 0) * 1000:.2f}",
    }
    line = "LOAD " + " ".join(f"{k}={v}" for k, v in fields.items())
    if stats["first_error"]:
        line += " first_error=" + json.dumps(stats["first_error"])
    print(line, flush=True)


def cmd_load(args):
    items = []
    with open(args.file) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("POST "):
                _, path, body = line.split(" ", 2)
                items.append(("POST", path, body.encode()))
            else:
                items.append(("GET", line, b""))
    if not items:
        sys.exit("load: no requests in " + args.file)
    asyncio.run(run_load(args, items))


# ---- admin API and bbb-sim control API -------------------------------------------------------


def http_json(method, url, token=None, body=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"{}")


def cmd_add_servers(args):
    base = args.url.rstrip("/") + "/switchboard/api/v1"
    for url, secret in read_servers(args.servers):
        s = http_json("POST", base + "/servers", args.token,
                      {"url": url, "secret": secret, "state": "enabled"})
        print(s["id"], url)


def cmd_wait_online(args):
    base = args.url.rstrip("/") + "/switchboard/api/v1"
    deadline = time.monotonic() + args.timeout
    online = 0
    while time.monotonic() < deadline:
        try:
            st = http_json("GET", base + "/status", args.token)
            online = sum(1 for s in st["servers"] if s.get("online") is True)
            if online >= args.count:
                print(online)
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"wait-online: only {online} of {args.count} servers online after {args.timeout}s")


def cmd_sim_meetings(args):
    base = args.control.rstrip("/")
    servers = http_json("GET", base + "/servers")["servers"]
    for s in servers:
        detail = http_json("GET", f"{base}/servers/{s['index']}", timeout=60)
        for m in detail.get("meetings_detail", []):
            print(s["index"], m["meeting_id"])


def cmd_sim_participants(args):
    lines = []
    with open(args.meetings) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                body = json.dumps({"meeting_id": parts[1], "count": args.count})
                lines.append(f"POST /servers/{parts[0]}/participants {body}")
    tmp = args.meetings + ".participants"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    ns = argparse.Namespace(url=args.control, file=tmp, conns=8, expect="2xx", duration=0,
                            loop=False, timeout=30)
    cmd_load(ns)


def cmd_latency(args):
    """Sequential signed calls (one client, keep-alive): p50/p90/max in ms, and a check of the
    first answer. Queries are `&`-joined parameters, signed as given."""
    import http.client
    parsed = urllib.parse.urlparse(args.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    times = []
    first = None
    for i in range(args.count):
        query = args.query.replace("{i}", str(i % args.spread))
        checksum = sign(args.call, query, args.secret, "sha1")
        path = f"{API}{args.call}?{query}&checksum={checksum}"
        t0 = time.perf_counter()
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        times.append((time.perf_counter() - t0) * 1000)
        if first is None:
            first = body
    if b"<returncode>SUCCESS</returncode>" not in first:
        sys.exit("latency: not a SUCCESS answer: " + first[:300].decode("utf-8", "replace"))
    times.sort()
    print(f"p50_ms={pct(times, 50):.2f} p90_ms={pct(times, 90):.2f} max_ms={times[-1]:.2f} "
          f"recordings_in_first={first.count(b'<recording>')}")


def cmd_count_meetings(args):
    with urllib.request.urlopen(args.url, timeout=args.timeout) as r:
        body = r.read()
    if b"<returncode>SUCCESS</returncode>" not in body:
        sys.exit("count-meetings: not a SUCCESS answer: " + body[:300].decode("utf-8", "replace"))
    print(body.count(b"<meeting>"), len(body))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("free-port").set_defaults(fn=cmd_free_port)

    s = sub.add_parser("gen-join")
    s.add_argument("--secret", required=True)
    s.add_argument("--alg", default="sha1")
    s.add_argument("--meetings", required=True, help="file: a meetingID at the end of each line")
    s.add_argument("--per-meeting", type=int, default=10)
    s.add_argument("--base", default=API, help="the API's path (a tenant's: /t/<name>" + API + ")")
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_gen_join)

    s = sub.add_parser("gen-create")
    s.add_argument("--secret", help="sign for the router (path /bigbluebutton/api/)")
    s.add_argument("--servers", help="file of 'url secret' lines: sign for these servers, "
                                     "round-robin (bbb-sim directly)")
    s.add_argument("--alg", default="sha1")
    s.add_argument("--prefix", default="bench-")
    s.add_argument("--count", type=int, default=1000)
    s.add_argument("--meetings", help="file: create these meetingIDs (last word of each line)")
    s.add_argument("--base", default=API, help="the API's path (a tenant's: /t/<name>" + API + ")")
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_gen_create)

    s = sub.add_parser("gen-get-meetings")
    s.add_argument("--secret", required=True)
    s.add_argument("--alg", default="sha1")
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_gen_get_meetings)

    s = sub.add_parser("load")
    s.add_argument("--url", required=True, help="http://127.0.0.1:PORT")
    s.add_argument("--file", required=True, help="paths, or 'POST path body' lines")
    s.add_argument("--conns", type=int, default=16)
    s.add_argument("--expect", default="success", choices=["success", "302", "2xx", "any"])
    s.add_argument("--duration", type=float, default=0, help="stop after this many seconds")
    s.add_argument("--loop", action="store_true", help="cycle over the file until stopped")
    s.add_argument("--timeout", type=float, default=30, help="seconds per request")
    s.add_argument("--error-pause", type=float, default=0,
                   help="seconds a connection waits after an unexpected answer")
    s.set_defaults(fn=cmd_load)

    s = sub.add_parser("add-servers")
    s.add_argument("--url", required=True)
    s.add_argument("--token", required=True)
    s.add_argument("--servers", required=True)
    s.set_defaults(fn=cmd_add_servers)

    s = sub.add_parser("wait-online")
    s.add_argument("--url", required=True)
    s.add_argument("--token", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--timeout", type=float, default=60)
    s.set_defaults(fn=cmd_wait_online)

    s = sub.add_parser("sim-meetings")
    s.add_argument("--control", required=True)
    s.set_defaults(fn=cmd_sim_meetings)

    s = sub.add_parser("sim-participants")
    s.add_argument("--control", required=True)
    s.add_argument("--meetings", required=True, help="file of 'index meetingID' lines")
    s.add_argument("--count", type=int, default=3)
    s.set_defaults(fn=cmd_sim_participants)

    s = sub.add_parser("latency")
    s.add_argument("url")
    s.add_argument("call")
    s.add_argument("query")
    s.add_argument("secret")
    s.add_argument("--count", type=int, default=200)
    s.add_argument("--spread", type=int, default=1000)
    s.set_defaults(fn=cmd_latency)

    s = sub.add_parser("count-meetings")
    s.add_argument("--url", required=True)
    s.add_argument("--timeout", type=float, default=60)
    s.set_defaults(fn=cmd_count_meetings)

    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
