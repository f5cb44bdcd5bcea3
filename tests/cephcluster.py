"""A throw-away one-node Ceph cluster for the tests (``tools/ceph-one-node.sh``).

``ceph_cluster`` (a session fixture, in conftest) starts one in a temp directory on
loopback ports nobody listens on, and purges it at the end by the pids in its pid files.
Tests that need it skip with the reason when this host cannot run it (not root, the Ceph
packages missing: ``./run.sh test`` installs them).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

TOOL = Path(__file__).resolve().parent.parent / "tools" / "ceph-one-node.sh"
PACKAGES = "ceph-mon ceph-osd ceph-mgr ceph-common"


@dataclass(frozen=True)
class CephCluster:
    dir: Path
    conf: Path
    keyring: Path
    pool: str

    def command(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a Ceph client command (``rbd``, ``rados``, ``ceph``) against this cluster."""
        return subprocess.run([argv[0], "--conf", str(self.conf), *argv[1:]], capture_output=True, text=True,
                              check=check, timeout=120)

    def images(self) -> list[str]:
        out = self.command("rbd", "ls", self.pool).stdout
        return sorted(out.split())

    def new_pool(self) -> str:
        """A fresh pool (application rbd), so tests do not see each other's images."""
        name = f"t-{uuid.uuid4().hex[:8]}"
        self.command("ceph", "osd", "pool", "create", name, "8", "8")
        self.command("ceph", "osd", "pool", "application", "enable", name, "rbd")
        return name

    def drop_pool(self, name: str) -> None:
        self.command("ceph", "osd", "pool", "rm", name, name, "--yes-i-really-really-mean-it", check=False)


def why_not() -> str | None:
    """Why this host cannot run the cluster, or None."""
    if os.geteuid() != 0:
        return "a Ceph cluster needs root"
    missing = [tool for tool in ("ceph-mon", "ceph-osd", "ceph-mgr", "ceph", "rbd") if shutil.which(tool) is None]
    if missing:
        return f"Ceph is not installed ({', '.join(missing)}; apt-get install {PACKAGES})"
    return None


def _free_port_base() -> int:
    """A port p with p, p+1 and p+10..p+99 free on 127.0.0.1 (mon v1, v2, the daemons)."""
    for base in range(17000, 30000, 100):
        ports = [base, base + 1, *range(base + 10, base + 100)]
        if all(_free(port) for port in ports):
            return base
    raise RuntimeError("no free loopback port range for Ceph")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start(directory: Path, pool: str = "volumes") -> CephCluster:
    env = {**os.environ, "CEPH_PORT": str(_free_port_base()), "CEPH_POOLS": pool, "CEPH_OSD_GB": "20"}
    done = subprocess.run([str(TOOL), "start", str(directory)], env=env, capture_output=True, text=True,
                          timeout=300)
    if done.returncode != 0:
        purge(directory)
        raise RuntimeError(f"the Ceph cluster did not start: {done.stderr.strip()[-2000:]}")
    return CephCluster(dir=directory, conf=directory / "ceph.conf", keyring=directory / "keyring", pool=pool)


def purge(directory: Path) -> None:
    subprocess.run([str(TOOL), "purge", str(directory)], capture_output=True, timeout=60)
