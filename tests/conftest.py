"""Shared fixtures: a real overcast process, openstacksdk connections, the openstack CLI."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# Bytecode is cached even where the machine sets PYTHONDONTWRITEBYTECODE: otherwise every
# test module's asserts are rewritten at each collection (~1.5 min here) and every `overcast
# up` the tests start compiles overcast again
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

from cloudproc import CloudProcess  # noqa: E402

# bcrypt cost 4 keeps test logins fast; the benchmark and real clouds use the default, 12
FAST_HASH = {"OVERCAST_IDENTITY_PASSWORD_HASH_ROUNDS": "4"}
OPENSTACK = str(Path(sys.executable).with_name("openstack"))


def _cost(item) -> int:
    """0: boots QEMU guests or needs the Ceph cluster, 1: other functional tests, 2: the rest."""
    if item.get_closest_marker("qemu") or "ceph_cluster" in item.fixturenames:
        return 0
    return 1 if item.nodeid.startswith("tests/functional/") else 2


def pytest_collection_modifyitems(config, items):
    """On pytest-xdist's workers: the slowest kinds first, so none is left running alone at
    the end (run.sh passes --no-loadscope-reorder, which keeps this order)."""
    if hasattr(config, "workerinput"):
        items.sort(key=_cost)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, unknown without it
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadscope`` (run.sh's default) hands a worker a whole file, or a whole class in
    files with classes, so module fixtures (clouds, guests) start once. The files that boot
    QEMU guests or use the Ceph cluster run in two lanes, each a whole worker's queue, so at
    most two of them boot guests at once (TCG on 2 cores) and one worker has every Ceph file
    (one cluster)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        lanes: dict[str, str] = {}

        def _split_scope(self, nodeid: str) -> str:
            parts = nodeid.split("[")[0].split("::")
            source = _source(parts[0])
            if "ceph_cluster" in source:
                return "qemu-0"
            if "mark.qemu" in source or "testguest.build(" in source:
                return self.lanes.setdefault(parts[0], f"qemu-{len(self.lanes) % 2}")
            return "::".join(parts[:2] if len(parts) > 2 else parts[:1])

    return Scheduling(config, log)


@functools.cache
def _source(path: str) -> str:
    return (Path(__file__).parent.parent / path).read_text()


@pytest.fixture(scope="session")
def cloud(tmp_path_factory):
    """One overcast for the whole test session."""
    data = tmp_path_factory.mktemp("cloud") / "data"
    proc = CloudProcess(data, env=FAST_HASH).start()
    yield proc
    assert proc.stop() == 0


def connect(cloud: CloudProcess, user: str = "admin", password: str | None = None, project: str | None = None,
            auth_type: str = "password", **auth):
    import openstack

    if auth_type != "password":
        return openstack.connect(auth_type=auth_type, auth={"auth_url": cloud.auth_url, **auth},
                                 region_name="RegionOne", identity_api_version="3")
    password = password if password is not None else cloud.passwords()[user]
    auth = {
        "auth_url": cloud.auth_url,
        "username": user,
        "password": password,
        "project_name": project or user,
        "user_domain_name": "Default",
        "project_domain_name": "Default",
        **auth,
    }
    return openstack.connect(auth=auth, region_name="RegionOne", identity_api_version="3")


@pytest.fixture(scope="session")
def ceph_cluster(tmp_path_factory):
    """One throw-away Ceph cluster (1 mon, 1 mgr, 1 OSD on loopback) for the session; skips
    without root or the Ceph packages. Purged at the end (tests/cephcluster.py)."""
    import cephcluster

    reason = cephcluster.why_not()
    if reason:
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("ceph")
    cluster = cephcluster.start(directory)
    yield cluster
    cephcluster.purge(directory)


@pytest.fixture(scope="session")
def admin(cloud):
    return connect(cloud)


@pytest.fixture(scope="session")
def demo(cloud):
    return connect(cloud, "demo")


def random_name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Cli:
    """Runs the real `openstack` CLI against a cloud; ``run`` returns parsed JSON."""

    def __init__(self, cloud: CloudProcess):
        self.cloud = cloud

    def env(self, cloud_name: str = "overcast", extra: dict | None = None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(OS_CLIENT_CONFIG_FILE=str(self.cloud.clouds_file), OS_CLOUD=cloud_name, **(extra or {}))
        return env

    def raw(self, *args, cloud_name="overcast", env=None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [OPENSTACK, *args], env=env or self.env(cloud_name), capture_output=True, text=True, timeout=120
        )

    def run(self, *args, cloud_name="overcast", env=None):
        result = self.raw(*args, "-f", "json", cloud_name=cloud_name, env=env)
        if result.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed: {result.stderr}")
        return json.loads(result.stdout) if result.stdout.strip() else None

    def ok(self, *args, cloud_name="overcast"):
        result = self.raw(*args, cloud_name=cloud_name)
        if result.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed: {result.stderr}")
        return result.stdout


@pytest.fixture(scope="session")
def cli(cloud):
    return Cli(cloud)


def make_vhost() -> str:
    """A fresh RabbitMQ vhost (guest may use it), so no other cloud on the broker shares its
    queues; skips without RabbitMQ, fails in CI."""
    import shutil

    ctl = shutil.which("rabbitmqctl")
    vhost = f"overcast-{uuid.uuid4().hex[:8]}"
    if ctl is None or subprocess.run([ctl, "add_vhost", vhost], capture_output=True, timeout=60).returncode != 0:
        if os.environ.get("CI"):
            pytest.fail("RabbitMQ (rabbitmqctl) is not usable in CI")
        pytest.skip("RabbitMQ not available")
    subprocess.run([ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True,
                   capture_output=True, timeout=60)
    return vhost


def drop_vhost(vhost: str) -> None:
    subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=60)


@pytest.fixture
def amqp_url():
    """The URL of a fresh RabbitMQ vhost (``make_vhost``), deleted after the test."""
    vhost = make_vhost()
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    drop_vhost(vhost)
