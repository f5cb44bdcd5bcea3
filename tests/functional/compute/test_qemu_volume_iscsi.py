"""Volumes over iSCSI, with QoS limits, grown while attached, on a real test guest.

`overcast up` with the qemu compute driver and the file volume driver exporting volumes
through tgtd (`volume.target_helper = tgtadm`, raw files). A volume of a type with
front-end QoS specs is attached to a running guest (`server add volume`): QEMU logs in to
the volume's target with its own initiator and CHAP, the guest writes to the disk and
reads it back (a user-data script on the config drive prints what it sees), the throttle
is in QEMU's `query-block`, the CHAP password is nowhere on QEMU's command line or in the
cloud's log. `volume set --size 2` on the attached volume (3.42) reaches the guest, whose
/sys/block/vdb/size grows. After `server remove volume` the target is gone.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import Cli, random_name
from guestscripts import MARK, WATCH_VDB
from qemuguests import console, qemu_pids, start_cloud, stop_cloud, wait_status, wait_volume
import testguest

pytestmark = pytest.mark.qemu

def tgt_targets() -> str:
    done = subprocess.run(["tgtadm", "--lld", "iscsi", "--mode", "target", "--op", "show"], capture_output=True,
                          text=True)
    return done.stdout if done.returncode == 0 else ""


def tgtd_running() -> bool:
    return subprocess.run(["tgtadm", "--lld", "iscsi", "--mode", "target", "--op", "show"],
                          capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def iscsi_cloud(tmp_path_factory):
    reason = testguest.iscsi_missing()
    if reason:
        pytest.skip(reason)
    had_tgtd = tgtd_running()
    proc = start_cloud(tmp_path_factory.mktemp("qemu-iscsi") / "data", OVERCAST_VOLUME_TARGET_HELPER="tgtadm",
                       OVERCAST_VOLUME_FILE_FORMAT="raw")
    try:
        yield proc
    finally:
        stop_cloud(proc)
        if not had_tgtd and tgtd_running():  # the cloud's volume agent started it
            subprocess.run(["tgtadm", "--lld", "iscsi", "--mode", "system", "--op", "delete", "--force"],
                           capture_output=True)


def query_block(data_dir, server_id: str) -> list[dict]:
    from overcast.compute.drivers.qemu.layout import run_dir_for
    from overcast.compute.drivers.qemu.qmp import QMPSession

    socket = run_dir_for((data_dir / "compute" / "qemu").resolve()) / f"{server_id}.qmp"
    with QMPSession(str(socket)) as session:
        return session.execute("query-block")


def test_an_iscsi_volume_with_qos_is_attached_grown_and_removed(iscsi_cloud, tmp_path):
    cli = Cli(iscsi_cloud)
    data_dir = iscsi_cloud.data_dir
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(iscsi_cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    qos = cli.run("volume", "qos", "create", "--consumer", "front-end", "--property", "total_bytes_sec=4194304",
                  "--property", "total_iops_sec=200", random_name("qos"))
    vtype = cli.run("volume", "type", "create", random_name("limited"))
    cli.ok("volume", "qos", "associate", qos["id"], vtype["id"])

    head = f"HEAD-{random_name('v')[-8:]}"
    raw = tmp_path / "data.raw"
    with open(raw, "wb") as handle:
        handle.write(head.encode())
        handle.truncate(1 << 20)
    source = cli.run("image", "create", "--disk-format", "raw", "--container-format", "bare", "--file", str(raw),
                     random_name("data"))
    volume = cli.run("volume", "create", "--image", source["id"], "--size", "1", "--type", vtype["id"],
                     random_name("vol"))
    wait_volume(cli, volume["id"], "available")
    script = tmp_path / "watch.sh"
    script.write_text(WATCH_VDB)
    name = random_name("vm")
    server = cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--image", image["id"],
                     "--config-drive", "true", "--user-data", str(script), "--wait", name)
    try:
        testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY")
        cli.ok("server", "add", "volume", name, volume["id"])
        wait_volume(cli, volume["id"], "in-use")
        iqn = f"iqn.2010-10.org.openstack:volume-{volume['id']}"
        assert iqn in tgt_targets()
        testguest.wait_for(lambda: console(cli, name), f"OVERCAST-DISK-ADD vdb size_kb=1048576 head={head}")
        testguest.wait_for(lambda: console(cli, name), f"OVERCAST-UD VDB-READ {MARK}")
        testguest.wait_for(lambda: console(cli, name), "OVERCAST-UD VDB-SIZE 2097152")

        # QEMU's own initiator holds the session; the CHAP password is in no argv and no log
        blocks = [b for b in query_block(data_dir, server["id"]) if (b.get("inserted") or {}).get("node-name", "")
                  .startswith("vol-")]
        assert len(blocks) == 1
        inserted = blocks[0]["inserted"]
        assert inserted["image"]["filename"].startswith("json:") and iqn in inserted["image"]["filename"]
        assert inserted["bps"] == 4194304 and inserted["iops"] == 200
        assert inserted["bps_rd"] == inserted["bps_wr"] == inserted["iops_rd"] == inserted["iops_wr"] == 0
        password = json.loads((data_dir / "volume-targets" / f"{volume['id']}.json").read_text())["password"]
        for pid in qemu_pids(str(data_dir)):
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                assert password.encode() not in handle.read()
        for log in data_dir.rglob("*.log"):
            assert password not in log.read_text(errors="replace"), log

        # grown while attached (3.42): the guest's disk shows 2 GiB
        cli.ok("--os-volume-api-version", "3.42", "volume", "set", "--size", "2", volume["id"])
        shown = wait_volume(cli, volume["id"], "in-use")
        assert shown["size"] == 2
        testguest.wait_for(lambda: console(cli, name), "OVERCAST-UD VDB-SIZE 4194304")

        cli.ok("server", "remove", "volume", name, volume["id"])
        wait_volume(cli, volume["id"], "available")
        assert iqn not in tgt_targets()
        assert not (data_dir / "volume-targets" / f"{volume['id']}.json").exists()
        with open(data_dir / "volumes" / f"volume-{volume['id']}.raw", "rb") as handle:
            handle.seek(1 << 20)
            assert handle.read(len(MARK)) == MARK.encode()
        assert os.path.getsize(data_dir / "volumes" / f"volume-{volume['id']}.raw") == 2 << 30
    finally:
        cli.raw("server", "delete", "--wait", name)
        cli.raw("volume", "delete", volume["id"])
        cli.raw("image", "delete", image["id"], source["id"])
        cli.raw("flavor", "delete", flavor["id"])


def test_a_guest_boots_from_an_iscsi_volume_through_stop_start_reboot_and_delete(iscsi_cloud):
    """`--block-device ...,boot_index=0,delete_on_termination=true` from the test guest's
    image: the root disk is the volume's LUN through QEMU's initiator (no disk file of the
    guest's own), kept over a stop/start and a hard reboot; deleting the server removes the
    target and the volume."""
    cli = Cli(iscsi_cloud)
    data_dir = iscsi_cloud.data_dir
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(iscsi_cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    before = {v["ID"] for v in cli.run("volume", "list")}
    name = random_name("bfv")
    try:
        server = cli.run("server", "create", "--nic", "none", "--flavor", flavor["id"], "--block-device",
                         f"uuid={image['id']},source_type=image,destination_type=volume,volume_size=1,boot_index=0,"
                         "delete_on_termination=true", "--wait", name)
        testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY", timeout=300)
        (volume_id,) = {v["ID"] for v in cli.run("volume", "list")} - before
        assert wait_volume(cli, volume_id, "in-use")["attachments"][0]["device"] == "/dev/vda"
        iqn = f"iqn.2010-10.org.openstack:volume-{volume_id}"
        assert iqn in tgt_targets()
        instance = data_dir / "compute" / "qemu" / "instances" / server["id"]
        assert not (instance / "disk.qcow2").exists() and not list(instance.glob("sec-*.key"))
        (root,) = [b for b in query_block(data_dir, server["id"])
                   if (b.get("inserted") or {}).get("node-name") == "root"]
        assert iqn in root["inserted"]["image"]["filename"]
        password = json.loads((data_dir / "volume-targets" / f"{volume_id}.json").read_text())["password"]
        for pid in qemu_pids(str(data_dir)):
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                assert password.encode() not in handle.read()

        cli.ok("server", "stop", name)  # the boot counter is written to the volume
        wait_status(cli, name, "SHUTOFF")
        cli.ok("server", "start", name)
        testguest.wait_for(lambda: console(cli, name), "OVERCAST-BOOTCOUNT 2", timeout=300)
        cli.ok("server", "reboot", "--hard", "--wait", name)
        testguest.wait_for(lambda: console(cli, name), "OVERCAST-BOOTCOUNT 3", timeout=300)

        cli.ok("server", "delete", "--wait", name)
        testguest.wait_for(lambda: "" if volume_id in {v["ID"] for v in cli.run("volume", "list")} else "gone",
                           "gone")
        assert iqn not in tgt_targets()
        assert not list((data_dir / "volumes").glob(f"volume-{volume_id}.*"))
        for log in data_dir.rglob("*.log"):
            assert password not in log.read_text(errors="replace"), log
    finally:
        cli.raw("server", "delete", "--wait", name)
        cli.raw("image", "delete", image["id"])
        cli.raw("flavor", "delete", flavor["id"])
