"""FakeHypervisor: guests in a dict. The driver every unit, functional and demo run uses.

It documents the semantics real drivers follow (see ``base.py``), the way nova's
``virt/fake.py`` does: spawn -> RUNNING; a failed spawn leaves nothing; destroy of a
missing instance succeeds; asking for the state a guest is already in does nothing;
an operation from a state it cannot start from raises InstanceInvalidState; resources
count every instance held (running or not, plus the old flavor while a resize is
pending, and a migrated guest's source copy until it is confirmed). It is instant and
deterministic: the console log is a fixed text built from the instance's uuid and name,
the remote console port comes from the uuid (no VNC server listens there and ``path`` is
None, so the console proxy refuses to relay it), a snapshot is fixed bytes.

Failure injection: ``fail_spawn_on`` is a set of uuids or names, or a callable taking
the InstanceSpec and returning True to fail (InstanceBuildFailed, after the fake has
"created" the instance and rolled it back); ``fail_reboot=True`` makes every reboot raise
InstanceRebootFailed with the guest left as it was. ``capabilities=Capabilities(...)``
switches features off; their methods then raise DriverCapabilityError. Slowness on
request, so the API's in-between states can be seen: ``snapshot_seconds`` (a snapshot
takes that long) and ``live_migration_seconds`` (a live migration runs that long unless
``live_migration_abort`` cancels it or ``live_migration_force_complete`` ends it; with
``post_copy`` a forced one reports its switch to post-copy and runs on ``POST_COPY_SECONDS``
more, deaf to abort, as a real post-copy phase is).
"""

from __future__ import annotations

import dataclasses
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from overcast.compute import power_state as ps

from .base import (Capabilities, HostResources, HypervisorDriver, ImageRef, InstanceInfo, InstanceSpec,
                   SnapshotInfo, WriteTo, merge_block_devices)
from .errors import (DeviceBusy, DriverCapabilityError, InstanceBuildFailed, InstanceExists, InstanceInvalidState,
                     InstanceNotFound, InstanceRebootFailed, MigrationCancelled, ResizeError)
from .live_signals import LiveSignals

GiB = 1 << 30
CONSOLE_KINDS = ("vnc", "spice", "serial")
POST_COPY_SECONDS = 10.0  # how long a forced post-copy migration of the fake runs on after the switch


@dataclass
class FakeInstance:
    """One guest's bookkeeping. ``volumes``: device -> connection_info; ``vifs``:
    port id -> vif; ``resize_from``: (old spec, old power state) while a resize is pending."""

    spec: InstanceSpec
    power_state: int = ps.RUNNING
    volumes: dict[str, dict] = field(default_factory=dict)
    vifs: dict[str, dict] = field(default_factory=dict)
    rescued: bool = False
    resize_from: tuple[InstanceSpec, int] | None = None
    boots: int = 1
    migrated_to: str | None = None  # the host a cold migration copied it to, until confirm or revert
    incoming: bool = False  # made by pre_live_migration; the guest is not here yet


