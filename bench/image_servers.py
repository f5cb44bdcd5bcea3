"""The two image services under test for bench/image.py: overcast and Glance, started fresh.

``Target`` is one running service: its process (procs.Server), URL prefix, auth headers and
where it stores image files; ``start_overcast`` and ``start_glance`` start one on a free
loopback port in the run's work dir and wait until it answers.
"""

from __future__ import annotations

import http.client as httpclient
import json
import subprocess
import sys
import time
from pathlib import Path

import identity
import procs
from identity import log

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ANCHORS = identity.ANCHORS
HOST = "127.0.0.1"


class Target:
    """One image service under test: its process, URL prefix, auth headers and where it stores files."""

    def __init__(self, name: str, server: procs.Server, prefix: str, store_dir: Path):
        self.name, self.server, self.prefix, self.store_dir = name, server, prefix, store_dir
        self.headers: dict[str, str] = {}
        self.conn: httpclient.HTTPConnection | None = None  # kept alive for API calls (reconnects itself)

    @property
    def port(self) -> int:
        return self.server.port

    def _conn(self) -> httpclient.HTTPConnection:
        if self.conn is None:
            self.conn = httpclient.HTTPConnection(HOST, self.port, timeout=120)
        return self.conn

    def raw_call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, headers, body bytes) over the kept-alive connection; retried once on a closed one."""
        hdrs = {"Accept": "application/json", **self.headers, **(headers or {})}
        for attempt in (1, 2):
            conn = self._conn()
            try:
                conn.request(method, self.prefix + path, body=body, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
            except (httpclient.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                if attempt == 2:
                    raise
                continue
            if resp.will_close:
                conn.close()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        raise AssertionError("unreachable")

    def call(self, method: str, path: str, body=None, expect: tuple[int, ...] = (200,)):
        raw = json.dumps(body).encode() if body is not None else None
        status, hdrs, data = self.raw_call(method, path, raw, {"Content-Type": "application/json"} if raw else None)
        if status not in expect:
            raise RuntimeError(f"{self.name}: {method} {path} answered {status}: {data[:300]!r}")
        return json.loads(data) if data[:1] in (b"{", b"[") else None

    def create_image(self, name: str) -> str:
        body = self.call("POST", "/v2/images", {"name": name, "disk_format": "raw", "container_format": "bare"},
                         expect=(201,))
        return body["id"]

    def delete_image(self, image_id: str) -> None:
        self.call("DELETE", f"/v2/images/{image_id}", expect=(204,))

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def overcast_token(port: int, password: str) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    status, hdrs, data = procs.request("POST", HOST, port, "/identity/v3/auth/tokens",
                                       {"Content-Type": "application/json"}, json.dumps(body).encode())
    if status != 201:
        raise RuntimeError(f"overcast: admin token failed: {status} {data[:300]!r}")
    return hdrs["x-subject-token"]


def read_passwords(path: Path) -> dict[str, str]:
    """passwords.yaml is flat 'user: password' lines."""
    out = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith((" ", "#")):
            out[key.strip()] = value.strip().strip("'\"")
    return out


def start_overcast(args, work: Path, logs: Path) -> tuple[Target, dict]:
    data_dir = work / "overcast"
    port = procs.free_port()
    exe = Path(sys.executable).parent / "overcast"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "overcast"]
    cmd += ["up", "--data-dir", str(data_dir), "--port", str(port)]
    if args.overcast_log_level:
        cmd += ["--log-level", args.overcast_log_level]
    env = identity.clean_env()
    # the default allows 1000 images per project: the list needs --images of them plus the uploads
    env["OVERCAST_IMAGE_MAX_IMAGES_PER_PROJECT"] = "-1"
    server = procs.Server("overcast", cmd, port, "/image/versions", logs / "overcast.log", env=env, cwd=str(work))
    server.start()
    ready = server.wait_ready()
    log(f"overcast ready after {ready:.3f}s on port {port} (data in {data_dir})")
    target = Target("overcast", server, "/image", data_dir / "images")
    password = read_passwords(data_dir / "passwords.yaml")["admin"]
    target.headers = {"X-Auth-Token": overcast_token(port, password)}
    return target, {"ready_s": ready, "data_dir": str(data_dir), "port": port}


def ensure_glance_venv(anchors_dir: Path) -> None:
    if (anchors_dir / "gl" / "bin" / "glance-manage").exists() and (anchors_dir / "gl" / "bin" / "uwsgi").exists():
        return
    script = ANCHORS / "glance_setup.sh"
    log(f"installing Glance into {anchors_dir} with {script} (a few minutes the first time) ...")
    (RESULTS / "logs").mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "logs" / "glance-setup.log", "ab") as out:
        subprocess.run(["bash", str(script), str(anchors_dir)], check=True, stdout=out, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL)


def start_glance(args, work: Path, logs: Path) -> tuple[Target, dict]:
    """A fresh Glance (new SQLite database and file store) in ``work``/glance-run, sharing the anchors' venv."""
    anchors_dir = Path(args.glance_dir)
    ensure_glance_venv(anchors_dir)
    gdir = work / "glance-run"
    gdir.mkdir()
    (gdir / "gl").symlink_to(anchors_dir / "gl")  # glance_setup.sh skips the install when the venv is there
    t0 = time.perf_counter()
    with open(logs / "glance-setup.log", "ab") as out:
        subprocess.run(["bash", str(ANCHORS / "glance_setup.sh"), str(gdir)], check=True, stdout=out,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=identity.clean_env())
    setup = time.perf_counter() - t0
    port = procs.free_port()
    cmd = ["bash", str(ANCHORS / "glance_start.sh"), str(gdir), str(port), "exec"]
    server = procs.Server("glance", cmd, port, "/v2/images", logs / "glance-uwsgi.log", env=identity.clean_env())
    server.start()
    ready = server.wait_ready()
    log(f"glance ready after {ready:.3f}s on port {port} (fresh database and store in {gdir}, set up in {setup:.1f}s)")
    return Target("glance", server, "", gdir / "glance" / "images"), {"ready_s": ready, "setup_s": setup,
                                                                       "dir": str(gdir), "port": port}
