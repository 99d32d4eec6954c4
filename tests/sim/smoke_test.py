#!/usr/bin/env python3
"""End-to-end smoke test of bbb-sim (stdlib only): python3 smoke_test.py path/to/bbb-sim

Starts the simulator in per-port and shared-port mode and checks the BBB API, the faults and the
control API over real sockets. Exits non-zero on the first failure.
"""
import hashlib
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET


class Sim:
    def __init__(self, binary, *args):
        self.proc = subprocess.Popen([binary, *args], stdout=subprocess.PIPE, text=True)
        self.servers = {}
        for line in self.proc.stdout:
            parts = line.split()
            if parts[0] == "server":
                self.servers[int(parts[1])] = (parts[2], parts[3])
            elif parts[0] == "control":
                self.control = parts[1]
            elif parts[0] == "ready":
                break

    def stop(self):
        self.proc.terminate()
        assert self.proc.wait(timeout=10) == 0, "bbb-sim did not exit cleanly"

    def url(self, i, call, query="", alg="sha1", secret=None):
        base, own_secret = self.servers[i]
        checksum = hashlib.new(alg, (call + query + (secret or own_secret)).encode()).hexdigest()
        return f"{base}{call}?{query}{'&' if query else ''}checksum={checksum}"

    def ctl(self, method, path, body=None):
        return request(method, self.control + path, json.dumps(body) if body is not None else None)


