"""Clustered volume agents (Cinder's active-active ``cluster`` option): two `overcast agent
volume` processes of one cluster on a shared Ceph pool, over RabbitMQ; and the file driver
refused for a cluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from cloudproc import CloudProcess
from conftest import FAST_HASH, connect

pytestmark = [pytest.mark.rabbitmq]


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def start_agent(tmp_path, amqp_url: str, host: str, env: dict) -> subprocess.Popen:
    log = open(tmp_path / f"volume-agent-{host}.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "overcast", "agent", "volume", "--host", host,
                             "--data-dir", str(tmp_path / host), "--bus-url", amqp_url], env={**os.environ, **env},
                            stdout=log, stderr=subprocess.STDOUT)


def test_a_cluster_on_the_file_driver_is_refused_at_agent_start(tmp_path, amqp_url):
    done = subprocess.run([sys.executable, "-m", "overcast", "agent", "volume", "--host", "lonely", "--driver", "file",
                           "--data-dir", str(tmp_path), "--bus-url", amqp_url],
                          env={**os.environ, "OVERCAST_VOLUME_CLUSTER": "mycluster"}, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    assert "Active-Active configuration is not currently supported by driver FileVolumeDriver" in done.stderr
    assert "Traceback" not in done.stderr


def test_two_agents_serve_one_cluster_and_survive_a_member(tmp_path, amqp_url, ceph_cluster):
    pool = ceph_cluster.new_pool()
    rbd = {"OVERCAST_VOLUME_DRIVER": "rbd", "OVERCAST_VOLUME_BACKEND_NAME": "rbd", "OVERCAST_VOLUME_RBD_POOL": pool,
           "OVERCAST_VOLUME_RBD_CEPH_CONF": str(ceph_cluster.conf),
           "OVERCAST_VOLUME_RBD_KEYRING": str(ceph_cluster.keyring), "OVERCAST_VOLUME_CLUSTER": "ceph1"}
    cloud = CloudProcess(tmp_path / "data", env={**FAST_HASH, "OVERCAST_BUS_URL": amqp_url,
                                                 "OVERCAST_VOLUME_AGENT": "false"}).start()
    agents = {host: start_agent(tmp_path, amqp_url, host, rbd) for host in ("node-a", "node-b")}
    try:
        admin = connect(cloud)
        http = httpx.Client(base_url=f"{cloud.url}/volume/v3/{admin.current_project_id}", timeout=30,
                            headers={"X-Auth-Token": admin.auth_token, "OpenStack-API-Version": "volume 3.70"})

        def services():
            return {s["host"]: s for s in http.get("/os-services?binary=cinder-volume").json()["services"]}

        def cluster():
            return http.get("/clusters/ceph1@rbd?binary=cinder-volume").json().get("cluster", {})

        wait_for(lambda: [s["state"] for s in services().values()] == ["up", "up"], 60, "both members up")
        assert {host: s["cluster"] for host, s in services().items()} == {"node-a@rbd": "ceph1@rbd",
                                                                         "node-b@rbd": "ceph1@rbd"}
        shown = cluster()
        assert (shown["state"], shown["status"], shown["num_hosts"], shown["num_down_hosts"]) == ("up", "enabled", 2, 0)
        assert http.get("/clusters").json() == {"clusters": [{"name": "ceph1@rbd", "binary": "cinder-volume",
                                                              "state": "up", "status": "enabled",
                                                              "replication_status": "disabled"}]}
        volume = admin.block_storage.create_volume(size=1, name="clustered")
        volume = admin.block_storage.wait_for_status(volume, "available", interval=0.5, wait=120)
        body = http.get(f"/volumes/{volume.id}").json()["volume"]
        assert body["cluster_name"] == "ceph1@rbd#rbd" and body["os-vol-host-attr:host"] in ("node-a@rbd#rbd",
                                                                                             "node-b@rbd#rbd")
        # the member that made it dies: the other takes the work on it
        owner = body["os-vol-host-attr:host"].split("@")[0]
        agents[owner].send_signal(signal.SIGKILL)
        agents[owner].wait(timeout=30)
        snapshot = admin.block_storage.create_snapshot(volume_id=volume.id, name="clustered-snap")
        snapshot = admin.block_storage.wait_for_status(snapshot, "available", interval=0.5, wait=120)
        admin.block_storage.extend_volume(volume, 2)
        wait_for(lambda: admin.block_storage.get_volume(volume).size == 2, 120, "the extend")
        clone = admin.block_storage.create_volume(size=2, snapshot_id=snapshot.id, name="clustered-clone")
        clone = admin.block_storage.wait_for_status(clone, "available", interval=0.5, wait=120)
        assert f"volume-{clone.id}" in ceph_cluster.command("rbd", "ls", pool).stdout.split()
        wait_for(lambda: cluster().get("num_down_hosts") == 1, 150, "the dead member counted down")
        assert cluster()["state"] == "up"
        # a disabled cluster takes no new volumes
        disabled = http.put("/clusters/disable", json={"name": "ceph1@rbd", "disabled_reason": "maintenance"})
        assert disabled.json()["cluster"]["status"] == "disabled"
        assert disabled.json()["cluster"]["disabled_reason"] == "maintenance"
        refused = admin.block_storage.create_volume(size=1, name="nowhere")
        refused = admin.block_storage.wait_for_status(refused, "error", interval=0.5, wait=60)
        enabled = http.put("/clusters/enable", json={"name": "ceph1@rbd"}).json()["cluster"]
        assert enabled["status"] == "enabled" and enabled["disabled_reason"] is None
        for made in (clone, refused):
            admin.block_storage.delete_volume(made)
            admin.block_storage.wait_for_delete(made, interval=0.5, wait=120)
        admin.block_storage.delete_snapshot(snapshot)
        admin.block_storage.wait_for_delete(snapshot, interval=0.5, wait=120)
        admin.block_storage.delete_volume(volume)
        admin.block_storage.wait_for_delete(volume, interval=0.5, wait=120)
        assert ceph_cluster.command("rbd", "ls", pool).stdout.split() == []
        http.close()
    finally:
        for proc in agents.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
        assert cloud.stop() == 0
        ceph_cluster.drop_pool(pool)
