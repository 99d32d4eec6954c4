#!/usr/bin/env python3
"""Switchboard's fault suite (Python 3 standard library only). See tests/chaos/README.md.

    python3 tests/chaos/chaos.py [--short|--long] [--keep] BIN_DIR

Starts its own Redis (port 26379, AOF) and PostgreSQL 15 cluster (port 25432), bbb-sim with 6
servers, 2 routers and 2 pollers, all on 127.0.0.1; drives BBB API load through the routers while
it kills, in turn, a router, the active poller, Redis (with and without its data), PostgreSQL and
a BBB server, hangs one, slows one, makes one answer malformed XML and one answer partially; then
checks that no acknowledged meeting was lost, that no meeting ran on two servers at once for
longer than the bound, that join failures stayed within the documented windows, and prints the
memory and descriptors of every switchboard process. Exit 0 only when every check passed.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict, deque

HOST = "127.0.0.1"
REDIS_PORT = 26379
PG_PORT = 25432
ROUTER_PORTS = (28080, 28081)
SIM_CONTROL_PORT = 28100
SIM_BASE_PORT = 28101
SIM_SERVERS = 6
SECRET = "chaos-loadbalancer-secret"
ADMIN_TOKEN = "chaos-admin-token"
DATABASE = "switchboard_chaos"
PG_BIN = "/usr/lib/postgresql/15/bin"

# Switchboard's settings for the run (seconds).
POLL_INTERVAL = 2
POLL_TIMEOUT = 2
RESPONSE_TIMEOUT = 3
CONNECT_TIMEOUT = 1
MEETING_GRACE_PERIOD = 6
POLLER_LEASE_TTL = 3
UNHEALTHY_THRESHOLD = 2
HEALTHY_THRESHOLD = 1
STORE_TIMEOUT = 1
JOIN_CACHE_TTL = 1

HTTP_TIMEOUT = 10  # every request to a router or the control API
BBB_JOIN_TIMEOUT = 4  # a browser following the join redirect to BBB gives up after this
WINDOW_GAP = 1.0  # outages of meetings less than this apart are one window
JOIN_RETRY_EVERY = 1  # a meeting whose join failed is joined again every second (a user
# reloading), start to start, even while earlier attempts still wait on a hung server
JOIN_INFLIGHT_MAX = 5  # attempts of one meeting in flight at once
JOIN_RETRIES_MAX = 60  # failed attempts in a row before the meeting is left alone

# Bounds (seconds). README.md explains each.
# Join failure windows: the documented bound of the fault + what measuring adds (a failing
# meeting is joined again every JOIN_RETRY_EVERY) + 2 s of scheduling on a busy 2-core host.
SERVER_DEATH_BOUND = UNHEALTHY_THRESHOLD * POLL_INTERVAL + POLL_TIMEOUT  # README's failover bound
SERVER_BOUND = SERVER_DEATH_BOUND + JOIN_CACHE_TTL  # + a route cached just before it moved
STORE_BOUND = 2 * STORE_TIMEOUT + JOIN_CACHE_TTL  # a router notices a dead store, falls back
QUIET_BOUND = JOIN_CACHE_TTL  # router or poller killed: no join should fail at all
WINDOW_ALLOWANCE = JOIN_RETRY_EVERY + 2
# Two copies at once: a copy away from its home is ended at the first poll past the grace.
SPLIT_BOUND = POLL_INTERVAL + MEETING_GRACE_PERIOD
SPLIT_ALLOWANCE = POLL_TIMEOUT + 2  # one poll round's duration + scheduling
TAKEOVER_BOUND = POLLER_LEASE_TTL  # README: the standby takes over within POLLER_LEASE_TTL
TAKEOVER_ALLOWANCE = 2  # the standby retries the lease every TTL/3; log polling every 0.2 s

MODES = {
    "short": dict(
        baseline=8, load_seconds=None, cycles=1, live_target=60, settle_end=12,
        create_threads=2, create_pause=0.8, join_threads=12, join_rate=8,
        max_creates=3000, max_joins=30000, hard_limit=330),
    "long": dict(
        baseline=15, load_seconds=600, cycles=None, live_target=100, settle_end=20,
        create_threads=2, create_pause=0.8, join_threads=12, join_rate=8,
        max_creates=8000, max_joins=120000, hard_limit=1200),
}

T0 = time.time()
PRINT_LOCK = threading.Lock()


def now_ms():
    return int(time.time() * 1000)


def rel(t_ms):
    """Seconds since the suite started, for printing."""
    return (t_ms / 1000.0) - T0


def say(message):
    with PRINT_LOCK:
        print(f"[{time.time() - T0:6.1f}s] {message}", flush=True)


class SuiteError(Exception):
    """The suite itself could not do something it needs (set-up, a fault that did not apply)."""


# ---------------------------------------------------------------------------------------------
# HTTP on loopback


def http_request(method, port, target, body=None, headers=None, timeout=HTTP_TIMEOUT):
    """One request on a fresh connection to 127.0.0.1:port; (status, headers, body)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def json_request(method, port, path, body=None, token=None, timeout=HTTP_TIMEOUT):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, _, data = http_request(method, port, path, json.dumps(body) if body is not None
                                   else None, headers, timeout)
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = None
    return status, parsed