def request(method, url, body=None, headers=None, timeout=5):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    target = u.path + ("?" + u.query if u.query else "")
    conn.request(method, target, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


def xml(url, method="GET", body=None, headers=None):
    status, _, data = request(method, url, body, headers)
    check(status == 200, f"HTTP {status} for {url}")
    return ET.fromstring(data)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def expect(root, returncode, key=None):
    check(root.findtext("returncode") == returncode, ET.tostring(root).decode())
    if key is not None:
        check(root.findtext("messageKey") == key, ET.tostring(root).decode())


def per_port(binary):
    sim = Sim(binary, "--servers", "3")
    try:
        version = xml(sim.servers[1][0])
        expect(version, "SUCCESS")
        check(version.findtext("bbbVersion") == "2.7.12-sim", "version")

        q = "name=Test+Meeting&meetingID=abc&attendeePW=ap&moderatorPW=mp&meta_Origin=x%26y"
        expect(xml(sim.url(1, "create", q)), "SUCCESS")
        expect(xml(sim.url(1, "create", "meetingID=abc&name=T", "sha256")), "SUCCESS",
               "duplicateWarning")
        expect(xml(sim.url(1, "create", "meetingID=abc&name=T&moderatorPW=zz", "sha512")),
               "FAILED", "idNotUnique")
        expect(xml(sim.url(1, "create", "meetingID=abc&name=T", secret="wrong")), "FAILED",
               "checksumError")
        expect(xml(sim.url(1, "create", "name=T")), "FAILED", "missingParamMeetingID")
        body = "<modules><module name='presentation'/></modules>"
        expect(xml(sim.url(1, "create", "meetingID=posted&name=P"), "POST", body,
                   {"Content-Type": "application/xml"}), "SUCCESS")
        expect(xml(sim.url(1, "getMeetingInfo", ""), "POST", "meetingID=posted",
                   {"Content-Type": "application/x-www-form-urlencoded"}), "SUCCESS")

        status, headers, _ = request("GET", sim.url(1, "join", "meetingID=abc&fullName=A&password=mp"))
        check(status == 302 and "/html5client/join?sessionToken=" in headers["Location"], "join")
        check("Connection" not in headers, "bogus Connection: Close header")
        joined = xml(sim.url(1, "join", "meetingID=abc&fullName=B&role=VIEWER&redirect=false"))
        expect(joined, "SUCCESS", "successfullyJoined")
        expect(xml(sim.url(1, "join", "meetingID=nope&fullName=B&role=VIEWER")), "FAILED",
               "notFound")
        check(xml(sim.url(1, "isMeetingRunning", "meetingID=abc")).findtext("running") == "true",
              "running")
        info = xml(sim.url(1, "getMeetingInfo", "meetingID=abc"))
        check(info.findtext("participantCount") == "2" and info.findtext("moderatorCount") == "1",
              "counters")
        check(info.find("metadata").findtext("origin") == "x&y", "metadata")
        check(len(xml(sim.url(1, "getMeetings")).find("meetings")) == 2, "getMeetings")
        expect(xml(sim.url(2, "getMeetings")), "SUCCESS", "noMeetings")
        expect(xml(sim.url(1, "end", "meetingID=posted")), "SUCCESS", "sentEndMeetingRequest")
        expect(xml(sim.url(1, "end", "meetingID=posted")), "FAILED", "notFound")
        expect(xml(sim.url(1, "getRecordings")), "FAILED", "unsupportedRequest")

        status, _, data = sim.ctl("GET", "/servers/1")
        detail = json.loads(data)
        check(status == 200 and detail["requests"]["create"] == 6, "request counters")
        check(detail["meetings_detail"][0]["create_params"]["meta_Origin"] == "x&y", "params")

        # Faults: a delayed server answers late while the others answer at once.
        sim.ctl("POST", "/servers/1/fault", {"delay_ms": 1000})
        slow = {}
        t = threading.Thread(target=lambda: slow.update(r=request("GET", sim.url(1, "getMeetings"))))
        start = time.time()
        t.start()
        time.sleep(0.1)
        request("GET", sim.url(2, "getMeetings"))
        check(time.time() - start < 0.5, "other servers must not wait")
        t.join()
        check(time.time() - start >= 1.0 and slow["r"][0] == 200, "delay")
        sim.ctl("POST", "/servers/1/fault", {"delay_ms": 0, "error": "http500"})
        check(request("GET", sim.servers[1][0])[0] == 500, "http500")
        sim.ctl("POST", "/servers/1/fault", {"error": "garbage"})
        garbage = request("GET", sim.servers[1][0])[2]
        try:
            ET.fromstring(garbage)
            check(False, "garbage must not parse")
        except ET.ParseError:
            pass
        sim.ctl("POST", "/servers/1/fault", {"error": "failed"})
        expect(xml(sim.servers[1][0]), "FAILED", "simulatedError")
        sim.ctl("POST", "/servers/1/fault", {"error": "none", "timeout": True})
        try:
            request("GET", sim.servers[1][0], timeout=0.5)
            check(False, "timeout fault answered")
        except socket.timeout:
            pass
        sim.ctl("POST", "/servers/1/fault", {"timeout": False, "down": True})
        try:
            request("GET", sim.servers[1][0])
            check(False, "down server answered")
        except ConnectionRefusedError:
            pass
        status, _, data = sim.ctl("POST", "/servers/1/fault", {"down": False})
        check(status == 200 and not json.loads(data)["fault"]["down"], "up")
        expect(xml(sim.servers[1][0]), "SUCCESS")

        # Control API.
        status, _, _ = sim.ctl("POST", "/servers/3/meetings", {"meeting_id": "pre", "participants": 2})
        check(status == 201, "preload")
        status, _, data = sim.ctl("POST", "/servers/3/participants",
                                  {"meeting_id": "pre", "count": 3, "video": 1, "voice": 2})
        check(status == 200 and json.loads(data)["participants"] == 5, "participants")
        info = xml(sim.url(3, "getMeetingInfo", "meetingID=pre"))
        check(info.findtext("videoCount") == "1" and info.findtext("voiceParticipantCount") == "2",
              "participant flags")
        check(sim.ctl("POST", "/servers/3/participants", {"meeting_id": "x"})[0] == 404, "404")
        check(sim.ctl("POST", "/servers/3/fault", {"nope": 1})[0] == 400, "unknown field")
        check(request("POST", sim.control + "/servers/3/fault", "{bad")[0] == 400, "bad JSON")
        check(sim.ctl("GET", "/servers/99")[0] == 404, "unknown server")

        content_faults(sim)
        crash_and_history(sim)

        check(sim.ctl("POST", "/reset", {})[0] == 200, "reset")
        servers = json.loads(sim.ctl("GET", "/servers")[2])["servers"]
        check(all(s["meetings"] == 0 for s in servers), "reset clears meetings")
        check(all(not s["fault"]["down"] for s in servers), "reset brings crashed servers back")
        check(json.loads(sim.ctl("GET", "/history")[2])["copies"] == [], "reset clears history")
    finally:
        sim.stop()


def history(sim):
    status, _, data = sim.ctl("GET", "/history")
    check(status == 200, f"GET /history: {status}")
    return json.loads(data)["copies"]


def copies_of(sim, meeting_id):
    return [c for c in history(sim) if c["meeting_id"] == meeting_id]


def content_faults(sim):
    """`malformed` and `partial` change getMeetings only."""
    # malformed: the first meeting's <metadata> starts with <x[]>1</x[]>, as bbb-web echoes
    # meta_x[]=1; the document no longer parses, other calls are unaffected.
    status, _, data = sim.ctl("POST", "/servers/1/fault", {"malformed": True})
    check(status == 200 and json.loads(data)["fault"]["malformed"], "malformed on")
    status, _, body = request("GET", sim.url(1, "getMeetings"))
    text = body.decode()
    check(status == 200 and "<metadata>\n<x[]>1</x[]>\n" in text, "malformed metadata element")
    check(text.count("<x[]>") == 1, "only the first meeting is malformed")
    try:
        ET.fromstring(body)
        check(False, "a malformed getMeetings must not parse")
    except ET.ParseError:
        pass
    expect(xml(sim.url(1, "getMeetingInfo", "meetingID=abc")), "SUCCESS")
    expect(xml(sim.url(2, "getMeetings")), "SUCCESS", "noMeetings")  # empty: nothing to corrupt
    sim.ctl("POST", "/servers/1/fault", {"malformed": False})
    check(len(xml(sim.url(1, "getMeetings")).find("meetings")) == 1, "malformed off")

    # partial: every second meeting (meetingID order) is left out of getMeetings only.
    for name in ("p1", "p2", "p3", "p4"):
        expect(xml(sim.url(2, "create", f"meetingID={name}&name={name}")), "SUCCESS")
    sim.ctl("POST", "/servers/2/participants", {"meeting_id": "p2", "count": 1})
    status, _, data = sim.ctl("POST", "/servers/2/fault", {"partial": True})
    check(status == 200 and json.loads(data)["fault"]["partial"], "partial on")
    listed = [m.findtext("meetingID") for m in xml(sim.url(2, "getMeetings")).find("meetings")]
    check(listed == ["p1", "p3"], f"partial getMeetings lists {listed}")
    expect(xml(sim.url(2, "getMeetingInfo", "meetingID=p2")), "SUCCESS")
    check(xml(sim.url(2, "isMeetingRunning", "meetingID=p2")).findtext("running") == "true",
          "partial isMeetingRunning")
    sim.ctl("POST", "/servers/2/fault", {"partial": False})
    check(len(xml(sim.url(2, "getMeetings")).find("meetings")) == 4, "partial off")


def crash_and_history(sim):
    """A crash loses every meeting and downs the server; the history records every copy."""
    before = int(time.time() * 1000)
    copies = copies_of(sim, "p2")
    check(len(copies) == 1 and copies[0]["server"] == 2 and copies[0]["ended_ms"] is None,
          f"running copy {copies}")
    check(copies[0]["created_ms"] <= before, "created_ms")
    ended = copies_of(sim, "posted")  # ended with `end` above
    check(len(ended) == 1 and ended[0]["ended_ms"] >= ended[0]["created_ms"], f"ended {ended}")
    expect(xml(sim.url(2, "create", "meetingID=p2&name=p2")), "SUCCESS", "duplicateWarning")
    check(len(copies_of(sim, "p2")) == 1, "a duplicate create makes no new copy")

    status, _, data = sim.ctl("POST", "/servers/2/crash", {})
    detail = json.loads(data)
    check(status == 200 and detail["meetings_lost"] == 4 and detail["fault"]["down"], "crash")
    try:
        request("GET", sim.servers[2][0])
        check(False, "crashed server answered")
    except ConnectionRefusedError:
        pass
    for name in ("p1", "p2", "p3", "p4"):
        c = copies_of(sim, name)
        check(len(c) == 1 and c[0]["ended_ms"] is not None and c[0]["ended_ms"] >= before,
              f"crash ends copies: {c}")
    status, _, data = sim.ctl("POST", "/servers/2/fault", {"down": False})
    check(status == 200 and json.loads(data)["meetings"] == 0, "back up empty")
    expect(xml(sim.url(2, "getMeetings")), "SUCCESS", "noMeetings")

    # The same meeting on two servers: two copies, told apart by server.
    expect(xml(sim.url(2, "create", "meetingID=abc&name=again")), "SUCCESS")
    c = copies_of(sim, "abc")
    check(sorted(x["server"] for x in c) == [1, 2] and all(x["ended_ms"] is None for x in c),
          f"two copies {c}")
    expect(xml(sim.url(2, "end", "meetingID=abc")), "SUCCESS", "sentEndMeetingRequest")
    c = {x["server"]: x for x in copies_of(sim, "abc")}
    check(c[2]["ended_ms"] is not None and c[1]["ended_ms"] is None, f"one ended {c}")
    check(sim.ctl("POST", "/servers/99/crash", {})[0] == 404, "crash unknown server")
    check(sim.ctl("GET", "/servers/1/crash")[0] == 405, "crash needs POST")
    check(sim.ctl("POST", "/history", {})[0] == 405, "history needs GET")


def shared_port(binary):
    start = time.time()
    sim = Sim(binary, "--servers", "1000", "--shared-port", "0")
    try:
        check(time.time() - start < 5, "1000 servers must start in a few seconds")
        check(sim.servers[1000][0].endswith("/s1000/bigbluebutton/api/"), "shared URL")
        expect(xml(sim.url(1000, "create", "meetingID=m&name=M")), "SUCCESS")
        check(len(xml(sim.url(1000, "getMeetings")).find("meetings")) == 1, "shared getMeetings")
        expect(xml(sim.url(999, "getMeetings")), "SUCCESS", "noMeetings")
        sim.ctl("POST", "/servers/7/fault", {"down": True})
        check(request("GET", sim.servers[7][0])[0] == 503, "shared-port down is 503")
        check(request("GET", sim.servers[8][0])[0] == 200, "others unaffected")
        expect(xml(sim.url(5, "create", "meetingID=m5&name=M")), "SUCCESS")
        status, _, data = sim.ctl("POST", "/servers/5/crash")
        check(status == 200 and json.loads(data)["meetings_lost"] == 1, "shared-port crash")
        check(request("GET", sim.servers[5][0])[0] == 503, "shared-port crashed is 503")
        sim.ctl("POST", "/servers/5/fault", {"down": False})
        expect(xml(sim.url(5, "getMeetings")), "SUCCESS", "noMeetings")
        c = copies_of(sim, "m5")
        check(len(c) == 1 and c[0]["ended_ms"] is not None and c[0]["server"] == 5, f"{c}")
    finally:
        sim.stop()


if __name__ == "__main__":
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/bin/bbb-sim"
    per_port(binary)
    shared_port(binary)
    print("bbb-sim smoke test: OK")
