"""Server processes for benchmarks: start, time the cold start, read CPU and RSS from /proc, stop.

Everything here is stdlib only, so the benchmarks can run before the project's own
dependencies are importable.  All traffic is on loopback.
"""

from __future__ import annotations

import http.client as httpclient
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


# /proc readers -------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry))  # fields[1] is ppid
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its live descendants, all threads, in seconds."""
    total = 0
    for p in process_tree(pid):
        fields = _stat_fields(p)
        if fields:
            total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)
    return total / CLK_TCK


def thread_cpu(pid: int) -> dict[int, tuple[str, float, float]]:
    """{thread id: (name, user seconds, system seconds)} for every thread of ``pid``'s process tree."""
    out = {}
    for p in process_tree(pid):
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                raw = Path(f"/proc/{p}/task/{tid}/stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rindex(")") + 2:].split()
            out[int(tid)] = (raw[raw.index("(") + 1:raw.rindex(")")], int(fields[11]) / CLK_TCK,
                             int(fields[12]) / CLK_TCK)
    return out


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy (not idle or iowait) since boot, from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def rss_bytes(pid: int) -> int:
    """Sum of VmRSS over ``pid`` and its live descendants."""
    total = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            pass
    return total


def rss_of(pids: list[int]) -> int:
    """Sum of VmRSS over ``pids`` (those still alive)."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


class RssSampler:
    """Samples the RSS of ``pid``'s process tree every ``interval`` seconds in a thread.

    The tree is re-read every ``tree_every`` seconds (walking /proc costs a few ms);
    in between only the known pids' VmRSS is read. Use as a context manager, or
    ``start()`` / ``stop()``; ``samples`` holds (perf_counter time, bytes).
    """

    def __init__(self, pid: int, interval: float = 0.05, tree_every: float = 1.0):
        self.pid, self.interval, self.tree_every = pid, interval, tree_every
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def _loop(self) -> None:
        pids, listed = process_tree(self.pid), time.perf_counter()
        while True:
            now = time.perf_counter()
            if now - listed >= self.tree_every:
                pids, listed = process_tree(self.pid), now
            self.samples.append((now, rss_of(pids)))
            if self._stop.wait(self.interval):
                break

    def start(self) -> "RssSampler":
        self._thread.start()
        return self

    def stop(self) -> "RssSampler":
        self._stop.set()
        self._thread.join()
        return self

    def __enter__(self) -> "RssSampler":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def max(self) -> int:
        return max((b for _, b in self.samples), default=0)


# plain HTTP for set-up and readiness ----------------------------------------------------


def request(method: str, host: str, port: int, path: str, headers: dict | None = None, body: bytes | None = None,
         timeout: float = 30.0) -> tuple[int, dict, bytes]:
    conn = httpclient.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


# servers ---------------------------------------------------------------------------------


class Server:
    """A server run as a subprocess in its own session; stdout and stderr go to ``log_path``."""

    def __init__(self, name: str, cmd: list[str], port: int, ready_path: str, log_path: Path,
                 env: dict | None = None, cwd: str | None = None):
        self.name, self.cmd, self.port, self.ready_path = name, cmd, port, ready_path
        self.log_path, self.env, self.cwd = Path(log_path), env, cwd
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        if not port_is_free(self.port):
            raise RuntimeError(f"{self.name}: port {self.port} is already in use")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=self.env, cwd=self.cwd, start_new_session=True)
        log.close()

    def wait_ready(self, timeout: float = 120.0, interval: float = 0.005) -> float:
        """Seconds from process start to the first 200 on GET ``ready_path``."""
        deadline = self.started_at + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                status, _, _ = request("GET", "127.0.0.1", self.port, self.ready_path, timeout=5)
                if status == 200:
                    return time.perf_counter() - self.started_at
            except OSError:
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log_path}")
            time.sleep(interval)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def rss_bytes(self) -> int:
        return rss_bytes(self.pid)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the server; SIGKILL its own process group if it does not go."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group this Popen created (start_new_session)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        # workers that outlive their master would hold the port: wait until it is free
        for _ in range(200):
            if port_is_free(self.port):
                break
            time.sleep(0.05)
