"""Ceph RBD volumes on real guests, driven by the openstack CLI: `overcast up` with the qemu
compute driver and the rbd volume driver on a throw-away one-node Ceph cluster.

Volumes are RBD images (`volume-<id>` in the pool), a snapshot is an RBD snapshot and a
volume made from it a copy-on-write clone; `server add volume` hot-plugs the clone into a
running test guest, which sees a new disk holding the image's first bytes; `server remove
volume` takes it away. A guest boots from an RBD volume made from the test guest image,
writes its boot counter to it, and finds it again after a stop and start. QEMU never has
the Ceph key on its command line.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import Cli, random_name
from qemuguests import after_last_boot, console, qemu_pids, start_cloud, stop_cloud, wait_status, wait_volume
import testguest

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def rbd_cloud(tmp_path_factory, ceph_cluster):
    pool = ceph_cluster.new_pool()
    env = {"OVERCAST_VOLUME_DRIVER": "rbd", "OVERCAST_VOLUME_BACKEND_NAME": "rbd", "OVERCAST_VOLUME_RBD_POOL": pool,
           "OVERCAST_VOLUME_RBD_CEPH_CONF": str(ceph_cluster.conf),
           "OVERCAST_VOLUME_RBD_KEYRING": str(ceph_cluster.keyring)}
    proc = start_cloud(tmp_path_factory.mktemp("qemu-rbd") / "data", **env)
    proc.pool = pool
    yield proc
    stop_cloud(proc)
    ceph_cluster.drop_pool(pool)


@pytest.fixture(scope="module")
def rcli(rbd_cloud):
    return Cli(rbd_cloud)


def rbd_info(ceph_cluster, pool: str, volume_id: str) -> dict:
    return json.loads(ceph_cluster.command("rbd", "info", f"{pool}/volume-{volume_id}", "--format", "json").stdout)


def qemu_cmdlines(rbd_cloud) -> str:
    text = ""
    for pid in qemu_pids(str(rbd_cloud.data_dir)):
        text += Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return text


def test_rbd_volumes_snapshots_clones_attach_and_boot(rbd_cloud, rcli, ceph_cluster, tmp_path):
    cli, pool = rcli, rbd_cloud.pool
    key = ceph_cluster.command("ceph", "auth", "print-key", "client.admin").stdout.strip()
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(rbd_cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("r"))

    blank = cli.run("volume", "create", "--size", "1", random_name("blank"))
    wait_volume(cli, blank["id"], "available")
    assert rbd_info(ceph_cluster, pool, blank["id"])["size"] == 1 << 30

    head = f"HEAD-{random_name('r')[-8:]}".replace("_", "-")
    data = tmp_path / "data.raw"
    with open(data, "wb") as handle:
        handle.write(head.encode())
        handle.truncate(1 << 20)
    source_image = cli.run("image", "create", "--disk-format", "raw", "--container-format", "bare", "--file",
                           str(data), random_name("data"))
    source = cli.run("volume", "create", "--image", source_image["id"], "--size", "1", random_name("src"))
    wait_volume(cli, source["id"], "available")
    snapshot = cli.run("volume", "snapshot", "create", "--volume", source["id"], random_name("snap"))
    for _ in range(240):
        if cli.run("volume", "snapshot", "show", snapshot["id"])["status"] == "available":
            break
        time.sleep(0.5)
    clone = cli.run("volume", "create", "--snapshot", snapshot["id"], "--size", "1", random_name("clone"))
    wait_volume(cli, clone["id"], "available")
    assert rbd_info(ceph_cluster, pool, clone["id"])["parent"]["snapshot"] == f"snapshot-{snapshot['id']}"

    name = random_name("vm")
    cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", image["id"], "--wait", name)
    testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY")
    cli.ok("server", "add", "volume", name, clone["id"])
    assert wait_volume(cli, clone["id"], "in-use")["attachments"][0]["device"] == "/dev/vdb"
    testguest.wait_for(lambda: console(cli, name), f"OVERCAST-DISK-ADD vdb size_kb=1048576 head={head}")
    watchers = ceph_cluster.command("rbd", "status", f"{pool}/volume-{clone['id']}", "--format", "json").stdout
    assert json.loads(watchers)["watchers"], "QEMU holds the image open"
    assert key not in qemu_cmdlines(rbd_cloud)
    cli.ok("server", "remove", "volume", name, clone["id"])
    wait_volume(cli, clone["id"], "available")
    testguest.wait_for(lambda: after_last_boot(console(cli, name)).rsplit("OVERCAST-DISKS", 1)[-1], " vda vda1 \n")

    root = cli.run("volume", "create", "--image", image["id"], "--size", "1", "--bootable", random_name("root"))
    wait_volume(cli, root["id"], "available")
    by_volume = random_name("bfv")
    server = cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--volume", root["id"], "--wait",
                     by_volume)
    testguest.wait_for(lambda: console(cli, by_volume), "OVERCAST-READY")
    instance = rbd_cloud.data_dir / "compute" / "qemu" / "instances" / server["id"]
    assert not (instance / "disk.qcow2").exists()  # the RBD image is its root disk
    assert key not in qemu_cmdlines(rbd_cloud)
    cli.ok("server", "stop", by_volume)  # the boot counter is written to the RBD image
    wait_status(cli, by_volume, "SHUTOFF")
    cli.ok("server", "start", by_volume)
    testguest.wait_for(lambda: console(cli, by_volume), "OVERCAST-BOOTCOUNT 2")

    cli.ok("server", "delete", "--wait", name, by_volume)
    assert qemu_pids(str(rbd_cloud.data_dir)) == []
    for volume_id in (root["id"], clone["id"], blank["id"]):
        wait_volume(cli, volume_id, "available")
        cli.ok("volume", "delete", volume_id)
    cli.ok("volume", "snapshot", "delete", snapshot["id"])
    for _ in range(240):
        if not any(s["ID"] == snapshot["id"] for s in cli.run("volume", "snapshot", "list")):
            break
        time.sleep(0.5)
    cli.ok("volume", "delete", source["id"])
    for _ in range(240):
        if not cli.run("volume", "list"):
            break
        time.sleep(0.5)
    assert ceph_cluster.command("rbd", "ls", pool).stdout.split() == []  # deferred deletes done too
    for made in (image["id"], source_image["id"]):
        cli.ok("image", "delete", made)
    cli.ok("flavor", "delete", flavor["id"])
