"""Two QemuHypervisor hosts (two state directories on this machine) for the migration
contract tests, and what those tests share: the specs they boot, the ticking user data,
the peer reader standing in for the bus between the two agents."""

from __future__ import annotations

import contextlib
import uuid as uuidlib

from overcast.compute.drivers import ImageRef, InstanceSpec

TICKER = b"#!/bin/sh\nn=0; while true; do n=$((n+1)); echo tick-$n; sleep 1; done\n"
TCP = {"my_ip": "127.0.0.1", "migration_transport": "tcp", "live_migration_ports": (49152, 49215)}


def spec_of(guest_dir, **changes) -> InstanceSpec:
    uuid = str(uuidlib.uuid4())
    values = dict(uuid=uuid, name=f"vm-{uuid[:8]}", vcpus=1, memory_mb=128, root_gb=1, config_drive=True,
                  image=ImageRef(id="test-guest", path=str(guest_dir / "disk.qcow2"), virtual_size=64 << 20))
    values.update(changes)
    return InstanceSpec(**values)


def last_tick(text: str) -> int:
    return max(int(line.rsplit("-", 1)[1]) for line in text.splitlines() if "OVERCAST-UD tick-" in line)


class Peers:
    """The bus between the two hosts' agents, reduced to a direct call: each reads the
    other's files through ``read_migration_file``; every piece read is counted."""

    def __init__(self, drivers):
        self.by_host = {driver.host: driver for driver in drivers}
        self.reads: list[tuple[str, str]] = []
        self.corrupt = False

    def __call__(self, host, uuid, name, offset, length):
        self.reads.append((host, name))
        piece = self.by_host[host].read_migration_file(uuid, name, offset, length)
        if self.corrupt and name == "disk" and offset == 0 and piece:
            piece = bytes([piece[0] ^ 1]) + piece[1:]
        return piece


@contextlib.contextmanager
def two_hosts(tmp_path, *options: dict, peers: bool = False):
    """host-1 and host-2, each made with its ``options`` (QemuHypervisor keywords; one
    dict for both or one each); with ``peers`` a Peers reader between them, last. On the
    way out every guest is destroyed and nothing may be left: no QEMU, no instance
    directory, no socket."""
    from overcast.compute.drivers.qemu import QemuHypervisor
    from qemuguests import qemu_pids

    options = options or ({},)
    made = []
    for n in (1, 2):
        driver = QemuHypervisor(state_dir=tmp_path / f"host{n}", accel="tcg", soft_reboot_timeout=20,
                                **options[min(n, len(options)) - 1])
        driver.init_host(f"host-{n}")
        made.append(driver)
    extra = []
    if peers:
        reader = Peers(made)
        for driver in made:
            driver.peer_reader = reader
        extra = [reader]
    try:
        yield made + extra
    finally:
        for driver in made:
            for uuid in driver.list_instances():
                driver.destroy(uuid)
    assert not qemu_pids(str(tmp_path))
    for n, driver in enumerate(made, 1):
        assert list((tmp_path / f"host{n}" / "instances").iterdir()) == []
        assert list(driver.run_dir.iterdir()) == []  # no QMP, VNC, NBD or migration socket left
        driver.run_dir.rmdir()
