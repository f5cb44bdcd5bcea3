"""The private clouds bench/compute.py measures: `overcast up` (and `overcast agent compute`) on
a temp data dir and a free loopback port, an admin client for set-up calls, and requests
pre-encoded for loadgen.

``Cloud`` is one running all-in-one: its process, admin token and project, a kept-alive
connection for set-up calls, and ``raw()`` to build a request loadgen can send.
``start_cloud`` starts one sized by OVERCAST_COMPUTE_* variables; ``start_agent`` starts an
extra compute agent against it (shared database and RabbitMQ); ``Vhost`` makes a private
RabbitMQ virtual host so the run's queues never meet another cloud's on the same broker.
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
from identity import ADMIN_PASSWORD, HOST, log

COMPUTE = "/compute/v2.1"


class Cloud:
    def __init__(self, server: procs.Server, data_dir: Path):
        self.server, self.data_dir = server, data_dir
        self.token = self.project_id = ""
        self.conn: httpclient.HTTPConnection | None = None
        self.agents: list[procs.Server] = []

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def auth_url(self) -> str:
        return f"http://{HOST}:{self.port}/identity/v3"

    def login(self) -> None:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        status, hdrs, data = procs.request("POST", HOST, self.port, "/identity/v3/auth/tokens",
                                           {"Content-Type": "application/json"}, json.dumps(body).encode())
        if status != 201:
            raise RuntimeError(f"overcast: admin token failed: {status} {data[:300]!r}")
        self.token = hdrs["x-subject-token"]
        self.project_id = json.loads(data)["token"]["project"]["id"]

    def headers(self, version: str | None = None, body: bool = False) -> dict:
        out = {"X-Auth-Token": self.token}
        if version:
            out["OpenStack-API-Version"] = f"compute {version}"
        if body:
            out["Content-Type"] = "application/json"
        return out

    def call(self, method: str, path: str, body=None, version: str | None = None, expect=(200,), raw_body=None,
             content_type: str | None = None):
        """JSON call over a kept-alive connection (``path`` from the root: /compute/v2.1/...)."""
        data = json.dumps(body).encode() if body is not None else raw_body
        hdrs = {"Accept": "application/json", **self.headers(version, body is not None)}
        if content_type:
            hdrs["Content-Type"] = content_type
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = httpclient.HTTPConnection(HOST, self.port, timeout=600)
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                out = resp.read()
            except (httpclient.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            if resp.will_close:
                self.conn.close()
                self.conn = None
            if resp.status not in expect:
                raise RuntimeError(f"{method} {path} answered {resp.status}: {out[:400]!r}")
            return json.loads(out) if out[:1] in (b"{", b"[") else None
        raise AssertionError("unreachable")

    def raw(self, method: str, path: str, body=None, version: str | None = None) -> bytes:
        """``method path`` encoded once for loadgen."""
        import loadgen

        data = json.dumps(body).encode() if body is not None else b""
        return loadgen.build_request(method, HOST, self.port, path, self.headers(version, body is not None), data)

    # set-up --------------------------------------------------------------------------------

    def make_image(self, name: str = "bench-tiny") -> str:
        """An active 1 KiB raw image (the fake driver never reads it)."""
        image = self.call("POST", "/image/v2/images", {"name": name, "disk_format": "raw",
                                                       "container_format": "bare", "visibility": "public"},
                          expect=(201,))
        self.call("PUT", f"/image/v2/images/{image['id']}/file", raw_body=b"\0" * 1024,
                  content_type="application/octet-stream", expect=(204,))
        return image["id"]

    def unlimited_quotas(self) -> None:
        self.call("PUT", f"{COMPUTE}/os-quota-sets/{self.project_id}",
                  {"quota_set": {"instances": -1, "cores": -1, "ram": -1}})

    def hypervisors(self) -> list[dict]:
        return self.call("GET", f"{COMPUTE}/os-hypervisors/detail", version="2.1")["hypervisors"]

    def count(self, query: str) -> int:
        """Servers matching ``query`` (1000 a page, following the links)."""
        total, marker = 0, ""
        while True:
            page = self.call("GET", f"{COMPUTE}/servers?limit=1000&{query}{marker}")["servers"]
            total += len(page)
            if len(page) < 1000:
                return total
            marker = f"&marker={page[-1]['id']}"

    def wait_settled(self, timeout: float, interval: float = 0.25) -> float:
        """Seconds until no server of the project is in BUILD."""
        t0 = time.perf_counter()
        while self.call("GET", f"{COMPUTE}/servers?status=BUILD&limit=1")["servers"]:
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"servers still building after {timeout:.0f}s")
            time.sleep(interval)
        return time.perf_counter() - t0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def stop(self) -> None:
        self.close()
        for agent in self.agents:
            agent.stop()
        self.server.stop()


def _overcast() -> list[str]:
    exe = Path(sys.executable).parent / "overcast"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "overcast"]


def start_cloud(name: str, work: Path, logs: Path, env_extra: dict, log_level: str | None = None,
                database_url: str | None = None, bus_url: str | None = None) -> tuple[Cloud, dict]:
    data_dir = work / name
    port = procs.free_port()
    cmd = identity.overcast_cmd(data_dir, port, log_level)
    if database_url:
        cmd += ["--database-url", database_url]
    if bus_url:
        cmd += ["--bus-url", bus_url]
    env = {**identity.clean_env(), **env_extra}
    server = procs.Server(name, cmd, port, "/compute/", logs / f"{name}.log", env=env, cwd=str(work))
    server.start()
    ready = server.wait_ready()
    cloud = Cloud(server, data_dir)
    cloud.login()
    log(f"{name}: overcast ready after {ready:.2f}s on port {port} (data in {data_dir})")
    return cloud, {"ready_s": ready, "port": port, "data_dir": str(data_dir), "env": env_extra}


def agent_help() -> tuple[bool, str]:
    """Whether this overcast has `overcast agent compute`, and its --help text."""
    done = subprocess.run(_overcast() + ["agent", "compute", "--help"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=identity.clean_env(), timeout=60)
    text = (done.stdout + done.stderr).strip()
    return done.returncode == 0 and "--host" in text, text


def start_agent(cloud: Cloud, host: str, logs: Path, env_extra: dict, database_url: str, bus_url: str,
                wait: float = 60.0) -> float:
    """`overcast agent compute --host HOST --bus-url URL` against ``cloud`` (plus --database-url when the
    command takes it); seconds until its hypervisor is listed and up."""
    cmd = _overcast() + ["agent", "compute", "--host", host, "--bus-url", bus_url]
    if "--database-url" in agent_help()[1]:
        cmd += ["--database-url", database_url]
    env = {**identity.clean_env(), **env_extra}
    log_path = logs / f"agent-{host}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    agent = procs.Server(f"agent-{host}", cmd, 0, "", log_path, env=env)  # port 0: it listens on none
    agent.start()
    cloud.agents.append(agent)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < wait:
        if agent.proc.poll() is not None:
            raise RuntimeError(f"agent {host} exited with {agent.proc.returncode}; see {log_path}")
        if any(h["service"]["host"] == host and h["state"] == "up" for h in cloud.hypervisors()):
            return time.perf_counter() - t0
        time.sleep(0.1)
    raise RuntimeError(f"agent {host} did not register within {wait:.0f}s; see {log_path}")


class Vhost:
    """A private RabbitMQ virtual host for one run (rabbitmqctl; the broker on this machine)."""

    def __init__(self, name: str, broker: str = "amqp://guest:guest@127.0.0.1:5672"):
        self.name, self.broker = name, broker.rstrip("/")

    @property
    def url(self) -> str:
        return f"{self.broker}/{self.name}"

    def __enter__(self) -> "Vhost":
        for argv in (["add_vhost", self.name], ["set_permissions", "-p", self.name, "guest", ".*", ".*", ".*"]):
            subprocess.run(["rabbitmqctl", *argv], check=True, capture_output=True, stdin=subprocess.DEVNULL,
                           timeout=60)
        return self

    def __exit__(self, *exc) -> None:
        subprocess.run(["rabbitmqctl", "delete_vhost", self.name], capture_output=True, stdin=subprocess.DEVNULL,
                       timeout=60)
