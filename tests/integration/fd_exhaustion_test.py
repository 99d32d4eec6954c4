#!/usr/bin/env python3
"""Issue 18 item 13: running out of file descriptors made Pistache's accept loop spin at 100% CPU
until descriptors came back. The router now keeps client connections under three quarters of its
descriptor limit (refusing the rest at once), so the accept loop never meets EMFILE from them.

Runs `switchboard serve` (embedded store) with a limit of 96 descriptors, opens 300 idle
connections, and checks that the process stays nearly idle (a spinning loop burns ~1 s of CPU per
second) and answers /healthz again once the connections are gone.

usage: fd_exhaustion_test.py <switchboard binary>
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def healthz(port, timeout=2.0):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as r:
            return r.status
    except Exception:  # refused, reset or timed out: not answered
        return 0


def main():
    binary = sys.argv[1]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env["LOADBALANCER_SECRET"] = "fd-exhaustion-secret"
    log = tempfile.NamedTemporaryFile(prefix="sb-fd-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        ["prlimit", "--nofile=96:96", binary, "serve", "--bind", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    failures = []
    sockets = []
    try:
        deadline = time.time() + 10
        while healthz(port) != 200:
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit(f"switchboard did not start: {open(log.name).read()}")
            time.sleep(0.1)
        for _ in range(300):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", port))
                sockets.append(s)
            except OSError:
                s.close()
        time.sleep(1.0)
        before = cpu_seconds(proc.pid)
        time.sleep(3.0)
        used = cpu_seconds(proc.pid) - before
        print(f"CPU used over 3 s with {len(sockets)} connections open: {used:.2f} s")
        if used > 0.9:
            failures.append(f"the router burnt {used:.2f} s of CPU in 3 s while idle connections "
                            "held its descriptors (accept loop spinning)")
        for s in sockets:
            s.close()
        sockets = []
        deadline = time.time() + 10
        while healthz(port) != 200 and time.time() < deadline:
            time.sleep(0.2)
        if healthz(port) != 200:
            failures.append("/healthz did not answer within 10 s once the connections closed")
        if proc.poll() is not None:
            failures.append(f"switchboard exited: {proc.returncode}")
        text = open(log.name, errors="replace").read()
        if "refusing connections" not in text:
            failures.append("no warning about refused connections in the log")
    finally:
        for s in sockets:
            s.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        print("log:", open(log.name, errors="replace").read()[-3000:])
        sys.exit(1)
    os.unlink(log.name)
    print("ok: the router stayed idle at its descriptor limit and answered again afterwards")


if __name__ == "__main__":
    main()
