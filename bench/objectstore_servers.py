"""The two object stores under test for bench/objectstore.py: overcast and the real Swift, started fresh.

``Target`` is one running store: its process tree (procs.Server), the account's URL path
(``/swift/v1/AUTH_<project>`` on overcast, ``/v1/AUTH_test`` on Swift), its token, and calls
for set-up. ``start_overcast`` runs `overcast up` on a temp data dir and a free port and
takes the object-store endpoint from the token's catalog; ``start_swift`` runs the anchors'
Swift 2.38 (memcached + proxy, account, container and object servers, one replica) with a
fresh ring and device in the run's work dir, and logs in with tempauth.
"""

from __future__ import annotations

import http.client as httpclient
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import identity
import loadgen
import procs
from identity import ADMIN_PASSWORD, ANCHORS, HOST, RESULTS, log

SWIFT_PORTS = {"proxy": 18080, "account": 16202, "container": 16201, "object": 16200, "memcached": 11311}


class ObjectStoreMissing(RuntimeError):
    """This overcast has no object-store endpoint in its catalog."""


class Target:
    """One object store under test: its process tree, account path and token."""

    def __init__(self, name: str, server: procs.Server, prefix: str, token: str):
        self.name, self.server, self.prefix = name, server, prefix
        self.headers = {"X-Auth-Token": token}  # also read by image_transfer.put_file / get_file
        self.conn: httpclient.HTTPConnection | None = None  # kept alive for set-up calls
        self.info: dict = {}

    @property
    def port(self) -> int:
        return self.server.port

    def raw_call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, headers, body) of ``method prefix+path`` over a kept-alive connection; retried once."""
        hdrs = {**self.headers, **(headers or {})}
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = httpclient.HTTPConnection(HOST, self.port, timeout=600)
            try:
                self.conn.request(method, self.prefix + path, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
            except (httpclient.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if resp.will_close:
                self.close()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        raise AssertionError("unreachable")

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             expect: tuple[int, ...] = (200,)):
        status, hdrs, data = self.raw_call(method, path, body, headers)
        if status not in expect:
            raise RuntimeError(f"{self.name}: {method} {self.prefix}{path} answered {status}: {data[:300]!r}")
        return hdrs, data

    def create_container(self, name: str) -> None:
        self.call("PUT", f"/{name}", b"", expect=(201, 202))

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> bytes:
        """``method prefix+path`` encoded for loadgen."""
        return loadgen.build_request(method, HOST, self.port, self.prefix + path, {**self.headers, **(headers or {})},
                                     body)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def stop(self) -> None:
        self.close()
        self.server.stop()


class TreeServer(procs.Server):
    """A server whose processes leave its process group (Swift's servers call setsid): stopped
    by sending SIGTERM to each process of its tree, by pid, then SIGKILL to any left after
    ``timeout``."""

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        pids = procs.process_tree(self.pid)
        for pid in reversed(pids):  # children first, the launching shell last
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and [p for p in pids if _alive(p)]:
            time.sleep(0.05)
        for pid in pids:
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc.wait(5)
        for _ in range(200):
            if all(procs.port_is_free(p) for p in SWIFT_PORTS.values()):
                break
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return raw[raw.rindex(")") + 2:raw.rindex(")") + 3] != "Z"


# overcast ------------------------------------------------------------------------------------


def _catalog_endpoint(catalog: list[dict], service_type: str) -> str | None:
    for service in catalog:
        if service.get("type") == service_type:
            for endpoint in service.get("endpoints", []):
                if endpoint.get("interface") == "public":
                    return endpoint["url"]
    return None


def start_overcast(args, work: Path, logs: Path) -> tuple[Target, dict]:
    data_dir = work / "overcast"
    port = procs.free_port()
    server = procs.Server("overcast", identity.overcast_cmd(data_dir, port, args.overcast_log_level), port,
                          "/identity/v3", logs / "overcast.log", env=identity.clean_env(), cwd=str(work))
    server.start()
    try:
        ready = server.wait_ready()
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        status, hdrs, data = procs.request("POST", HOST, port, "/identity/v3/auth/tokens",
                                           {"Content-Type": "application/json"}, json.dumps(body).encode())
        if status != 201:
            raise RuntimeError(f"overcast: admin token failed: {status} {data[:300]!r}")
        catalog = json.loads(data)["token"].get("catalog", [])
        url = _catalog_endpoint(catalog, "object-store")
        if url is None:
            raise ObjectStoreMissing("overcast's catalog has no object-store endpoint (types: "
                                     + ", ".join(sorted(s.get("type", "?") for s in catalog)) + ")")
    except BaseException:
        server.stop()
        raise
    parts = urlsplit(url)
    if parts.port not in (None, port):
        log(f"overcast: the catalog says {url}; using port {port}")
    target = Target("overcast", server, parts.path.rstrip("/"), hdrs["x-subject-token"])
    _wait_account(target, server)
    log(f"overcast ready after {ready:.2f}s on port {port}; object store at {target.prefix} (data in {data_dir})")
    return target, {"ready_s": ready, "port": port, "data_dir": str(data_dir), "endpoint": url}


def _wait_account(target: Target, server: procs.Server, timeout: float = 30.0) -> None:
    """Until HEAD on the account answers 2xx (Swift's object servers start after its proxy)."""
    deadline = time.perf_counter() + timeout
    while True:
        try:
            status, _, data = target.raw_call("HEAD", "")
            if status in (200, 204):
                return
        except OSError as e:
            status, data = repr(e), b""
        if time.perf_counter() > deadline or server.proc.poll() is not None:
            raise RuntimeError(f"{target.name}: HEAD {target.prefix} answers {status} {data[:200]!r}; "
                               f"see {server.log_path}")
        time.sleep(0.1)


# Swift ---------------------------------------------------------------------------------------


def ensure_swift_venv(anchors_dir: Path) -> None:
    if (anchors_dir / "sw" / "bin" / "swift-proxy-server").exists():
        return
    log(f"installing Swift into {anchors_dir} with {ANCHORS / 'swift_setup.sh'} (a few minutes the first time) ...")
    (RESULTS / "logs").mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "logs" / "swift-setup.log", "ab") as out:
        subprocess.run(["bash", str(ANCHORS / "swift_setup.sh"), str(anchors_dir)], check=True, stdout=out,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def start_swift(args, work: Path, logs: Path) -> tuple[Target, dict]:
    """A fresh Swift (new rings and device) in ``work``/swift-run, sharing the anchors' venv."""
    if shutil.which("memcached") is None:
        raise RuntimeError("Swift's tempauth needs memcached: apt-get install memcached")
    busy = [f"{n} {p}" for n, p in SWIFT_PORTS.items() if not procs.port_is_free(p)]
    if busy:
        raise RuntimeError(f"Swift's ports are in use ({', '.join(busy)}): another Swift is running "
                           f"(stop it with {ANCHORS / 'swift_stop.sh'})")
    anchors_dir = Path(args.swift_dir)
    ensure_swift_venv(anchors_dir)
    sdir = work / "swift-run"
    sdir.mkdir()
    (sdir / "sw").symlink_to(anchors_dir / "sw")  # swift_setup.sh skips the install when the venv is there
    t0 = time.perf_counter()
    with open(logs / "swift-setup.log", "ab") as out:
        subprocess.run(["bash", str(ANCHORS / "swift_setup.sh"), str(sdir)], check=True, stdout=out,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=identity.clean_env())
    setup = time.perf_counter() - t0
    server = TreeServer("swift", ["bash", str(ANCHORS / "swift_foreground.sh"), str(sdir)], SWIFT_PORTS["proxy"],
                        "/healthcheck", logs / "swift.log", env=identity.clean_env())
    server.start()
    try:
        ready = server.wait_ready()
        status, hdrs, data = procs.request("GET", HOST, server.port, "/auth/v1.0",
                                           {"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
        if status != 200:
            raise RuntimeError(f"swift: tempauth answered {status}: {data[:300]!r}")
        target = Target("swift", server, urlsplit(hdrs["x-storage-url"]).path.rstrip("/"), hdrs["x-auth-token"])
        _wait_account(target, server)
    except BaseException:
        server.stop()
        raise
    log(f"swift ready after {ready:.2f}s on port {server.port}; account {target.prefix} "
        f"(fresh rings and device in {sdir}, set up in {setup:.1f}s)")
    return target, {"ready_s": ready, "setup_s": setup, "port": server.port, "dir": str(sdir),
                    "storage_url": hdrs["x-storage-url"]}