def port_open(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout, what, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # noqa: BLE001 (anything while the thing starts counts as not yet)
            pass
        time.sleep(interval)
    raise SuiteError(f"timed out after {timeout}s waiting for {what}")


# ---------------------------------------------------------------------------------------------
# Processes


class Proc:
    """A child process in its own process group, output appended to a log file."""

    def __init__(self, name, argv, env, log_path):
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.popen = None
        self.started_at = None
        self.log_offset = 0  # where this instance's output starts in the log
        self.instances = []  # [pid, started_at, ended_at or None, how it ended]
        self.killed_by_suite = False

    def start(self):
        with open(self.log_path, "ab") as log:
            log.write(f"=== chaos: starting {self.name} at {time.strftime('%H:%M:%S')} "
                      f"(+{time.time() - T0:.1f}s) ===\n".encode())
            log.flush()
            self.log_offset = log.tell()
            self.popen = subprocess.Popen(self.argv, env=self.env, stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=True)
        self.started_at = time.time()
        self.killed_by_suite = False
        self.instances.append([self.popen.pid, self.started_at, None, None])
        return self

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def _signal_group(self, sig):
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _ended(self, how):
        if self.instances and self.instances[-1][2] is None:
            self.instances[-1][2] = time.time()
            self.instances[-1][3] = how

    def kill9(self):
        if self.popen is None:
            return
        self.killed_by_suite = True
        self._signal_group(signal.SIGKILL)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._ended("SIGKILL by the suite")

    def stop(self, timeout=8):
        if self.popen is None:
            return
        self.killed_by_suite = True
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                try:
                    self.popen.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        else:
            self._signal_group(signal.SIGKILL)  # leftovers of the group, if any
        self._ended("stopped by the suite")

    def output(self):
        """This instance's output so far."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""


def proc_status(pid):
    """(RSS in kB, open descriptors, threads) of a live process, or None."""
    try:
        rss = threads = None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        return (rss, fds, threads) if rss is not None else None
    except OSError:
        return None


TCP_STATES = {"01": "", "02": " SYN_SENT", "04": " FIN_WAIT1", "05": " FIN_WAIT2",
              "06": " TIME_WAIT", "07": " CLOSE", "08": " CLOSE_WAIT", "09": " LAST_ACK",
              "0A": " LISTEN", "0B": " CLOSING"}


def tcp_sockets():
    """inode -> (local port, remote port, state) of every TCP socket of the host; UNIX and UDP
    sockets as (None, None, "unix"/"udp")."""
    table = {}
    for path, kind, column in (("/proc/net/unix", "unix", 6), ("/proc/net/udp", "udp", 9),
                               ("/proc/net/udp6", "udp", 9)):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if len(parts) > column:
                        table[parts[column]] = (None, None, kind)
        except (OSError, StopIteration):
            pass
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    table[parts[9]] = (int(parts[1].rsplit(":", 1)[1], 16),
                                       int(parts[2].rsplit(":", 1)[1], 16), parts[3])
        except (OSError, StopIteration, IndexError, ValueError):
            pass
    return table


def fd_kinds(pid, sockets):
    """What a process's descriptors are: TCP peers by role and state, pipes, eventfds, files."""
    kinds = Counter()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return kinds
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            sock = sockets.get(target[8:-1])
            if sock is None:
                # Not in any table: a TCP socket closed underneath (reset) and not yet closed by
                # the process, or one never connected.
                kinds["socket (closed or unconnected)"] += 1
                continue
            local, remote, state = sock
            if state in ("unix", "udp"):
                kinds[state] += 1
                continue
            if state == "0A":
                peer = "listening"
            elif remote == REDIS_PORT:
                peer = "redis"
            elif remote == PG_PORT:
                peer = "postgres"
            elif SIM_BASE_PORT <= remote < SIM_BASE_PORT + SIM_SERVERS:
                peer = "bbb"
            elif local in ROUTER_PORTS:
                peer = "client"
            else:
                peer = f"tcp:{remote}"
            kinds[peer + TCP_STATES.get(state, " " + state)] += 1
        elif target.startswith("pipe:"):
            kinds["pipe"] += 1
        elif target.startswith("anon_inode:"):
            kinds[target[11:].strip("[]")] += 1
        else:
            kinds["file"] += 1
    return kinds


def children_of(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if ppid == pid:
                out.append(int(entry))
        except (OSError, ValueError):
            pass
    return out


def become_subreaper():
    """Orphaned descendants (PostgreSQL's postmaster once pg_ctl exits, its backends once the
    postmaster is killed) become our children, so that we can reap them: a killed postmaster left
    as a zombie would keep its PID alive for kill(pid, 0), and the next start would refuse to run
    next to its postmaster.pid."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def reap(pids):
    """Reaps those of `pids` that are our exited children; True when none exists any more."""
    for p in pids:
        try:
            os.waitpid(p, os.WNOHANG)
        except ChildProcessError:
            pass
    return not any(os.path.exists(f"/proc/{p}") for p in pids)


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2] != "Z"
    except OSError:
        return False


class Redis:
    def __init__(self, root, logs):
        self.dir = os.path.join(root, "redis")
        os.makedirs(self.dir)
        self.proc = Proc("redis", ["redis-server", "--bind", HOST, "--port", str(REDIS_PORT),
                                   "--appendonly", "yes", "--save", "", "--dir", self.dir,
                                   "--daemonize", "no", "--protected-mode", "no"],
                         dict(os.environ), os.path.join(logs, "redis.log"))

    def command(self, *args, timeout=1.0):
        payload = f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
        with socket.create_connection((HOST, REDIS_PORT), timeout=timeout) as s:
            s.sendall(payload.encode())
            return s.recv(65536).decode(errors="replace")

    def start(self):
        self.proc.start()
        wait_for(lambda: self.command("PING").startswith("+PONG"), 30, "Redis to answer PING")

    def kill9(self):
        self.proc.kill9()

    def wipe(self):
        for entry in os.listdir(self.dir):
            path = os.path.join(self.dir, entry)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)

    def stop(self):
        self.proc.kill9()


class Postgres:
    def __init__(self, root):
        self.dir = os.path.join(root, "pg")
        self.log = os.path.join(root, "logs", "postgresql.log")

    def _as_postgres(self, command, timeout=60):
        return subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", command],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout, start_new_session=True, cwd="/")

    def init(self):
        os.makedirs(self.dir)
        shutil.chown(self.dir, "postgres")
        shutil.chown(os.path.dirname(self.log), "postgres")
        r = self._as_postgres(f"{PG_BIN}/initdb -D '{self.dir}' -A trust -U postgres --no-sync")
        if r.returncode != 0:
            raise SuiteError(f"initdb failed: {r.stdout}")
        with open(os.path.join(self.dir, "postgresql.conf"), "a") as f:
            f.write(f"listen_addresses = '{HOST}'\nport = {PG_PORT}\n"
                    f"unix_socket_directories = '{self.dir}'\nfsync = off\n"
                    "max_connections = 300\nshared_buffers = 32MB\n")
        self.start()
        r = subprocess.run([f"{PG_BIN}/psql", "-h", HOST, "-p", str(PG_PORT), "-U", "postgres",
                            "-qc", f"CREATE DATABASE {DATABASE}"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        if r.returncode != 0:
            raise SuiteError(f"CREATE DATABASE failed: {r.stdout}")

    def start(self):
        r = self._as_postgres(f"{PG_BIN}/pg_ctl -D '{self.dir}' -l '{self.log}' -w -t 60 start",
                              timeout=90)
        if r.returncode != 0:
            raise SuiteError(f"pg_ctl start failed: {r.stdout}")

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.dir, "postmaster.pid")) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None

    def kill9(self):
        """SIGKILL of the postmaster, as a crash would; waits until its children are gone."""
        pid = self.postmaster_pid()
        if pid is None or not pid_alive(pid):
            raise SuiteError("PostgreSQL's postmaster is not running")
        children = children_of(pid)
        os.kill(pid, signal.SIGKILL)
        # Backends notice the postmaster's death and exit; the next start needs them gone, and
        # the postmaster reaped (a zombie still answers kill(pid, 0)).
        deadline = time.time() + 10
        while time.time() < deadline and not reap([pid] + children):
            if time.time() > deadline - 5:
                for p in children:
                    if pid_alive(p):
                        try:
                            os.kill(p, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
            time.sleep(0.1)
        if not reap([pid] + children):
            raise SuiteError(f"the killed postmaster {pid} or its children never went away")
        return pid

    def stop(self):
        if not os.path.isdir(self.dir):
            return
        try:
            self._as_postgres(f"{PG_BIN}/pg_ctl -D '{self.dir}' -m immediate -w -t 20 stop",
                              timeout=30)
        except subprocess.TimeoutExpired:
            pass
        pid = self.postmaster_pid()
        if pid and pid_alive(pid):
            try:
                self.kill9()
            except (SuiteError, ProcessLookupError):
                pass


class Sim:
    def __init__(self, bin_dir, logs):
        self.proc = Proc("bbb-sim", [os.path.join(bin_dir, "bbb-sim"), "--servers",
                                     str(SIM_SERVERS), "--bind", HOST, "--base-port",
                                     str(SIM_BASE_PORT), "--control-port",
                                     str(SIM_CONTROL_PORT), "--log-level", "info"],
                         dict(os.environ), os.path.join(logs, "bbb-sim.log"))
        self.servers = {}  # index -> (url, secret)

    def start(self):
        self.proc.start()
        wait_for(lambda: "\nready\n" in "\n" + self.proc.output(), 15, "bbb-sim to be ready")
        for line in self.proc.output().splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[0] == "server":
                self.servers[int(parts[1])] = (parts[2], parts[3])
        if len(self.servers) != SIM_SERVERS:
            raise SuiteError(f"bbb-sim announced {len(self.servers)} servers")

    def ctl(self, method, path, body=None):
        status, parsed = json_request(method, SIM_CONTROL_PORT, path, body)
        if status != 200:
            raise SuiteError(f"bbb-sim control {method} {path}: HTTP {status} {parsed}")
        return parsed

    def fault(self, index, **fields):
        return self.ctl("POST", f"/servers/{index}/fault", fields)

    @staticmethod
    def index_of_port(port):
        index = port - SIM_BASE_PORT + 1
        return index if 1 <= index <= SIM_SERVERS else None


# The routers take uploads into a recordings folder: one of the run's own, removed at the end.
RECORDING_DIR = os.path.join(tempfile.gettempdir(), f"switchboard-chaos-recordings.{os.getpid()}")


def switchboard_env():
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/0",
        "DATABASE_URL": f"postgresql://postgres@{HOST}:{PG_PORT}/{DATABASE}",
        "LOADBALANCER_SECRET": SECRET,
        "SWITCHBOARD_ADMIN_TOKEN": ADMIN_TOKEN,
        "POLL_INTERVAL": str(POLL_INTERVAL),
        "POLL_TIMEOUT": str(POLL_TIMEOUT),
        "RESPONSE_TIMEOUT": str(RESPONSE_TIMEOUT),
        "CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "MEETING_GRACE_PERIOD": str(MEETING_GRACE_PERIOD),
        "POLLER_LEASE_TTL": str(POLLER_LEASE_TTL),
        "SERVER_UNHEALTHY_THRESHOLD": str(UNHEALTHY_THRESHOLD),
        "SERVER_HEALTHY_THRESHOLD": str(HEALTHY_THRESHOLD),
        "STORE_TIMEOUT": str(STORE_TIMEOUT),
        "JOIN_CACHE_TTL": str(JOIN_CACHE_TTL),
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "info",
        "BIND": HOST,
        # bbb-sim listens on loopback: the operator's permission to add servers there.
        "SERVER_URL_ALLOWED_NETS": "127.0.0.0/8",
        # The routers take uploads into a recordings folder: one of the run's own.
        "RECORDING_DIR": RECORDING_DIR,
    }
    return env


# ---------------------------------------------------------------------------------------------
# The BBB API through the routers


def signed_target(call, params):
    query = urllib.parse.urlencode(params)
    checksum = hashlib.sha1((call + query + SECRET).encode()).hexdigest()
    return f"/bigbluebutton/api/{call}?{query}{'&' if query else ''}checksum={checksum}"


def xml_fields(body):
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None, None
    return root.findtext("returncode"), root.findtext("messageKey")


def xml_message(body):
    try:
        return ET.fromstring(body).findtext("message") or ""
    except (ET.ParseError, TypeError):
        return ""


# A client mistake of the suite, never the router's: these abort the verdict.
SUITE_BUG_KEYS = {"checksumError", "missingParamMeetingID", "missingParamFullName",
                  "invalidPassword", "idNotUnique", "missingParamName", "unsupportedRequest"}


class Answer:
    __slots__ = ("router", "status", "headers", "body", "error")

    def __init__(self, router, status=None, headers=None, body=None, error=None):
        self.router, self.status, self.headers, self.body, self.error = (router, status, headers,
                                                                         body, error)


class Meeting:
    __slots__ = ("id", "acked_ms", "end_started_ms", "end_acked_ms", "end_result",
                 "end_attempts", "joins_ok", "retries", "last_join_ok", "last_start",
                 "last_attempt", "servers")

    def __init__(self, mid, acked_ms):
        self.id = mid
        self.acked_ms = acked_ms
        self.end_started_ms = None
        self.end_acked_ms = None
        self.end_result = None
        self.end_attempts = 0
        self.joins_ok = 0
        self.retries = 0
        self.last_join_ok = None  # outcome of the join that started last (None: none yet)
        self.last_start = 0  # start of the join whose outcome is last_join_ok
        self.last_attempt = 0.0  # start (s) of its latest join, answered or not
        self.servers = []  # sim servers the joins landed on, in order (changes only)


class Book:
    """Everything the load generator did, guarded by one lock."""

    def __init__(self, run_id):
        self.lock = threading.Lock()
        self.prefix = f"chaos-{run_id}-"
        self.next_id = 0
        self.meetings = {}  # acknowledged creates
        self.live = []  # ids: acknowledged, not being ended
        self.live_pos = {}
        self.fresh = deque()  # acknowledged, first join not sent yet
        self.retry = {}  # id -> when to join again after a failure
        self.inflight = defaultdict(list)  # id -> start times (s) of its joins in flight
        self.next_random = 0.0  # when the next join of a random live meeting may start
        self.end_retry = deque()  # (due, id) ends not acknowledged
        self.creates = []  # (start_ms, done_ms, id, kind, message)
        self.joins = []  # (start_ms, done_ms, id, kind, router, server, message)
        self.ends = []  # (start_ms, done_ms, id, kind, message)
        self.discarded_joins = 0  # raced with the meeting's end
        self.router_retries = 0  # sent again to the other router after a connection failure
        self.suite_bugs = []
        self.rr = 0

    def new_id(self):
        with self.lock:
            self.next_id += 1
            return f"{self.prefix}{self.next_id}"

    def next_router(self):
        with self.lock:
            self.rr += 1
            return self.rr % 2

    def add_live(self, mid, acked_ms):
        with self.lock:
            if mid in self.meetings:
                return
            self.meetings[mid] = Meeting(mid, acked_ms)
            self.live_pos[mid] = len(self.live)
            self.live.append(mid)
            self.fresh.append(mid)

    def _remove_live(self, mid):
        pos = self.live_pos.pop(mid, None)
        if pos is None:
            return
        last = self.live.pop()
        if last != mid:
            self.live[pos] = last
            self.live_pos[last] = pos

    def pick_join(self, rate):
        """(meeting, first join?, start time) or None; counts the join in flight. Failing meetings
        come first: every JOIN_RETRY_EVERY after a failed join, and also once a join of theirs
        has been in flight that long (a user reloading: a hung server would otherwise hide the
        moment the router moves the meeting behind the 4 s browser timeout); then new meetings,
        then random live ones at `rate` per second."""
        with self.lock:
            now = time.time()
            picked = None
            gone = [mid for mid in self.retry if mid not in self.live_pos]
            for mid in gone:
                del self.retry[mid]
            for mid, due in self.retry.items():
                if due <= now and len(self.inflight.get(mid, ())) < JOIN_INFLIGHT_MAX:
                    self.retry[mid] = now + JOIN_RETRY_EVERY
                    picked = (self.meetings[mid], False)
                    break
            if picked is None:
                # Its latest join still unanswered after JOIN_RETRY_EVERY: join it again.
                for mid, starts in self.inflight.items():
                    if starts and mid not in self.retry and mid in self.live_pos and \
                            max(starts) == self.meetings[mid].last_attempt and \
                            max(starts) <= now - JOIN_RETRY_EVERY and \
                            len(starts) < JOIN_INFLIGHT_MAX:
                        self.retry[mid] = now + JOIN_RETRY_EVERY
                        picked = (self.meetings[mid], False)
                        break
            while picked is None and self.fresh:
                mid = self.fresh.popleft()
                if mid in self.live_pos:
                    picked = (self.meetings[mid], True)
            if picked is None and self.live and now >= self.next_random:
                self.next_random = max(self.next_random, now - 1) + 1.0 / rate
                mid = random.choice(self.live)
                if mid not in self.retry:
                    picked = (self.meetings[mid], False)
            if picked is None:
                return None
            self.inflight[picked[0].id].append(now)
            picked[0].last_attempt = now
            return picked[0], picked[1], now

    def pick_end(self, min_age_s):
        """A meeting to end: one whose last join worked (a failing one is kept for the checks)."""
        with self.lock:
            limit = now_ms() - min_age_s * 1000
            for _ in range(20):
                if not self.live:
                    return None
                m = self.meetings[random.choice(self.live)]
                if m.acked_ms <= limit and m.last_join_ok and m.id not in self.retry and \
                        not self.inflight.get(m.id):
                    self._remove_live(m.id)
                    m.end_started_ms = now_ms()
                    return m
            return None

    def due_end_retry(self):
        with self.lock:
            if self.end_retry and self.end_retry[0][0] <= time.time():
                return self.meetings[self.end_retry.popleft()[1]]
            return None

    def live_count(self):
        with self.lock:
            return len(self.live)


class Load:
    """The load generator: creates, joins (following the redirect to BBB) and ends meetings."""

    def __init__(self, book, mode):
        self.book = book
        self.mode = mode
        self.stop = threading.Event()
        self.threads = []

    def api(self, call, params, router, timeout=HTTP_TIMEOUT):
        """A signed call to one router; sent again to the other when the connection fails (a
        killed router), as a load balancer in front of the routers would."""
        target = signed_target(call, params)
        error = "router-unreachable"
        for r in (router, 1 - router):
            try:
                status, headers, body = http_request("GET", ROUTER_PORTS[r], target,
                                                     timeout=timeout)
                return Answer(r, status, headers, body)
            except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError,
                    http.client.RemoteDisconnected, http.client.BadStatusLine):
                with self.book.lock:
                    self.book.router_retries += 1
                error = "router-unreachable"
                continue
            except (socket.timeout, TimeoutError):
                return Answer(r, error="router-timeout")
            except (OSError, http.client.HTTPException) as e:
                return Answer(r, error=f"router-{type(e).__name__}")
        return Answer(router, error=error)

    def suite_bug(self, what):
        with self.book.lock:
            self.book.suite_bugs.append(f"{time.time() - T0:.1f}s {what}")

    def create(self):
        book = self.book
        mid = book.new_id()
        params = [("name", f"Chaos {mid}"), ("meetingID", mid), ("attendeePW", "ap"),
                  ("moderatorPW", "mp"), ("record", "false"), ("meta_origin", "chaos-suite")]
        start = now_ms()
        a = self.api("create", params, book.next_router())
        done = now_ms()
        message = ""
        if a.error:
            kind = a.error
        elif a.status != 200:
            kind = f"router-http-{a.status}"
        else:
            code, key = xml_fields(a.body)
            if code == "SUCCESS":
                kind = "ok"
            elif code is None:
                kind = "router-bad-xml"
            else:
                kind = f"router-{key}"
                message = xml_message(a.body)
                if key in SUITE_BUG_KEYS:
                    self.suite_bug(f"create {mid}: {key}")
        with book.lock:
            book.creates.append((start, done, mid, kind, message))
        if kind == "ok":
            book.add_live(mid, done)

    def join_once(self, meeting_id, password, router):
        """A join through a router, then the browser's half; (kind, router, server, message)."""
        params = [("fullName", f"Chaos User {random.randrange(100000)}"),
                  ("meetingID", meeting_id), ("password", password)]
        a = self.api("join", params, router)
        server, message = None, ""
        if a.error:
            kind = a.error
        elif a.status == 302:
            kind, server, message = self.follow(a.headers.get("location", ""))
        elif a.status == 200:
            code, key = xml_fields(a.body)
            kind = f"router-{key}" if code == "FAILED" else f"router-unexpected-{code}"
            message = xml_message(a.body)
            if key in SUITE_BUG_KEYS:
                self.suite_bug(f"join {meeting_id}: {key}")
        else:
            kind = f"router-http-{a.status}"
        return kind, a.router, server, message

    def join(self, m, first, started):
        book = self.book
        start = int(started * 1000)
        try:
            kind, router, server, message = self.join_once(m.id, "mp" if first else "ap",
                                                           book.next_router())
        finally:
            with book.lock:
                starts = book.inflight[m.id]
                starts.remove(started)
                if not starts:
                    del book.inflight[m.id]
        done = now_ms()
        with book.lock:
            if m.end_started_ms is not None and m.end_started_ms <= done:
                book.discarded_joins += 1  # raced with its own end: says nothing
                return
            book.joins.append((start, done, m.id, kind, router, server, message))
            ok = kind == "ok"
            newest = start >= m.last_start
            if newest:
                m.last_start, m.last_join_ok = start, ok
            if ok:
                m.joins_ok += 1
                if not m.servers or m.servers[-1] != server:
                    m.servers.append(server)
                if newest:
                    m.retries = 0
                    book.retry.pop(m.id, None)
            elif newest:
                # A failure newer than the last success: join it again every second.
                m.retries += 1
                if m.retries > JOIN_RETRIES_MAX:
                    book.retry.pop(m.id, None)
                elif m.id not in book.retry:
                    book.retry[m.id] = started + JOIN_RETRY_EVERY

    @staticmethod
    def follow(location):
        """The browser's half of a join: GET the BBB join URL the router redirected to;
        (kind, server, message)."""
        u = urllib.parse.urlsplit(location)
        if u.hostname != HOST or not u.port or Sim.index_of_port(u.port) is None:
            return "router-bad-location", None, location[:100]
        server = Sim.index_of_port(u.port)
        target = u.path + ("?" + u.query if u.query else "")
        try:
            status, headers, body = http_request("GET", u.port, target, timeout=BBB_JOIN_TIMEOUT)
        except ConnectionRefusedError:
            return "bbb-refused", server, ""
        except (socket.timeout, TimeoutError):
            return "bbb-timeout", server, ""
        except (OSError, http.client.HTTPException) as e:
            return f"bbb-{type(e).__name__}", server, str(e)[:100]
        if status == 302 and "/html5client/join" in headers.get("location", ""):
            return "ok", server, ""
        if status == 200:
            code, key = xml_fields(body)
            return f"bbb-{key or code or 'bad-xml'}", server, xml_message(body)
        return f"bbb-http-{status}", server, ""

    def end(self, m):
        book = self.book
        start = now_ms()
        a = self.api("end", [("meetingID", m.id), ("password", "mp")], book.next_router())
        done = now_ms()
        message = ""
        if a.error:
            kind = a.error
        elif a.status != 200:
            kind = f"router-http-{a.status}"
        else:
            code, key = xml_fields(a.body)
            kind = "ok" if code == "SUCCESS" else f"router-{key}"
            if kind != "ok":
                message = xml_message(a.body)
            if key in SUITE_BUG_KEYS:
                self.suite_bug(f"end {m.id}: {key}")
        with book.lock:
            book.ends.append((start, done, m.id, kind, message))
            m.end_attempts += 1
            if kind == "ok":
                m.end_acked_ms = done
                m.end_result = "ok"
            elif kind == "router-notFound":
                m.end_result = "notFound"
            else:
                m.end_result = kind
                if m.end_attempts < 4:
                    book.end_retry.append((time.time() + 3, m.id))

    def creator(self):
        cfg = self.mode
        while not self.stop.is_set():
            with self.book.lock:
                if len(self.book.creates) >= cfg["max_creates"]:
                    break
            try:
                self.create()
                if self.book.live_count() > cfg["live_target"]:
                    m = self.book.pick_end(5)
                    if m:
                        self.end(m)
                retry = self.book.due_end_retry()
                if retry:
                    self.end(retry)
            except Exception:  # noqa: BLE001 (a suite bug must not hang the run)
                self.suite_bug("creator: " + traceback.format_exc(limit=3))
            self.stop.wait(cfg["create_pause"] * random.uniform(0.7, 1.3))

    def joiner(self):
        cfg = self.mode
        while not self.stop.is_set():
            with self.book.lock:
                if len(self.book.joins) >= cfg["max_joins"]:
                    break
            picked = None
            try:
                picked = self.book.pick_join(cfg["join_rate"])
                if picked:
                    self.join(*picked)
            except Exception:  # noqa: BLE001
                self.suite_bug("joiner: " + traceback.format_exc(limit=3))
            if not picked:
                self.stop.wait(random.uniform(0.05, 0.15))

    def start(self):
        for i in range(self.mode["create_threads"]):
            self.threads.append(threading.Thread(target=self.creator, name=f"create-{i}",
                                                 daemon=True))
        for i in range(self.mode["join_threads"]):
            self.threads.append(threading.Thread(target=self.joiner, name=f"join-{i}",
                                                 daemon=True))
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        deadline = time.time() + HTTP_TIMEOUT + BBB_JOIN_TIMEOUT + 5
        for t in self.threads:
            t.join(max(0.1, deadline - time.time()))


# ---------------------------------------------------------------------------------------------
# The run


class HealthWatch:
    """Polls the admin API (router-1) every 0.25 s for one server's `online` flag and records
    each change: when Switchboard took a BBB server offline and back."""

    def __init__(self, url):
        self.port = urllib.parse.urlsplit(url).port
        self.changes = []  # (t_ms, online)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="health-watch", daemon=True)
        self.thread.start()

    def run(self):
        last = None
        while not self.stop.wait(0.25):
            try:
                status, body = json_request("GET", ROUTER_PORTS[0], "/switchboard/api/v1/servers",
                                            token=ADMIN_TOKEN, timeout=2)
            except (OSError, http.client.HTTPException):
                continue
            if status != 200 or not body:
                continue
            online = next((s.get("online") for s in body.get("servers", [])
                           if urllib.parse.urlsplit(s.get("url", "")).port == self.port), None)
            if online is not None and online != last:
                self.changes.append((now_ms(), online))
                last = online

    def finish(self):
        self.stop.set()
        self.thread.join(5)
        return self.changes


class Phase:
    def __init__(self, name, kind, cycle):
        self.name, self.kind, self.cycle = name, kind, cycle
        self.start = now_ms()
        self.end = None
        self.fault_start = None
        self.fault_end = None
        self.server = None
        self.notes = []
        self.applied = False
        self.health = []  # BBB fault phases: (t_ms, online) changes of the server


class Chaos:
    def __init__(self, args):
        self.args = args
        self.mode = MODES[args.mode]
        self.bin_dir = os.path.abspath(args.bin_dir)
        self.root = tempfile.mkdtemp(prefix="switchboard-chaos.")
        os.chmod(self.root, 0o755)
        self.logs = os.path.join(self.root, "logs")
        os.makedirs(self.logs)
        os.chmod(self.logs, 0o777)
        self.redis = Redis(self.root, self.logs)
        self.pg = Postgres(self.root)
        self.sim = Sim(self.bin_dir, self.logs)
        env = switchboard_env()
        sb = os.path.join(self.bin_dir, "switchboard")
        self.routers = [Proc(f"router-{i + 1}", [sb, "router", "--port", str(port), "--bind",
                                                 HOST], env,
                             os.path.join(self.logs, f"router-{i + 1}.log"))
                        for i, port in enumerate(ROUTER_PORTS)]
        self.pollers = [Proc(f"poller-{i + 1}", [sb, "poller"], env,
                             os.path.join(self.logs, f"poller-{i + 1}.log")) for i in range(2)]
        self.book = Book(f"{int(time.time()) % 100000}")
        self.load = Load(self.book, self.mode)
        self.phases = []
        self.phase = None
        self.unreachable = defaultdict(list)  # sim index -> [(start_ms, end_ms)]
        self.takeovers = []  # (phase, seconds or None)
        self.samples = []  # (t, role, pid, rss_kb, fds, threads) every 2 s
        self.cycle_samples = []  # (cycle, {role: (pid, rss, fds, threads)})
        self.start_table = {}
        self.end_table = {}
        self.start_fds = {}
        self.end_fds = {}
        self.unexpected_exits = []
        self.sampler_stop = threading.Event()
        self.checks = []  # (name, passed, detail)
        self.last_server = None

    # -- set-up -------------------------------------------------------------------------------

    def setup(self):
        busy = [p for p in (REDIS_PORT, PG_PORT, SIM_CONTROL_PORT, *ROUTER_PORTS,
                            *range(SIM_BASE_PORT, SIM_BASE_PORT + SIM_SERVERS)) if port_open(p)]
        if busy:
            raise SuiteError(f"ports already in use on {HOST}: {busy} (an earlier run still "
                             "alive?)")
        for name in ("switchboard", "bbb-sim"):
            if not os.access(os.path.join(self.bin_dir, name), os.X_OK):
                raise SuiteError(f"{self.bin_dir}/{name} is missing")
        say(f"work dir {self.root}")
        self.redis.start()
        say(f"Redis on {HOST}:{REDIS_PORT} (AOF in {self.redis.dir})")
        self.pg.init()
        say(f"PostgreSQL 15 on {HOST}:{PG_PORT} ({self.pg.dir})")
        env = switchboard_env()
        r = subprocess.run([os.path.join(self.bin_dir, "switchboard"), "migrate"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=60)
        if r.returncode != 0:
            raise SuiteError(f"switchboard migrate failed: {r.stdout}")
        say(f"migrate: {r.stdout.strip()}")
        self.sim.start()
        for p in self.pollers:
            p.start()
        for i, r in enumerate(self.routers):
            r.start()
        for i in range(2):
            self.wait_router(i)
        for index, (url, secret) in sorted(self.sim.servers.items()):
            status, body = json_request("POST", ROUTER_PORTS[0], "/switchboard/api/v1/servers",
                                        {"url": url, "secret": secret, "state": "enabled"},
                                        token=ADMIN_TOKEN)
            if status != 201:
                raise SuiteError(f"adding server {index}: HTTP {status} {body}")
        wait_for(lambda: self.online_count() == SIM_SERVERS, 30, "6 servers online", 0.5)
        say(f"{SIM_SERVERS} bbb-sim servers online; routers on {ROUTER_PORTS}, 2 pollers")

    def wait_router(self, i):
        def ready():
            status, _, body = http_request("GET", ROUTER_PORTS[i], "/healthz", timeout=2)
            return status == 200
        wait_for(ready, 20, f"router-{i + 1} /healthz")

    def online_count(self):
        status, body = json_request("GET", ROUTER_PORTS[0], "/switchboard/api/v1/servers",
                                    token=ADMIN_TOKEN, timeout=5)
        if status != 200:
            return -1
        return sum(1 for s in body["servers"] if s.get("online"))

    # -- processes ------------------------------------------------------------------------------

    def roles(self):
        return [(p.name, p) for p in self.routers + self.pollers]

    def sample(self):
        out = {}
        for role, p in self.roles():
            if p.alive():
                st = proc_status(p.pid)
                if st:
                    out[role] = (p.pid, *st)
        return out

    def fd_breakdown(self):
        sockets = tcp_sockets()
        return {role: (p.pid, fd_kinds(p.pid, sockets)) for role, p in self.roles() if p.alive()}

    def sampler(self):
        while not self.sampler_stop.wait(2.0):
            try:
                self.sample_once()
            except Exception:  # noqa: BLE001 (keep sampling; a suite bug is reported)
                self.load.suite_bug("sampler: " + traceback.format_exc(limit=3))

    def sample_once(self):
        t = time.time()
        for role, p in self.roles():
            if p.popen is not None and not p.killed_by_suite and p.popen.poll() is not None:
                code = p.popen.returncode
                p._ended(f"exited by itself ({code})")
                self.unexpected_exits.append(
                    f"{role} pid {p.pid} exited by itself with {code} at +{t - T0:.1f}s "
                    f"(phase {self.phase.name if self.phase else '-'}); restarted")
                say(f"!! {role} exited by itself with {code}; restarting it")
                p.start()
        for role, (pid, rss, fds, threads) in self.sample().items():
            self.samples.append((t, role, pid, rss, fds, threads))

    # -- phases ---------------------------------------------------------------------------------

    def begin(self, name, kind, cycle):
        if self.phase:
            self.phase.end = now_ms()
        self.phase = Phase(name, kind, cycle)
        self.phases.append(self.phase)
        say(f"== phase {name} (cycle {cycle})")
        return self.phase

    def pause(self, seconds):
        time.sleep(seconds)

    def pick_server(self):
        servers = self.sim.ctl("GET", "/servers")["servers"]
        candidates = [s for s in servers if s["index"] != self.last_server]
        best = max(candidates, key=lambda s: (s["meetings"], -s["index"]))
        self.last_server = best["index"]
        return best["index"], best["meetings"]

    def phase_baseline(self, cycle):
        self.begin("baseline", "quiet", cycle)
        self.pause(self.mode["baseline"])

    def phase_router_kill(self, cycle):
        ph = self.begin("router-kill", "quiet", cycle)
        # Always router-2: router-1 lives through the whole run (the memory figures need one).
        r = self.routers[1]
        ph.fault_start = now_ms()
        r.kill9()
        ph.notes.append(f"SIGKILL router-2 (pid {r.instances[-1][0]})")
        self.pause(3)
        r.start()
        self.wait_router(1)
        ph.fault_end = now_ms()
        ph.notes.append(f"router-2 restarted (pid {r.pid})")
        ph.applied = True
        self.pause(4)

    def lease_state(self, p, since=0):
        text = p.output()[since:]
        state = None
        for line in text.splitlines():
            if " is active" in line:
                state = "active"
            elif " stands by" in line:
                state = "standby"
        return state

    def phase_poller_kill(self, cycle):
        ph = self.begin("poller-kill", "quiet", cycle)
        states = [self.lease_state(p) if p.alive() else None for p in self.pollers]
        active = [i for i, s in enumerate(states) if s == "active"]
        victims = active[:1] if len(active) == 1 else [0, 1]
        if len(active) != 1:
            ph.notes.append(f"lease states from the logs: {states}; killing both in turn")
        for v in victims:
            victim, other = self.pollers[v], self.pollers[1 - v]
            mark = len(other.output())
            ph.fault_start = ph.fault_start or now_ms()
            t0 = time.time()
            victim.kill9()
            ph.notes.append(f"SIGKILL {victim.name} (pid {victim.instances[-1][0]}, "
                            f"{'active' if states[v] == 'active' else states[v]})")
            took = None
            deadline = t0 + TAKEOVER_BOUND + TAKEOVER_ALLOWANCE + 8
            while time.time() < deadline:
                if self.lease_state(other, mark) == "active" or (
                        states[v] != "active" and self.lease_state(other) == "active"):
                    took = time.time() - t0
                    break
                time.sleep(0.2)
            if states[v] == "active":
                self.takeovers.append((ph, took))
                ph.notes.append(f"{other.name} active after "
                                f"{'%.1fs' % took if took is not None else 'never (timeout)'}")
            victim.start()
            ph.notes.append(f"{victim.name} restarted (pid {victim.pid})")
            self.pause(1)
        ph.fault_end = now_ms()
        ph.applied = True
        self.pause(3)

    def phase_redis(self, cycle, wipe):
        ph = self.begin("redis-kill-wipe" if wipe else "redis-kill-keep", "store", cycle)
        ph.fault_start = now_ms()
        pid = self.redis.proc.pid
        self.redis.kill9()
        if wipe:
            self.redis.wipe()
        ph.notes.append(f"SIGKILL redis (pid {pid})" + ("; AOF/RDB deleted" if wipe else ""))
        self.pause(5)
        self.redis.start()
        ph.fault_end = now_ms()
        keys = self.redis.command("DBSIZE").strip()
        ph.notes.append(f"redis restarted (pid {self.redis.proc.pid}), DBSIZE {keys}")
        ph.applied = True
        self.pause(8 if wipe else 6)

    def phase_pg(self, cycle):
        ph = self.begin("postgres-kill", "store", cycle)
        ph.fault_start = now_ms()
        pid = self.pg.kill9()
        ph.notes.append(f"SIGKILL postmaster (pid {pid})")
        self.pause(6)
        self.pg.start()
        ph.fault_end = now_ms()
        ph.notes.append(f"postgres restarted (pid {self.pg.postmaster_pid()})")
        ph.applied = True
        self.pause(6)

    def phase_bbb(self, cycle, kind):
        ph = self.begin(f"bbb-{kind}", "server", cycle)
        index, meetings = self.pick_server()
        ph.server = index
        hold, settle = 10, 10
        watch = HealthWatch(self.sim.servers[index][0])
        time.sleep(0.5)  # its first sample: online
        ph.fault_start = now_ms()
        if kind == "crash":
            lost = self.sim.ctl("POST", f"/servers/{index}/crash", {})["meetings_lost"]
            ph.notes.append(f"server {index} crashed: {lost} meetings lost")
            settle = 8
        elif kind == "hang":
            self.sim.fault(index, timeout=True)
            ph.notes.append(f"server {index} hangs ({meetings} meetings)")
        elif kind == "slow":
            self.sim.fault(index, delay_ms=5000)
            ph.notes.append(f"server {index} answers 5 s late ({meetings} meetings)")
        elif kind == "malformed":
            self.sim.fault(index, malformed=True)
            ph.notes.append(f"server {index} answers getMeetings with <x[]> ({meetings} meetings)")
            settle = 6
        elif kind == "partial":
            self.sim.fault(index, partial=True)
            ph.notes.append(f"server {index} lists every second meeting ({meetings} meetings)")
            hold, settle = 12, 6
        self.pause(hold)
        if kind == "crash":
            self.sim.fault(index, down=False)
        elif kind == "hang":
            self.sim.fault(index, timeout=False)
        elif kind == "slow":
            self.sim.fault(index, delay_ms=0)
        elif kind == "malformed":
            self.sim.fault(index, malformed=False)
        elif kind == "partial":
            self.sim.fault(index, partial=False)
        ph.fault_end = now_ms()
        if kind in ("crash", "hang", "slow"):
            # The server cannot be reached (or not within RESPONSE_TIMEOUT): nothing can end a
            # copy there, so this time does not count towards a split.
            self.unreachable[index].append((ph.fault_start, ph.fault_end))
        ph.notes.append(f"server {index} fault cleared")
        ph.applied = True
        self.pause(settle)
        ph.health = watch.finish()

    def cycle(self, n):
        self.phase_router_kill(n)
        self.phase_poller_kill(n)
        self.phase_redis(n, wipe=False)
        self.phase_redis(n, wipe=True)
        self.phase_pg(n)
        for kind in ("crash", "hang", "slow", "malformed", "partial"):
            self.phase_bbb(n, kind)
        self.cycle_samples.append((n, self.sample()))

    def run(self):
        self.setup()
        threading.Thread(target=self.sampler, name="sampler", daemon=True).start()
        self.load_started = now_ms()
        self.load.start()
        say(f"load: {self.mode['create_threads']} create/end threads, "
            f"{self.mode['join_threads']} join threads, ~{self.mode['live_target']} live meetings")
        self.phase_baseline(0)
        self.start_table = self.sample()
        self.start_fds = self.fd_breakdown()
        self.cycle_samples.append((0, dict(self.start_table)))
        n = 0
        while True:
            n += 1
            started = now_ms()
            self.cycle(n)
            if self.mode["cycles"] is not None and n >= self.mode["cycles"]:
                break
            # Long mode: another cycle only if at least half of it fits in the load duration.
            if self.mode["load_seconds"] is not None and now_ms() - self.load_started + \
                    (now_ms() - started) / 2 >= self.mode["load_seconds"] * 1000:
                break
        self.begin("final-settle", "quiet", n)
        self.load.finish()
        self.load_stopped = now_ms()
        say(f"load stopped; settling {self.mode['settle_end']}s with every fault cleared")
        self.pause(self.mode["settle_end"])
        self.begin("final-check", "quiet", n)
        self.final_checks()
        self.phase.end = now_ms()
        self.end_table = self.sample()
        self.end_fds = self.fd_breakdown()

    # -- checks ---------------------------------------------------------------------------------

    def phase_at(self, t_ms):
        found = self.phases[0] if self.phases else None
        for ph in self.phases:
            if ph.start <= t_ms:
                found = ph
        return found

    def check(self, name, passed, detail=""):
        self.checks.append((name, passed, detail))

    def final_checks(self):
        book = self.book
        # 1. Acknowledged creates that were never ended: each must still be joinable.
        with book.lock:
            keep = [m for m in book.meetings.values() if m.end_started_ms is None]
            ended = sum(1 for m in book.meetings.values() if m.end_acked_ms is not None)
            end_not_found = sum(1 for m in book.meetings.values() if m.end_result == "notFound")
            end_unknown = sum(1 for m in book.meetings.values()
                              if m.end_started_ms is not None and m.end_result not in
                              ("ok", "notFound"))
        self.final = []
        for m in keep:
            start = now_ms()
            kind, router, server, message = self.load.join_once(m.id, "ap", 0)
            self.final.append((m, kind, server, start, message))
        lost = [f for f in self.final if f[1] == "router-notFound"]
        unjoinable = [f for f in self.final if f[1] not in ("ok", "router-notFound")]
        self.lost, self.unjoinable = lost, unjoinable
        self.ack_summary = (len(book.meetings), ended, end_not_found, end_unknown, len(keep))
        self.history = self.sim.ctl("GET", "/history")
        self.history_at = now_ms()
        self.ready = []
        for i, port in enumerate(ROUTER_PORTS):
            try:
                status, _, body = http_request("GET", port, "/readyz", timeout=5)
                self.ready.append((f"router-{i + 1}", status, body.decode(errors="replace")
                                   .strip()[:120]))
            except (OSError, http.client.HTTPException) as e:
                self.ready.append((f"router-{i + 1}", None, str(e)))
        self.leases = [(p.name, self.lease_state(p)) for p in self.pollers]
        self.dump_events()

    def dump_events(self):
        """Everything measured, for a closer look: logs/events.json."""
        book = self.book
        with book.lock:
            data = {
                "t0_ms": int(T0 * 1000), "prefix": book.prefix,
                "phases": [{"name": ph.name, "kind": ph.kind, "cycle": ph.cycle,
                            "start_ms": ph.start, "end_ms": ph.end,
                            "fault_start_ms": ph.fault_start, "fault_end_ms": ph.fault_end,
                            "server": ph.server, "notes": ph.notes, "health": ph.health}
                           for ph in self.phases],
                "unreachable": {str(k): v for k, v in self.unreachable.items()},
                "creates": book.creates, "joins": book.joins, "ends": book.ends,
                "final_joins": [(m.id, kind, server, t, message)
                                for m, kind, server, t, message in self.final],
                "history": self.history,
                "process_samples": self.samples,
            }
        with open(os.path.join(self.logs, "events.json"), "w") as f:
            json.dump(data, f)

    # -- report ---------------------------------------------------------------------------------

    def report(self):
        book = self.book
        print()
        print("=" * 100)
        print(f"chaos {self.args.mode}: settings POLL_INTERVAL={POLL_INTERVAL} "
              f"POLL_TIMEOUT={POLL_TIMEOUT} RESPONSE_TIMEOUT={RESPONSE_TIMEOUT} "
              f"MEETING_GRACE_PERIOD={MEETING_GRACE_PERIOD} POLLER_LEASE_TTL={POLLER_LEASE_TTL} "
              f"SERVER_UNHEALTHY_THRESHOLD={UNHEALTHY_THRESHOLD} STORE_TIMEOUT={STORE_TIMEOUT} "
              f"JOIN_CACHE_TTL={JOIN_CACHE_TTL}")
        self.report_phases()
        self.report_lost()
        self.report_splits()
        self.report_windows()
        self.report_health()
        self.report_takeovers()
        self.report_ready()
        self.report_faults_and_exits()
        self.report_processes()
        if book.suite_bugs:
            print("\n-- suite bugs (the suite's own mistakes; the verdict is void):")
            for b in book.suite_bugs[:20]:
                print(f"   {b}")
        self.check("suite sanity (no checksumError/invalidPassword/... from the suite's calls)",
                   not book.suite_bugs, f"{len(book.suite_bugs)} suite bugs")
        print("\n-- checks")
        for name, passed, detail in self.checks:
            print(f"   [{'PASS' if passed else 'FAIL'}] {name}: {detail}")
        passed = sum(1 for c in self.checks if c[1])
        failed = len(self.checks) - passed
        print(f"\nlogs: {self.logs}" + ("" if self.keep_logs() else " (removed: all passed)"))
        print(f"chaos: {passed} passed, {failed} failed ({time.time() - T0:.0f}s)")
        return failed == 0

    def keep_logs(self):
        return self.args.keep or any(not c[1] for c in self.checks)

    def report_phases(self):
        book = self.book
        print("\n-- phases (times in seconds since the suite started; creates/joins/ends: "
              "ok/failed)")
        print(f"   {'phase':<18}{'cyc':>4}{'start':>8}{'length':>8}{'creates':>10}"
              f"{'joins':>11}{'ends':>9}  notes")
        per = defaultdict(lambda: [[0, 0], [0, 0], [0, 0]])
        with book.lock:
            for lst, col in ((book.creates, 0), (book.joins, 1), (book.ends, 2)):
                for rec in lst:
                    ph = self.phase_at(rec[0])
                    per[id(ph)][col][0 if rec[3] == "ok" else 1] += 1
        for ph in self.phases:
            c, j, e = per[id(ph)]
            end = ph.end or now_ms()
            length = (end - ph.start) / 1000
            print(f"   {ph.name:<18}{ph.cycle:>4}{rel(ph.start):>8.1f}{length:>8.1f}"
                  f"{c[0]:>6}/{c[1]:<3}{j[0]:>7}/{j[1]:<3}{e[0]:>5}/{e[1]:<3} "
                  f"{'; '.join(ph.notes)}")
        kinds = defaultdict(Counter)
        with book.lock:
            for name, lst in (("create", book.creates), ("join", book.joins), ("end", book.ends)):
                for rec in lst:
                    if rec[3] != "ok":
                        text = f"{rec[3]} {rec[-1][:70]!r}" if rec[-1] else rec[3]
                        kinds[name][(self.phase_at(rec[0]).name, text)] += 1
            print(f"\n   totals: {len(book.creates)} creates, {len(book.joins)} joins "
                  f"(+{book.discarded_joins} discarded: raced with their meeting's end), "
                  f"{len(book.ends)} ends; {book.router_retries} requests sent again to the "
                  "other router after a connection failure")
        for name in ("create", "join", "end"):
            if kinds[name]:
                items = ", ".join(f"{ph}: {k} x{n}" for (ph, k), n in sorted(kinds[name].items()))
                print(f"   failed {name}s by phase: {items}")

    def report_lost(self):
        total, ended, end_nf, end_unknown, kept = self.ack_summary
        print(f"\n-- acknowledged creates: {total}; ended by the generator {ended} "
              f"(+{end_nf} whose end answered notFound, +{end_unknown} whose end was never "
              f"acknowledged: both left out); {kept} never ended, each joined once more now")
        for m, kind, server, t, message in self.lost:
            print(f"   LOST {m.id}: join answers notFound (acked at +{rel(m.acked_ms):.1f}s, "
                  f"joined on servers {m.servers or '-'}, {m.joins_ok} joins ok before)")
        for m, kind, server, t, message in self.unjoinable:
            print(f"   UNJOINABLE {m.id}: {kind} {message!r} (server {server}; acked at "
                  f"+{rel(m.acked_ms):.1f}s, joined on servers {m.servers or '-'})")
        with self.book.lock:
            end_nf = [(m, e) for m in self.book.meetings.values() if m.end_result == "notFound"
                      for e in self.book.ends if e[2] == m.id and e[3] == "router-notFound"]
        if end_nf:
            print(f"   ends answered notFound (not counted as lost; the meeting may have died "
                  f"with its server): " + ", ".join(
                      f"{m.id} at +{rel(e[0]):.1f}s ({self.phase_at(e[0]).name}, joined on "
                      f"servers {m.servers or '-'})" for m, e in end_nf[:20]))
        self.check("acknowledged creates lost (join answers notFound)", not self.lost,
                   f"{len(self.lost)} of {kept}")
        self.check("acknowledged meetings not joinable at the end for another reason",
                   not self.unjoinable, f"{len(self.unjoinable)} of {kept}"
                   + (": " + ", ".join(sorted(set(f[1] for f in self.unjoinable)))
                      if self.unjoinable else ""))

    def report_splits(self):
        limit_ms = (SPLIT_BOUND + SPLIT_ALLOWANCE) * 1000
        by_meeting = defaultdict(list)
        for c in self.history["copies"]:
            if c["meeting_id"].startswith(self.book.prefix):
                by_meeting[c["meeting_id"]].append(c)
        now = self.history_at
        overlaps = []
        moved = 0
        for mid, copies in by_meeting.items():
            if len({c["server"] for c in copies}) > 1:
                moved += 1
            for i in range(len(copies)):
                for j in range(i + 1, len(copies)):
                    a, b = copies[i], copies[j]
                    if a["server"] == b["server"]:
                        continue
                    start = max(a["created_ms"], b["created_ms"])
                    end = min(a["ended_ms"] or now, b["ended_ms"] or now)
                    if end <= start:
                        continue
                    holes = self.unreachable[a["server"]] + self.unreachable[b["server"]]
                    pieces = subtract((start, end), holes)
                    longest = max((e - s for s, e in pieces), default=0)
                    overlaps.append(dict(meeting=mid, a=a, b=b, start=start, end=end,
                                         longest=longest, running=a["ended_ms"] is None and
                                         b["ended_ms"] is None))
        # Copies still running of meetings the router said it ended (end acknowledged, or
        # answered notFound): a copy left behind by a move, never ended. Had the generator not
        # ended the meeting, it would be an overlap above.
        with self.book.lock:
            acked_end = {m.id: m for m in self.book.meetings.values()
                         if m.end_result in ("ok", "notFound")}
            created = set(self.book.meetings)
        leftovers = [c for mid, copies in by_meeting.items() for c in copies
                     if c["ended_ms"] is None and mid in acked_end]
        unacked = [c for mid, copies in by_meeting.items() for c in copies
                   if c["ended_ms"] is None and mid not in created]
        bad = [o for o in overlaps if o["longest"] > limit_ms]
        fine = [o for o in overlaps if o["longest"] <= limit_ms]
        copies = len(self.history["copies"])
        print(f"\n-- meetings on two servers at once (bbb-sim history, {copies}"
              f" copies, {self.history.get('dropped', 0)} dropped): {len(by_meeting)} meetings "
              f"of this run, {moved} ran on more than one server over time, {len(overlaps)} "
              f"overlapping pairs; bound POLL_INTERVAL + MEETING_GRACE_PERIOD + "
              f"{SPLIT_ALLOWANCE}s allowance = {limit_ms / 1000:.0f}s of overlap while both "
              "servers were reachable (time a server was down, hung or slower than "
              "RESPONSE_TIMEOUT is left out)")
        if fine:
            print(f"   {len(fine)} overlaps within the bound (longest "
                  f"{max(o['longest'] for o in fine) / 1000:.1f}s)")
        for c in leftovers:
            m = acked_end[c["meeting_id"]]
            print(f"   STALE {c['meeting_id']} still runs on server {c['server']} (since "
                  f"+{rel(c['created_ms']):.1f}s, {self.phase_at(c['created_ms']).name}) although "
                  f"its end answered {m.end_result} at +{rel(m.end_started_ms):.1f}s "
                  f"({self.phase_at(m.end_started_ms).name}); joined on servers {m.servers}")
        if unacked:
            print(f"   (not a check) {len(unacked)} copies still run of meetings whose create was "
                  "never acknowledged: " + ", ".join(
                      f"{c['meeting_id']} on server {c['server']} since "
                      f"+{rel(c['created_ms']):.1f}s" for c in unacked[:15]))
        for o in sorted(bad, key=lambda o: o["start"]):
            a, b = o["a"], o["b"]
            print(f"   SPLIT {o['meeting']}: servers {a['server']} & {b['server']} from "
                  f"+{rel(o['start']):.1f}s ({self.phase_at(o['start']).name}) to "
                  + ("still running" if o["running"] else f"+{rel(o['end']):.1f}s")
                  + f": {(o['end'] - o['start']) / 1000:.1f}s, {o['longest'] / 1000:.1f}s "
                  f"with both reachable (copies: server {a['server']} "
                  f"+{rel(a['created_ms']):.1f}s..{fmt_end(a['ended_ms'])}, server "
                  f"{b['server']} +{rel(b['created_ms']):.1f}s..{fmt_end(b['ended_ms'])})")
        self.check(f"meetings on two servers at once longer than {limit_ms / 1000:.0f}s",
                   not bad, f"{len({o['meeting'] for o in bad})} meetings "
                   f"({len(bad)} overlapping pairs)")
        self.check("ended meetings with a copy still running (left behind by a move)",
                   not leftovers, f"{len(leftovers)} copies")

    def window_bound(self, kinds):
        bounds = {"server": SERVER_BOUND, "store": STORE_BOUND, "quiet": QUIET_BOUND}
        return max(bounds[k] for k in kinds) + WINDOW_ALLOWANCE

    def outages(self, joins):
        """Per meeting, each run of failed joins (in start order) up to its next working join:
        (meeting, first failure start, next working join's start or last failure's start,
        recovered, failures)."""
        per = defaultdict(list)
        for j in joins:
            per[j[2]].append(j)
        out = []
        for mid, js in per.items():
            js.sort(key=lambda j: j[0])
            run = []
            for j in js:
                if j[3] != "ok":
                    run.append(j)
                elif run:
                    out.append((mid, run[0][0], j[0], True, run))
                    run = []
            if run:
                out.append((mid, run[0][0], run[-1][0], False, run))
        return sorted(out, key=lambda o: o[1])

    def report_windows(self):
        with self.book.lock:
            joins = list(self.book.joins)
        failures = [j for j in joins if j[3] != "ok"]
        windows = []  # [start, end, [outages]]
        # A meeting unjoinable for longer than any bound is a window of its own: merged, it
        # would swallow the windows of the phases it spans.
        longest_bound = (max(SERVER_BOUND, STORE_BOUND, QUIET_BOUND) + WINDOW_ALLOWANCE) * 1000
        outages = self.outages(joins)
        for o in outages:
            if o[2] - o[1] > longest_bound:
                continue
            if windows and o[1] <= windows[-1][1] + WINDOW_GAP * 1000:
                windows[-1][1] = max(windows[-1][1], o[2])
                windows[-1][2].append(o)
            else:
                windows.append([o[1], o[2], [o]])
        windows += [[o[1], o[2], [o]] for o in outages if o[2] - o[1] > longest_bound]
        windows.sort(key=lambda w: w[0])
        print(f"\n-- failed joins: {len(failures)} of {len(joins)}, in {len(windows)} windows. A "
              "join fails unless the router redirects to a server that admits the user within "
              f"{BBB_JOIN_TIMEOUT}s; a failing meeting is joined again every {JOIN_RETRY_EVERY}s."
              " A meeting's outage runs from its first failed join to its next working one; "
              f"outages less than {WINDOW_GAP:.0f}s apart make one window (one longer than every "
              "bound is a window of its own). Bounds: BBB server "
              f"fault {SERVER_DEATH_BOUND}s (SERVER_UNHEALTHY_THRESHOLD x POLL_INTERVAL + "
              f"POLL_TIMEOUT) + JOIN_CACHE_TTL; store fault {STORE_BOUND}s (2 x STORE_TIMEOUT + "
              f"JOIN_CACHE_TTL); no fault on the join path (router or poller killed) "
              f"JOIN_CACHE_TTL; each + {WINDOW_ALLOWANCE}s allowance (the 1s retry + "
              "scheduling) = "
              f"{SERVER_BOUND + WINDOW_ALLOWANCE}/{STORE_BOUND + WINDOW_ALLOWANCE}/"
              f"{QUIET_BOUND + WINDOW_ALLOWANCE}s")
        bad = 0
        for start, end, outs in windows:
            length = (end - start) / 1000
            phases = [ph for ph in self.phases
                      if ph.start <= end and (ph.end or now_ms()) >= start]
            phases = phases or [self.phase_at(start)]
            bound = self.window_bound({ph.kind for ph in phases})
            fails = [f for o in outs for f in o[4]]
            meetings = {o[0] for o in outs}
            longest = max((o[2] - o[1]) / 1000 for o in outs)
            unrecovered = {o[0] for o in outs if not o[3]}
            kinds = Counter(f[3] for f in fails)
            servers = Counter(f[5] for f in fails if f[5] is not None)
            messages = Counter(f"{f[3]}: {f[6]}" for f in fails if f[6])
            fault_at = [ph.fault_start for ph in phases if ph.fault_start]
            lag = f", {(start - fault_at[0]) / 1000:.1f}s after the fault" if fault_at and \
                fault_at[0] <= start else ""
            ok = length <= bound
            bad += not ok
            print(f"   [{'ok ' if ok else 'BAD'}] +{rel(start):6.1f}s{lag}: {length:5.1f}s (bound "
                  f"{bound:.0f}s), {len(fails)} failed joins of {len(meetings)} meetings, "
                  f"longest meeting outage {longest:.1f}s"
                  + (f", {len(unrecovered)} not joined again (ended, or retries given up)"
                     if unrecovered else "")
                  + f"; phase {'/'.join(ph.name for ph in phases)}; "
                  + ", ".join(f"{k} x{n}" for k, n in kinds.most_common())
                  + (f"; servers {dict(servers)}" if servers else ""))
            for text, n in messages.most_common(3):
                print(f"          {n} x {text[:160]}")
            if not ok:
                for o in sorted(outs, key=lambda o: o[1] - o[2])[:5]:
                    print(f"          {o[0]}: +{rel(o[1]):.1f}s..+{rel(o[2]):.1f}s "
                          f"{'' if o[3] else '(not joined again) '}{len(o[4])} failures, "
                          f"{Counter(f[3] for f in o[4]).most_common()}")
        self.check("join failure windows within their bound", bad == 0,
                   f"{bad} of {len(windows)} windows too long ({len(failures)} failed joins)")

    def report_health(self):
        """When Switchboard took each faulty BBB server offline, from the admin API."""
        limit = SERVER_DEATH_BOUND + 1
        print(f"\n-- BBB servers taken offline (admin API polled every 0.25 s): a dead server "
              f"within SERVER_UNHEALTHY_THRESHOLD x POLL_INTERVAL + POLL_TIMEOUT = "
              f"{SERVER_DEATH_BOUND}s (+1s allowance); one that answers (malformed, partial) "
              "never")
        late, wrongly = [], []
        for ph in self.phases:
            if ph.kind != "server":
                continue
            offline = next((t for t, online in ph.health if not online and t >= ph.fault_start),
                           None)
            back = next((t for t, online in ph.health if online and ph.fault_end and
                         t >= ph.fault_end), None)
            answers = ph.name in ("bbb-malformed", "bbb-partial")
            if offline is None:
                text = "never offline"
            else:
                text = f"offline {(offline - ph.fault_start) / 1000:.1f}s after the fault"
                if back:
                    text += f", online again {(back - ph.fault_end) / 1000:.1f}s after it cleared"
            if not ph.health:
                text = "no sample (admin API unreachable?)"
            bad = (answers and offline is not None) or (not answers and (
                offline is None or offline - ph.fault_start > limit * 1000))
            if bad:
                (wrongly if answers else late).append(ph)
            print(f"   [{'BAD' if bad else 'ok '}] {ph.name:<14} cycle {ph.cycle} server "
                  f"{ph.server}: {text}")
        self.check(f"dead BBB servers offline within {limit}s", not late,
                   f"{len(late)} late or never")
        self.check("BBB servers that answer (malformed, partial) stay online", not wrongly,
                   f"{len(wrongly)} taken offline")

    def report_takeovers(self):
        limit = TAKEOVER_BOUND + TAKEOVER_ALLOWANCE
        print(f"\n-- poller takeover after SIGKILL of the active poller (bound POLLER_LEASE_TTL "
              f"{TAKEOVER_BOUND}s + {TAKEOVER_ALLOWANCE}s):")
        for ph, took in self.takeovers:
            print(f"   cycle {ph.cycle}: " + (f"{took:.1f}s" if took is not None else
                                               "the standby never logged 'is active'"))
        slow = [t for _, t in self.takeovers if t is None or t > limit]
        self.check("standby poller takes over", bool(self.takeovers) and not slow,
                   f"{len(self.takeovers)} takeovers, {len(slow)} too slow or missing"
                   if self.takeovers else "the active poller was never identified in the logs")

    def report_ready(self):
        print("\n-- at the end: " + "; ".join(f"{name} /readyz {status} {body!r}"
                                              for name, status, body in self.ready)
              + "; pollers (last lease line of each log): "
              + ", ".join(f"{name} {state}" for name, state in self.leases))
        self.check("both routers ready at the end (/readyz 200)",
                   all(status == 200 for _, status, _ in self.ready),
                   ", ".join(f"{name} {status}" for name, status, _ in self.ready))

    def report_faults_and_exits(self):
        expected = {"router-kill", "poller-kill", "redis-kill-keep", "redis-kill-wipe",
                    "postgres-kill", "bbb-crash", "bbb-hang", "bbb-slow", "bbb-malformed",
                    "bbb-partial"}
        applied = {ph.name for ph in self.phases if ph.applied}
        missing = sorted(expected - applied)
        self.check("every fault injected", not missing,
                   f"{len(expected & applied)} of {len(expected)} kinds"
                   + (f", missing {missing}" if missing else "")
                   + f", {sum(1 for ph in self.phases if ph.applied)} phases")
        if self.unexpected_exits:
            print("\n-- processes that exited by themselves:")
            for e in self.unexpected_exits:
                print(f"   {e}")
        self.check("no switchboard process exited by itself", not self.unexpected_exits,
                   f"{len(self.unexpected_exits)} exits")

    def report_processes(self):
        print("\n-- switchboard processes: RSS (MB), open descriptors and threads at the start "
              "(end of the baseline) and at the end (after the final check)")
        print(f"   {'process':<10}{'pid':>8}{'RSS':>7}{'fds':>5}{'thr':>5}   {'pid':>8}{'RSS':>7}"
              f"{'fds':>5}{'thr':>5}{'ΔRSS':>8}{'Δfds':>6}  instances")
        for role, p in self.roles():
            s = self.start_table.get(role)
            e = self.end_table.get(role)
            line = f"   {role:<10}"
            line += (f"{s[0]:>8}{s[1] / 1024:>7.1f}{s[2]:>5}{s[3]:>5}" if s else f"{'-':>25}")
            line += "   " + (f"{e[0]:>8}{e[1] / 1024:>7.1f}{e[2]:>5}{e[3]:>5}" if e
                             else f"{'-':>25}")
            if s and e and s[0] == e[0]:
                line += f"{(e[1] - s[1]) / 1024:>+8.1f}{e[2] - s[2]:>+6}"
            else:
                line += f"{'(new pid)':>14}"
            line += f"  {len(p.instances)}"
            print(line)
        print("   descriptors by kind (TCP peers by role, with their state when not ESTABLISHED):")
        for label, table in (("start", self.start_fds), ("end", self.end_fds)):
            for role, (pid, kinds) in sorted(table.items()):
                print(f"   {label:<5} {role:<9} pid {pid:<7} " + ", ".join(
                    f"{k} {n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])))
        # Steady state: each process's growth between the samples taken at the end of every cycle
        # (the same point of the load each time), from the end of the first cycle on: the first
        # pass through the faults is the warm-up (worker threads and their store connections
        # grow to the size the hung and slow servers ask for).
        rss_limit_mb, rss_limit_pct, fd_limit = 16, 25, 16
        per_pid = defaultdict(list)
        for cycle, table in self.cycle_samples:
            for role, (pid, rss, fds, threads) in table.items():
                per_pid[(role, pid)].append((cycle, rss, fds, threads))
        growth = []
        for (role, pid), pts in per_pid.items():
            steady = [p for p in pts if p[0] >= 1]
            if len(steady) >= 2:
                (c0, r0, f0, t0), (c1, r1, f1, t1) = steady[0], steady[-1]
                over = (r1 - r0) / 1024 > max(rss_limit_mb, r0 / 1024 * rss_limit_pct / 100) \
                    or f1 - f0 > fd_limit
                growth.append((role, pid, c0, c1, r0, r1, f0, f1, t0, t1, over))
        trail = "; ".join(f"{role} {pid}: " + " -> ".join(
            f"c{c} {r / 1024:.1f}MB/{f}fd/{t}thr" for c, r, f, t in pts)
            for (role, pid), pts in per_pid.items() if len(pts) >= 2)
        if trail:
            print(f"   end-of-cycle samples: {trail}")
        if growth:
            print(f"   steady-state growth (from the end of cycle 1; beyond noise = RSS +"
                  f"{rss_limit_mb} MB or +{rss_limit_pct}%, whichever is larger, or +{fd_limit} "
                  "descriptors):")
            for role, pid, c0, c1, r0, r1, f0, f1, t0, t1, over in growth:
                print(f"   {'BEYOND' if over else 'ok    '} {role} pid {pid}: cycle {c0} -> "
                      f"{c1}: RSS {r0 / 1024:.1f} -> {r1 / 1024:.1f} MB, fds {f0} -> {f1}, "
                      f"threads {t0} -> {t1}")
        if self.args.mode == "long":
            over = [g for g in growth if g[10]]
            self.check("RSS and descriptors stable (long mode)", bool(growth) and not over,
                       f"{len(over)} of {len(growth)} processes beyond noise"
                       if growth else "no process lived through two cycles")


def fmt_end(ended):
    return "running" if ended is None else f"+{rel(ended):.1f}s"


def subtract(interval, holes):
    """The parts of [start, end) outside every hole."""
    pieces = [interval]
    for hs, he in holes:
        out = []
        for s, e in pieces:
            if he <= s or hs >= e:
                out.append((s, e))
                continue
            if hs > s:
                out.append((s, hs))
            if he < e:
                out.append((he, e))
        pieces = out
    return pieces


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--short", dest="mode", action="store_const", const="short",
                       help="every fault once, short phases (~3.5 min; what CI runs)")
    group.add_argument("--long", dest="mode", action="store_const", const="long",
                       help="10 minutes of load, the faults repeated in a cycle")
    parser.add_argument("--keep", action="store_true", help="keep the logs even when all pass")
    parser.add_argument("bin_dir", help="directory holding switchboard and bbb-sim")
    parser.set_defaults(mode="short")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("chaos: needs root (PostgreSQL runs as the postgres user)", file=sys.stderr)
        return 2
    become_subreaper()

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    # SIGINT too: a shell starts background jobs with SIGINT ignored, and Python then leaves it so.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)

    def overtime(signum, frame):
        raise SuiteError(f"the run exceeded its hard limit of {MODES[args.mode]['hard_limit']}s")

    signal.signal(signal.SIGALRM, overtime)
    signal.alarm(MODES[args.mode]["hard_limit"])
    chaos = None
    ok = False
    try:
        chaos = Chaos(args)
        chaos.run()
        signal.alarm(0)
        ok = chaos.report()
    except KeyboardInterrupt:
        print("\nchaos: interrupted", flush=True)
    except SuiteError as e:
        print(f"\nchaos: suite error: {e}", flush=True)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if chaos:
            cleanup(chaos, ok)
    if not ok and chaos and not chaos.checks:
        print("chaos: 0 passed, 1 failed (the run did not complete)")
    return 0 if ok else 1


def cleanup(chaos, ok):
    chaos.load.stop.set()
    chaos.sampler_stop.set()
    for p in chaos.routers + chaos.pollers:
        p.stop()
    chaos.sim.proc.stop()
    chaos.redis.stop()
    chaos.pg.stop()
    shutil.rmtree(RECORDING_DIR, ignore_errors=True)
    shutil.rmtree(chaos.pg.dir, ignore_errors=True)
    shutil.rmtree(chaos.redis.dir, ignore_errors=True)
    if ok and not chaos.args.keep:
        shutil.rmtree(chaos.root, ignore_errors=True)
    else:
        print(f"chaos: logs kept in {chaos.logs}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