class FakeHypervisor(HypervisorDriver):
    """Bookkeeping, public for tests: ``instances`` (uuid -> FakeInstance) and ``host``."""

    name = "fake"

    def __init__(self, *, vcpus: int = 16, memory_mb: int = 32768, local_gb: int = 500,
                 fail_spawn_on: set[str] | Callable[[InstanceSpec], bool] | None = None,
                 fail_reboot: bool = False, capabilities: Capabilities | None = None,
                 snapshot_seconds: float = 0.0, live_migration_seconds: float = 0.0, post_copy: bool = False):
        self.total = (vcpus, memory_mb, local_gb)
        self.snapshot_seconds = snapshot_seconds  # a snapshot takes this long, as copying a real disk does
        self.live_migration_seconds = live_migration_seconds
        self.post_copy = post_copy  # force-complete switches to post-copy (compute.live_migration_permit_post_copy)
        self.live = LiveSignals()
        self.fail_spawn_on = fail_spawn_on or set()
        self.fail_reboot = fail_reboot
        self.capabilities = capabilities if capabilities is not None else Capabilities.all()
        self.host = "fake-host"
        self.instances: dict[str, FakeInstance] = {}
        self._lock = threading.RLock()

    # -- helpers ----------------------------------------------------------------

    def _require(self, capability: str) -> None:
        if not getattr(self.capabilities, capability):
            raise DriverCapabilityError(driver=self.name, capability=capability)

    def _get(self, uuid: str) -> FakeInstance:
        try:
            return self.instances[uuid]
        except KeyError:
            raise InstanceNotFound(uuid=uuid) from None

    def _invalid(self, inst: FakeInstance, action: str):
        return InstanceInvalidState(uuid=inst.spec.uuid, state=ps.name(inst.power_state), action=action)

    def _should_fail(self, spec: InstanceSpec) -> bool:
        if callable(self.fail_spawn_on):
            return bool(self.fail_spawn_on(spec))
        return spec.uuid in self.fail_spawn_on or spec.name in self.fail_spawn_on

    def _transition(self, uuid: str, action: str, allowed: set[int], target: int) -> None:
        with self._lock:
            inst = self._get(uuid)
            if inst.power_state == target:
                return
            if inst.power_state not in allowed:
                raise self._invalid(inst, action)
            inst.power_state = target

    # -- host -------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        self.host = host

    def host_resources(self) -> HostResources:
        with self._lock:
            specs = [i.spec for i in self.instances.values()]
            specs += [i.resize_from[0] for i in self.instances.values() if i.resize_from]
            running = sum(i.power_state == ps.RUNNING for i in self.instances.values())
        vcpus, memory_mb, local_gb = self.total
        return HostResources(
            vcpus=vcpus, memory_mb=memory_mb, local_gb=local_gb,
            vcpus_used=sum(s.vcpus for s in specs), memory_mb_used=sum(s.memory_mb for s in specs),
            local_gb_used=sum(s.local_gb for s in specs), hypervisor_type="fake", hypervisor_version=1000000,
            hypervisor_hostname=self.host, running_vms=running,
            cpu_info={"arch": "x86_64", "model": "fake", "vendor": "overcast", "features": [],
                      "topology": {"sockets": 1, "cores": vcpus, "threads": 1}})

    def list_instances(self) -> list[str]:
        with self._lock:
            return sorted(self.instances)

    # -- lifecycle --------------------------------------------------------------

    def spawn(self, spec: InstanceSpec) -> None:
        with self._lock:
            if spec.uuid in self.instances:
                raise InstanceExists(uuid=spec.uuid)
            inst = FakeInstance(spec=spec)
            self.instances[spec.uuid] = inst
            try:
                for bdm in spec.block_devices:
                    self._plug_volume(inst, bdm["connection_info"], bdm.get("device"))
                for vif in spec.vifs:
                    self._plug_vif(inst, vif)
                if self._should_fail(spec):
                    raise InstanceBuildFailed(uuid=spec.uuid, reason="injected failure (fail_spawn_on)")
            except Exception as error:
                del self.instances[spec.uuid]
                if isinstance(error, InstanceBuildFailed):
                    raise
                raise InstanceBuildFailed(uuid=spec.uuid, reason=str(error)) from error

    def destroy(self, uuid: str, spec: InstanceSpec | None = None) -> None:
        with self._lock:
            self.instances.pop(uuid, None)

    def rebuild(self, spec: InstanceSpec) -> None:
        """In place: the same record with its volumes and NICs, the new spec, RUNNING and
        booted afresh; a failure leaves it SHUTDOWN (the qemu driver's semantics)."""
        with self._lock:
            inst = self._get(spec.uuid)
            if self._should_fail(spec):
                inst.power_state = ps.SHUTDOWN
                raise InstanceBuildFailed(uuid=spec.uuid, reason="injected failure (fail_spawn_on)")
            inst.spec = dataclasses.replace(spec, block_devices=merge_block_devices(inst.spec.block_devices,
                                                                                    spec.block_devices))
            inst.power_state, inst.rescued, inst.resize_from = ps.RUNNING, False, None
            inst.boots += 1

    def reboot(self, uuid: str, hard: bool) -> None:
        with self._lock:
            inst = self._get(uuid)
            if self.fail_reboot:
                raise InstanceRebootFailed(uuid=uuid, reason="injected failure (fail_reboot)")
            inst.power_state = ps.RUNNING
            inst.boots += 1

    def power_off(self, uuid: str, timeout: float = 60) -> None:
        with self._lock:
            self._get(uuid).power_state = ps.SHUTDOWN

    def power_on(self, uuid: str) -> None:
        with self._lock:
            inst = self._get(uuid)
            if inst.power_state != ps.RUNNING:
                self._transition(uuid, "power_on", {ps.SHUTDOWN, ps.CRASHED}, ps.RUNNING)
                inst.boots += 1

    def get_info(self, uuid: str) -> InstanceInfo:
        with self._lock:
            inst = self._get(uuid)
            return InstanceInfo(power_state=inst.power_state, vcpus=inst.spec.vcpus, memory_mb=inst.spec.memory_mb)

    # -- pause, suspend -----------------------------------------------------------

    def pause(self, uuid: str) -> None:
        self._require("supports_pause")
        self._transition(uuid, "pause", {ps.RUNNING}, ps.PAUSED)

    def unpause(self, uuid: str) -> None:
        self._require("supports_pause")
        self._transition(uuid, "unpause", {ps.PAUSED}, ps.RUNNING)

    def suspend(self, uuid: str) -> None:
        self._require("supports_suspend")
        self._transition(uuid, "suspend", {ps.RUNNING, ps.PAUSED}, ps.SUSPENDED)

    def resume(self, uuid: str) -> None:
        self._require("supports_suspend")
        self._transition(uuid, "resume", {ps.SUSPENDED}, ps.RUNNING)

    # -- snapshot, resize, rescue -------------------------------------------------

    def snapshot(self, uuid: str, write_to: WriteTo) -> SnapshotInfo:
        self._require("supports_snapshot")
        with self._lock:
            spec = self._get(uuid).spec
        data = f"OVERCAST-FAKE-SNAPSHOT {spec.uuid} {spec.name} root_gb={spec.root_gb}\n".encode()
        time.sleep(self.snapshot_seconds)
        if callable(write_to):
            write_to(data)
        else:
            Path(write_to).write_bytes(data)
        return SnapshotInfo(disk_format="qcow2", size=len(data), virtual_size=spec.root_gb * GiB)

    def resize(self, uuid: str, new_spec: InstanceSpec) -> None:
        self._require("supports_resize")
        if new_spec.uuid != uuid:
            raise ValueError(f"resize of {uuid} got a spec for {new_spec.uuid}")
        with self._lock:
            inst = self._get(uuid)
            if inst.resize_from is not None or inst.power_state not in (ps.RUNNING, ps.SHUTDOWN):
                raise self._invalid(inst, "resize")
            old = inst.spec
            if new_spec.root_gb < old.root_gb or new_spec.ephemeral_gb < old.ephemeral_gb:
                raise ResizeError(uuid=uuid, reason="unable to resize disk down")
            inst.resize_from = (old, inst.power_state)
            inst.spec = dataclasses.replace(new_spec, vifs=old.vifs, block_devices=old.block_devices)

    def confirm_resize(self, uuid: str) -> None:
        self._require("supports_resize")
        with self._lock:
            self._get(uuid).resize_from = None

    def revert_resize(self, uuid: str) -> None:
        self._require("supports_resize")
        with self._lock:
            inst = self._get(uuid)
            if inst.resize_from is None:
                raise self._invalid(inst, "revert_resize")
            inst.spec, inst.power_state = inst.resize_from
            inst.resize_from = None

    # -- migrations: each host's fake knows only its own guests --------------------------

    def migrate_disk_and_power_off(self, uuid: str, dest_host: str) -> dict:
        self._require("supports_migrate")
        with self._lock:
            inst = self._get(uuid)
            if inst.migrated_to is not None or inst.resize_from is not None:
                raise self._invalid(inst, "migrate")
            inst.power_state, inst.migrated_to = ps.SHUTDOWN, dest_host
            return {"source_host": self.host, "disks": f"fake://{self.host}/{uuid}"}

    def finish_migration(self, spec: InstanceSpec, migrate_data: dict, power_on: bool) -> None:
        self._require("supports_migrate")
        self.spawn(spec)
        if not power_on:
            self.power_off(spec.uuid)

    def confirm_migration(self, uuid: str) -> None:
        self._require("supports_migrate")
        with self._lock:
            inst = self.instances.get(uuid)
            if inst is not None and inst.migrated_to is not None:
                del self.instances[uuid]

    def finish_revert_migration(self, uuid: str, power_on: bool) -> None:
        self._require("supports_migrate")
        with self._lock:
            inst = self._get(uuid)
            inst.migrated_to = None
            if power_on:
                self.power_on(uuid)

    def pre_live_migration(self, spec: InstanceSpec, paused: bool, source_data: dict | None = None) -> dict:
        self._require("supports_live_migration")
        with self._lock:
            if spec.uuid in self.instances:
                raise InstanceExists(uuid=spec.uuid)
            inst = FakeInstance(spec=spec, power_state=ps.PAUSED, incoming=True)
            for vif in spec.vifs:
                self._plug_vif(inst, vif)
            self.instances[spec.uuid] = inst
            return {"uri": f"fake://{self.host}/{spec.uuid}", "paused": paused}

    def live_migration(self, uuid: str, dest_host: str, migrate_data: dict) -> None:
        self._require("supports_live_migration")
        with self._lock:
            inst = self._get(uuid)
            if inst.power_state not in (ps.RUNNING, ps.PAUSED) or inst.incoming:
                raise self._invalid(inst, "live_migration")
        with self.live.running(uuid) as signals:
            deadline = time.monotonic() + self.live_migration_seconds
            while time.monotonic() < deadline and not signals.force.is_set():
                if signals.abort.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
                    raise MigrationCancelled(uuid=uuid)
            if signals.abort.is_set():
                raise MigrationCancelled(uuid=uuid)
            if signals.force.is_set() and self.post_copy:
                self.live.report_post_copy(uuid)
                time.sleep(POST_COPY_SECONDS)
        with self._lock:
            self._get(uuid).migrated_to = dest_host

    def live_migration_abort(self, uuid: str) -> None:
        self._require("supports_live_migration")
        self.live.abort(uuid)

    def live_migration_force_complete(self, uuid: str) -> None:
        self._require("supports_live_migration")
        self.live.force(uuid)

    def post_live_migration_at_destination(self, uuid: str, paused: bool = False) -> None:
        self._require("supports_live_migration")
        with self._lock:
            inst = self._get(uuid)
            inst.incoming = False
            inst.power_state = ps.PAUSED if paused else ps.RUNNING

    def rollback_live_migration_at_destination(self, uuid: str) -> None:
        self._require("supports_live_migration")
        with self._lock:
            inst = self.instances.get(uuid)
            if inst is not None and inst.incoming:
                del self.instances[uuid]

    def rescue(self, uuid: str, rescue_image: ImageRef) -> None:
        self._require("supports_rescue")
        with self._lock:
            inst = self._get(uuid)
            if inst.rescued or inst.power_state not in (ps.RUNNING, ps.SHUTDOWN):
                raise self._invalid(inst, "rescue")
            inst.rescued, inst.power_state = True, ps.RUNNING

    def unrescue(self, uuid: str) -> None:
        self._require("supports_rescue")
        with self._lock:
            inst = self._get(uuid)
            if inst.rescued:
                inst.rescued, inst.power_state = False, ps.RUNNING

    # -- volumes, interfaces ------------------------------------------------------

    def _plug_volume(self, inst: FakeInstance, connection_info: dict, device: str | None) -> str:
        serial = connection_info.get("serial")
        if serial is not None and any(c.get("serial") == serial for c in inst.volumes.values()):
            raise DeviceBusy(uuid=inst.spec.uuid, device=f"volume {serial}")
        if device is None:
            device = next(f"/dev/vd{c}" for c in "bcdefghijklmnopqrstuvwxyz" if f"/dev/vd{c}" not in inst.volumes)
        elif device in inst.volumes or (device == "/dev/vda" and inst.spec.image is not None):
            raise DeviceBusy(uuid=inst.spec.uuid, device=device)
        inst.volumes[device] = connection_info
        return device

    def _plug_vif(self, inst: FakeInstance, vif: dict) -> None:
        if vif["id"] in inst.vifs:
            raise DeviceBusy(uuid=inst.spec.uuid, device=f"port {vif['id']}")
        inst.vifs[vif["id"]] = vif

    def attach_volume(self, uuid: str, connection_info: dict, device: str | None = None) -> str:
        self._require("supports_attach_volume")
        with self._lock:
            inst = self._get(uuid)
            if inst.power_state == ps.SUSPENDED:
                raise self._invalid(inst, "attach_volume")
            return self._plug_volume(inst, connection_info, device)

    def detach_volume(self, uuid: str, connection_info: dict, device: str | None = None) -> None:
        self._require("supports_attach_volume")
        with self._lock:
            inst = self._get(uuid)
            serial = connection_info.get("serial")
            for dev, info in list(inst.volumes.items()):
                if (serial is not None and info.get("serial") == serial) or (serial is None and dev == device):
                    del inst.volumes[dev]

    def extend_volume(self, uuid: str, connection_info: dict, requested_size: int) -> None:
        self._require("supports_attach_volume")
        with self._lock:
            inst = self._get(uuid)
            for info in inst.volumes.values():
                if info.get("serial") == connection_info.get("serial"):
                    info["size"] = int(requested_size)

    def attach_interface(self, uuid: str, vif: dict) -> None:
        self._require("supports_attach_interface")
        with self._lock:
            self._plug_vif(self._get(uuid), vif)

    def detach_interface(self, uuid: str, vif: dict) -> None:
        self._require("supports_attach_interface")
        with self._lock:
            self._get(uuid).vifs.pop(vif["id"], None)

    # -- consoles, diagnostics ----------------------------------------------------

    def get_console_output(self, uuid: str, max_lines: int | None = None) -> str:
        self._require("supports_console_output")
        with self._lock:
            spec = self._get(uuid).spec
        lines = [
            f"overcast fake hypervisor console for instance {spec.uuid}",
            "[    0.000000] Linux version 6.1.0-fake (overcast)",
            f"[    0.010000] Booting {spec.name}: {spec.vcpus} vCPU, {spec.memory_mb} MiB",
            "[    0.500000] virtio_blk virtio1: [vda] attached",
            f"[    1.000000] cloud-init: instance-id {spec.uuid}",
            f"[    1.100000] cloud-init: local-hostname {spec.name}",
            f"OVERCAST-READY {spec.uuid}",
        ]
        if max_lines is not None:
            lines = lines[-max_lines:] if max_lines > 0 else []
        return "".join(line + "\n" for line in lines)

    def get_remote_console(self, uuid: str, kind: str) -> dict:
        self._require("supports_remote_console")
        with self._lock:
            inst = self._get(uuid)
            if kind not in CONSOLE_KINDS:
                raise DriverCapabilityError(driver=self.name, capability=f"{kind} consoles")
            if inst.power_state != ps.RUNNING:
                raise self._invalid(inst, "get_remote_console")
        base = 10000 if kind == "serial" else 5900
        return {"kind": kind, "host": "127.0.0.1", "port": base + zlib.crc32(uuid.encode()) % 1000,
                "internal_access_path": None, "path": None}

    def get_diagnostics(self, uuid: str) -> dict:
        self._require("supports_diagnostics")
        with self._lock:
            inst = self._get(uuid)
            spec = inst.spec
            return {
                "state": ps.name(inst.power_state), "driver": self.name, "hypervisor": "fake",
                "hypervisor_os": "fake", "uptime": 0, "config_drive": spec.config_drive,
                "num_cpus": spec.vcpus, "num_nics": len(inst.vifs), "num_disks": 1 + len(inst.volumes),
                "cpu_details": [{"id": n, "time": 0, "utilisation": None} for n in range(spec.vcpus)],
                "nic_details": [{"mac_address": vif.get("mac"), "rx_octets": 0, "tx_octets": 0}
                                for vif in inst.vifs.values()],
                "disk_details": [{"read_bytes": 0, "write_bytes": 0, "errors_count": 0}
                                 for _ in range(1 + len(inst.volumes))],
                "memory_details": {"maximum": spec.memory_mb, "used": 0},
            }


__all__ = ["FakeHypervisor", "FakeInstance"]
