"""Start and stop a real `overcast up` process for tests (its own data dir and port)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CloudProcess:
    """One overcast all-in-one process. ``env`` adds OVERCAST_* settings."""

    def __init__(self, data_dir: Path, port: int | None = None, env: dict | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.env = env or {}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity/v3"

    @property
    def clouds_file(self) -> Path:
        return self.data_dir / "clouds.yaml"

    def passwords(self) -> dict:
        return yaml.safe_load((self.data_dir / "passwords.yaml").read_text())

    def start(self, timeout: float = 120.0) -> "CloudProcess":
        # the fake drivers unless a test asks for real ones (auto would pick qemu and linux as root)
        env = {**os.environ, "OVERCAST_COMPUTE_DRIVER": "fake", "OVERCAST_NETWORK_DRIVER": "fake", **self.env}
        log = open(self.data_dir.parent / f"overcast-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "overcast", "up", "--data-dir", str(self.data_dir), "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"overcast exited with {self.proc.returncode}; see {log.name}")
            try:
                if httpx.get(f"{self.auth_url}", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("overcast did not answer in time")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code, self.proc = self.proc.returncode, None
        return code
