"""QemuHypervisor: one ``qemu-system-x86_64`` per instance, driven over QMP.

The class is the HypervisorDriver contract and the order of things; the mechanics live
beside it: ``guest`` (start, power state, careful stop), ``process`` (command line,
pidfile), ``qmp`` (the monitor), ``disks`` (image cache, AMI kernels, overlays,
snapshots), ``suspend``, ``resize``, ``rebuild``, ``cold`` and ``live`` (moves to another
host), ``configdrive``, ``hotplug`` and ``devices`` (volumes and NICs, boot from volume),
``host`` (accelerator, version, capacity), ``layout`` (where files go). An instance exists
while its directory holds ``spec.json``; it runs while its QEMU process does.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import threading
from pathlib import Path

from overcast.compute import power_state as ps

from ..base import (Capabilities, HostResources, HypervisorDriver, ImageRef, InstanceInfo, InstanceSpec, SnapshotInfo,
                    WriteTo)
from ..errors import (DriverCapabilityError, HypervisorError, InstanceBuildFailed, InstanceExists,
                      InstanceInvalidState, InstanceNotFound, InstanceRebootFailed, ResizeError)
from ..live_signals import LiveSignals
from . import cold, devices, disks, host, hotplug, live, process, remote, resize, suspend, tls
from .guest import Guest
from .rebuild import rebuild_in_place
from .layout import InstancePaths, run_dir_for, write_spec
from .qmp import QMPError

MiB = 1 << 20
log = logging.getLogger("overcast.compute.qemu")
CONSOLE_TAIL = 1 << 20  # bytes of the console log served at most


def _local_gb(spec: InstanceSpec) -> int:
    """Host disk of one instance; a guest booted from a volume has no root disk here."""
    return spec.local_gb - (spec.root_gb if devices.boot_volume(spec) else 0)


class QemuHypervisor(HypervisorDriver):
    name = "qemu"
    capabilities = Capabilities(supports_pause=True, supports_suspend=True, supports_snapshot=True,
                                supports_resize=True, supports_console_output=True, supports_rescue=True,
                                supports_shelve=True, supports_diagnostics=True,
                                supports_remote_console=True, supports_attach_volume=True,
                                supports_attach_interface=True, supports_migrate=True,
                                supports_live_migration=True)

    def __init__(self, *, state_dir: str | Path | None = None, accel: str = "auto",
                 binary: str = "qemu-system-x86_64", image_fetcher: disks.ImageFetcher | None = None,
                 soft_reboot_timeout: float = 60.0, detach_timeout: float = devices.UNPLUG_SECONDS,
                 live_migration: live.Settings | None = None, my_ip: str = "127.0.0.1",
                 migration_transport: str = "auto", live_migration_ports: tuple[int, int] = (49152, 49215),
                 peer_reader: remote.PeerReader | None = None, tcg_tb_size_mb: int = process.TB_SIZE_MB):
        if accel not in ("auto", "kvm", "tcg"):
            raise ValueError(f"accel must be auto, kvm or tcg, not {accel!r}")
        if migration_transport not in remote.TRANSPORTS:
            raise ValueError(f"migration_transport must be one of {remote.TRANSPORTS}, not {migration_transport!r}")
        self.state_dir = Path(state_dir or "~/.local/share/overcast/qemu").expanduser().resolve()
        self.wanted_accel = accel
        self.binary = binary
        self.soft_reboot_timeout = soft_reboot_timeout
        self.detach_timeout = detach_timeout
        self.live_settings = live_migration or live.Settings()
        self.live = LiveSignals()
        self.my_ip = my_ip  # where other hosts reach this one (live migration over tcp)
        self.migration_transport = migration_transport
        self.live_migration_ports = live_migration_ports
        self.peer_reader = peer_reader  # files of another host's instances (cold migration over tcp)
        self.tcg_tb_size_mb = tcg_tb_size_mb  # TCG's translation buffer per guest
        self.machine = ""
        self.images = disks.ImageCache(self.state_dir / "images", image_fetcher)
        self.run_dir = run_dir_for(self.state_dir)
        self.host = ""
        self.accel, self.accel_reason = "tcg", "not probed yet"
        self.version, self.version_number = "", 0
        self._totals = (1, 1, 1)
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    # -- helpers -----------------------------------------------------------------------

    def _guest(self, uuid: str, must_exist: bool = True) -> Guest:
        if not uuid or "/" in uuid or uuid in (".", ".."):
            raise InstanceNotFound(uuid=uuid)
        guest = Guest(InstancePaths.of(self.state_dir, self.run_dir, uuid), self.binary, self.accel,
                      self.tcg_tb_size_mb)
        if must_exist and not guest.paths.spec.exists():
            raise InstanceNotFound(uuid=uuid)
        return guest

    def _lock(self, uuid: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(uuid, threading.RLock())

    def _invalid(self, uuid: str, state: int, action: str):
        return InstanceInvalidState(uuid=uuid, state=ps.name(state), action=action)

    def _fail(self, uuid: str, error: Exception, what: str = "") -> HypervisorError:
        return HypervisorError(uuid=uuid, reason=f"{what}{error}")

    # -- host ----------------------------------------------------------------------------

    def init_host(self, host_name: str) -> None:
        self.host = host_name
        for tool, package in ((self.binary, "qemu-system-x86"), ("qemu-img", "qemu-utils")):
            if shutil.which(tool) is None:
                raise HypervisorError(uuid="-", reason=f"{tool} is not installed (apt-get install {package})")
        for directory in (self.state_dir / "instances", self.state_dir / "images", self.run_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.version, self.version_number = host.qemu_version(self.binary)
        self.accel, self.accel_reason = host.choose_accel(self.wanted_accel, self.binary, self.state_dir,
                                                          self.version)
        self._totals = host.totals(self.state_dir)
        self.machine = remote.machine_id(self.state_dir)
        for directory in (self.state_dir / "instances").iterdir():
            guest = self._guest(directory.name, must_exist=False)
            if not guest.paths.spec.exists():  # a spawn that never finished: nothing of it may stay
                self._remove(guest)
        for leftover in self.images.root.glob("*.part"):
            leftover.unlink(missing_ok=True)

    def describe(self) -> str:
        """One line for people: the QEMU version and the accelerator, and why."""
        return f"QEMU {self.version}, accelerator {self.accel} ({self.accel_reason})"

    def host_resources(self) -> HostResources:
        specs, running = [], 0
        for uuid in self.list_instances():
            guest = self._guest(uuid, must_exist=False)
            try:
                specs.append(guest.spec())
            except FileNotFoundError:
                continue
            old = resize.old_spec(guest)
            if old is not None:
                specs.append(old)
            running += guest.pid() is not None
        vcpus, memory_mb, local_gb = self._totals
        return HostResources(
            vcpus=vcpus, memory_mb=memory_mb, local_gb=local_gb, vcpus_used=sum(s.vcpus for s in specs),
            memory_mb_used=sum(s.memory_mb for s in specs), local_gb_used=sum(map(_local_gb, specs)),
            hypervisor_type="QEMU", hypervisor_version=self.version_number, hypervisor_hostname=self.host,
            running_vms=running, cpu_info=host.cpu_info(vcpus, self.accel))

    def list_instances(self) -> list[str]:
        root = self.state_dir / "instances"
        if not root.is_dir():
            return []
        return sorted(path.name for path in root.iterdir() if (path / "spec.json").exists())

    # -- lifecycle -----------------------------------------------------------------------

    def spawn(self, spec: InstanceSpec) -> None:
        guest = self._guest(spec.uuid, must_exist=False)
        with self._lock(spec.uuid):
            guest.paths.dir.parent.mkdir(parents=True, exist_ok=True)
            try:
                guest.paths.dir.mkdir()
            except FileExistsError:
                raise InstanceExists(uuid=spec.uuid) from None
            try:
                self._build(spec, guest)
            except Exception as error:
                self._remove(guest)
                raise InstanceBuildFailed(uuid=spec.uuid, reason=str(error)) from error

    def _build(self, spec: InstanceSpec, guest: Guest) -> None:
        paths = guest.paths
        spec = hotplug.settle(spec, paths.dir)
        if devices.boot_volume(spec) is None:
            if spec.image is None:
                raise disks.DiskError("no image and no boot volume to boot from")
            spec = self._with_kernel(spec)
            base, base_format, virtual_size = self.images.get(spec.image)
            disks.create_overlay(base, base_format, virtual_size, paths.disk, spec.root_gb)
        if spec.ephemeral_gb:
            disks.create_blank(paths.eph0, spec.ephemeral_gb << 30)
        if spec.swap_mb:
            disks.create_blank(paths.swap, spec.swap_mb * MiB)
        if spec.config_drive:
            from .configdrive import write_config_drive

            write_config_drive(spec, paths.config)
        guest.start(spec)
        write_spec(paths.spec, spec)

    def _with_kernel(self, spec: InstanceSpec, strict: bool = True) -> InstanceSpec:
        """``spec`` with its image in this host's cache and, for an AMI, the cached kernel
        and ramdisk it boots (``disks.ImageCache.boot_image``); a boot volume needs neither.
        Not ``strict`` (a move, which can copy the source's disk instead): an image that
        cannot be had leaves ``spec`` as it is."""
        if spec.image is None or devices.boot_volume(spec) is not None:
            return spec
        try:
            return dataclasses.replace(spec, image=self.images.boot_image(spec.image))
        except disks.DiskError:
            if strict:
                raise
            return spec

    def _remove(self, guest: Guest) -> None:
        try:
            guest.quit()
        finally:
            shutil.rmtree(guest.paths.dir, ignore_errors=True)
            guest.paths.qmp.unlink(missing_ok=True)
            guest.paths.vnc.unlink(missing_ok=True)

    def destroy(self, uuid: str, spec: InstanceSpec | None = None) -> None:
        try:
            guest = self._guest(uuid, must_exist=False)
        except InstanceNotFound:
            return
        with self._lock(uuid):
            self._remove(guest)
        with self._guard:
            self._locks.pop(uuid, None)

    def reboot(self, uuid: str, hard: bool) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            try:
                state = guest.power()
                if state in (ps.SHUTDOWN, ps.CRASHED) and guest.pid() is not None:
                    guest.quit()  # QEMU alive with a dead guest: start afresh
                if guest.pid() is None:
                    guest.start(guest.spec())
                    return
                if not hard and state == ps.RUNNING and guest.shutdown(self.soft_reboot_timeout):
                    guest.start(guest.spec())
                    return
                guest.qmp("system_reset", "cont")
            except (QMPError, process.ProcessError) as error:
                raise InstanceRebootFailed(uuid=uuid, reason=str(error)) from error

    def power_off(self, uuid: str, timeout: float = 60) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            guest.stop(timeout)
            guest.paths.saved.unlink(missing_ok=True)  # a suspended guest stopped: its memory is gone

    def power_on(self, uuid: str) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            state = guest.power()
            if state == ps.RUNNING:
                return
            if state in (ps.PAUSED, ps.SUSPENDED):
                raise self._invalid(uuid, state, "power_on")
            guest.quit()
            try:
                guest.start(guest.spec())
            except process.ProcessError as error:
                raise self._fail(uuid, error) from error

    def rebuild(self, spec: InstanceSpec) -> None:
        """In place (``rebuild``): same directory, NICs and volumes, a new root disk. A
        failure leaves the instance SHUTDOWN on its old disk (InstanceBuildFailed)."""
        guest = self._guest(spec.uuid)
        with self._lock(spec.uuid):
            try:
                rebuild_in_place(guest, self.images, spec, self.soft_reboot_timeout)
            except (disks.DiskError, process.ProcessError, OSError) as error:
                guest.quit()
                raise InstanceBuildFailed(uuid=spec.uuid, reason=str(error)) from error

    def get_info(self, uuid: str) -> InstanceInfo:
        guest = self._guest(uuid)
        with self._lock(uuid):
            spec, state, pid = guest.spec(), guest.power(), guest.pid()
        return InstanceInfo(power_state=state, vcpus=spec.vcpus, memory_mb=spec.memory_mb,
                            cpu_time_ns=process.cpu_time_ns(pid) if pid else 0)

    # -- pause, suspend --------------------------------------------------------------------

    def _switch(self, uuid: str, action: str, source: int, target: int, command: str) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            state = guest.power()
            if state == target:
                return
            if state != source:
                raise self._invalid(uuid, state, action)
            try:
                guest.qmp(command)
            except QMPError as error:
                raise self._fail(uuid, error) from error

    def pause(self, uuid: str) -> None:
        self._switch(uuid, "pause", ps.RUNNING, ps.PAUSED, "stop")

    def unpause(self, uuid: str) -> None:
        self._switch(uuid, "unpause", ps.PAUSED, ps.RUNNING, "cont")

    def suspend(self, uuid: str) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            state = guest.power()
            if state == ps.SUSPENDED:
                return
            if state not in (ps.RUNNING, ps.PAUSED):
                raise self._invalid(uuid, state, "suspend")
            try:
                suspend.save(guest.paths)
            except QMPError as error:
                raise self._fail(uuid, error, "suspend failed: ") from error
            guest.quit()

    def resume(self, uuid: str) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            state = guest.power()
            if state == ps.RUNNING:
                return
            if state != ps.SUSPENDED:
                raise self._invalid(uuid, state, "resume")
            try:
                guest.start(guest.spec(), resume=True)
            except (QMPError, process.ProcessError) as error:
                guest.quit()
                raise self._fail(uuid, error, "resume failed: ") from error

    # -- snapshot, resize, rescue ---------------------------------------------------------------

    def snapshot(self, uuid: str, write_to: WriteTo) -> SnapshotInfo:
        guest = self._guest(uuid)
        with self._lock(uuid):
            if not guest.paths.disk.exists():
                raise self._fail(uuid, disks.DiskError("the guest boots from a volume: snapshot the volume"),
                                 "snapshot failed: ")
            running = guest.power() == ps.RUNNING
            target = guest.paths.dir / "snapshot.part" if callable(write_to) else Path(write_to)
            try:
                if running:
                    guest.qmp("stop")  # stop drains and flushes the guest's disk
                size, virtual_size = disks.flatten(guest.paths.disk, target)
                if callable(write_to):
                    with open(target, "rb") as handle:
                        for chunk in iter(lambda: handle.read(MiB), b""):
                            write_to(chunk)
            except (QMPError, disks.DiskError, OSError) as error:
                target.unlink(missing_ok=True)
                raise self._fail(uuid, error, "snapshot failed: ") from error
            finally:
                if callable(write_to):
                    target.unlink(missing_ok=True)
                if running:
                    try:
                        guest.qmp("cont")
                    except QMPError:
                        pass
        return SnapshotInfo(disk_format="qcow2", size=size, virtual_size=virtual_size)

    def resize(self, uuid: str, new_spec: InstanceSpec) -> None:
        if new_spec.uuid != uuid:
            raise ValueError(f"resize of {uuid} got a spec for {new_spec.uuid}")
        guest = self._guest(uuid)
        with self._lock(uuid):
            state, old = guest.power(), guest.spec()
            if resize.pending(guest) or state not in (ps.RUNNING, ps.SHUTDOWN):
                raise self._invalid(uuid, state, "resize")
            if new_spec.root_gb < old.root_gb or new_spec.ephemeral_gb < old.ephemeral_gb:
                raise ResizeError(uuid=uuid, reason="unable to resize disk down")
            new = dataclasses.replace(new_spec, image=old.image, vifs=old.vifs, block_devices=old.block_devices)
            guest.stop(self.soft_reboot_timeout)
            try:
                resize.keep_and_grow(guest, old, new, state)
                if state == ps.RUNNING:
                    guest.start(new)
            except (disks.DiskError, process.ProcessError, OSError) as error:
                raise self._fail(uuid, error, "resize failed: ") from error

    def confirm_resize(self, uuid: str) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            resize.drop(guest)

    def revert_resize(self, uuid: str) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            if not resize.pending(guest):
                raise self._invalid(uuid, guest.power(), "revert_resize")
            guest.quit()
            try:
                if resize.restore(guest) == ps.RUNNING:
                    guest.start(guest.spec())
            except (disks.DiskError, process.ProcessError, OSError) as error:
                raise self._fail(uuid, error, "revert failed: ") from error

    def rescue(self, uuid: str, rescue_image: ImageRef) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            state = guest.power()
            if guest.rescued() or state not in (ps.RUNNING, ps.SHUTDOWN):
                raise self._invalid(uuid, state, "rescue")
            try:
                base, base_format, size = self.images.get(rescue_image)
                guest.paths.rescue_disk.unlink(missing_ok=True)
                disks.create_overlay(base, base_format, size, guest.paths.rescue_disk, 0)
                guest.quit()
                guest.mark_rescued(rescue_image.id)
                guest.start(guest.spec())
            except (disks.DiskError, process.ProcessError, OSError) as error:
                self._unrescue(guest, start=False)
                raise self._fail(uuid, error, "rescue failed: ") from error

    def unrescue(self, uuid: str) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            if guest.rescued():
                self._unrescue(guest, start=True)

    def _unrescue(self, guest: Guest, start: bool) -> None:
        guest.quit()
        guest.paths.rescue_marker.unlink(missing_ok=True)
        guest.paths.rescue_disk.unlink(missing_ok=True)
        if start:
            guest.start(guest.spec())

    # -- moves to another host (``cold``, ``live``) -------------------------------------------

    def _new_dir(self, spec: InstanceSpec) -> Guest:
        guest = self._guest(spec.uuid, must_exist=False)
        guest.paths.dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            guest.paths.dir.mkdir()
        except FileExistsError:
            raise InstanceExists(uuid=spec.uuid) from None
        return guest

    def migrate_disk_and_power_off(self, uuid: str, dest_host: str) -> dict:
        guest = self._guest(uuid)
        with self._lock(uuid):
            state = guest.power()
            if cold.pending(guest) or resize.pending(guest) or guest.rescued() or state not in (
                    ps.RUNNING, ps.SHUTDOWN, ps.CRASHED):
                raise self._invalid(uuid, state, "migrate")
            guest.stop(self.soft_reboot_timeout)
            return cold.hand_over(guest, dest_host, state, self._offer())

    def _offer(self) -> dict:
        return remote.offer(self.state_dir, self.host, self.migration_transport)

    def _transport(self, data: dict | None) -> str:
        """``local`` or ``tcp`` for a move whose other end sent ``data`` (``remote.decide``)."""
        data = data or {}
        same = data.get("machine", self.machine) == self.machine  # no machine id: an older, local peer
        return remote.decide(self.migration_transport, data.get("preference"), same)

    def read_migration_file(self, uuid: str, name: str, offset: int, length: int) -> bytes:
        """Source of a move over tcp: a piece of the file ``name`` (``disk``, ``eph0``:
        only while a cold migration hands them over; ``console``) the destination pulls.
        No instance lock: the move holds it while the destination reads."""
        guest = self._guest(uuid)
        try:
            return remote.read_piece(cold.readable(guest, name), offset, length)
        except FileNotFoundError:
            return b""

    def finish_migration(self, spec: InstanceSpec, migrate_data: dict, power_on: bool) -> None:
        with self._lock(spec.uuid):
            guest = self._new_dir(spec)
            try:
                local = self._transport(migrate_data) == "local"
                spec = cold.take_volumes(guest, spec, migrate_data, local)
                spec = self._with_kernel(hotplug.settle(spec, guest.paths.dir), strict=False)
                copy = (cold.local_copy(migrate_data) if local
                        else cold.pulled_copy(migrate_data, spec.uuid, self.peer_reader))
                cold.take_over(self.images, guest, spec, copy, local)
                hotplug.save_spec(guest, spec)
                if power_on:
                    guest.start(spec)
            except Exception as error:
                self._remove(guest)
                raise self._fail(spec.uuid, error, "finishing the migration failed: ") from error

    def confirm_migration(self, uuid: str) -> None:
        try:
            guest = self._guest(uuid)
        except InstanceNotFound:
            return
        with self._lock(uuid):
            if cold.pending(guest):
                self._remove(guest)

    def finish_revert_migration(self, uuid: str, power_on: bool) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            cold.forget(guest)
            if power_on and guest.pid() is None:
                try:
                    guest.start(guest.spec())
                except process.ProcessError as error:
                    raise self._fail(uuid, error, "revert failed: ") from error

    def live_migration_source_data(self, uuid: str) -> dict:
        guest = self._guest(uuid)
        with self._lock(uuid):
            return {**live.source_data(guest), **self._offer()}

    def pre_live_migration(self, spec: InstanceSpec, paused: bool, source_data: dict | None = None) -> dict:
        with self._lock(spec.uuid):
            guest = self._new_dir(spec)
            try:
                tcp = self._transport(source_data) == "tcp"
                spec = self._with_kernel(live.matched(guest, spec, source_data, not tcp), strict=False)
                listen = (self.my_ip, self.live_migration_ports) if tcp else None
                data = live.prepare(self.images, guest, spec, listen, self.live_settings)
                incoming = {"transport": "tcp" if tcp else "local"}
                if tcp and self.peer_reader is not None and (source_data or {}).get("host"):
                    try:  # the source's console so far, before this QEMU writes any
                        incoming.update(source=source_data["host"], console=remote.append_from(
                            self.peer_reader, source_data["host"], spec.uuid, "console", 0, guest.paths.console))
                    except Exception:  # noqa: BLE001 (a log is not worth failing the move for)
                        incoming.pop("source", None)
                (guest.paths.dir / "incoming.json").write_text(json.dumps(incoming))
                log.info("live migration of %s: waiting on %s, disks on %s%s", spec.uuid, data["uri"], data.get("nbd"),
                         " (TLS)" if data.get("tls") else "")
                hotplug.save_spec(guest, spec)
                return data
            except Exception as error:
                self._remove(guest)
                live.cleanup(guest)
                raise self._fail(spec.uuid, error, "preparing the live migration failed: ") from error

    def live_migration(self, uuid: str, dest_host: str, migrate_data: dict) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid), self.live.running(uuid) as signals:
            state = guest.power()
            if state not in (ps.RUNNING, ps.PAUSED) or (guest.paths.dir / "incoming.json").exists():
                raise self._invalid(uuid, state, "live_migration")
            try:
                live.migrate(guest, migrate_data, signals, self.live_settings,
                             on_post_copy=lambda: self.live.report_post_copy(uuid))
            except (QMPError, live.LiveMigrationError, tls.TLSError) as error:
                raise self._fail(uuid, error, "live migration failed: ") from error

    def live_migration_abort(self, uuid: str) -> None:
        self.live.abort(uuid)

    def live_migration_force_complete(self, uuid: str) -> None:
        self.live.force(uuid)

    def post_live_migration_at_destination(self, uuid: str, paused: bool = False) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            try:
                live.finish_incoming(guest, paused)
            except (QMPError, live.LiveMigrationError) as error:
                raise self._fail(uuid, error, "the migrated guest did not start here: ") from error
            self._console_rest(guest)
            (guest.paths.dir / "incoming.json").unlink(missing_ok=True)

    def _console_rest(self, guest: Guest) -> None:
        """Over tcp: what the source's console got since ``pre_live_migration`` pulled it."""
        try:
            incoming = json.loads((guest.paths.dir / "incoming.json").read_text() or "{}")
        except (OSError, ValueError):
            return
        if incoming.get("source") and self.peer_reader is not None:
            try:
                remote.append_from(self.peer_reader, incoming["source"], guest.uuid, "console",
                                   int(incoming.get("console", 0)), guest.paths.console)
            except Exception:  # noqa: BLE001 (a log is not worth failing the move for)
                pass

    def rollback_live_migration_at_destination(self, uuid: str) -> None:
        try:
            guest = self._guest(uuid)
        except InstanceNotFound:
            return
        with self._lock(uuid):
            if (guest.paths.dir / "incoming.json").exists():
                self._remove(guest)
                live.cleanup(guest)

    # -- volumes, interfaces (``hotplug``, ``devices``) ----------------------------------------

    def attach_volume(self, uuid: str, connection_info: dict, device: str | None = None) -> str:
        guest = self._guest(uuid)
        with self._lock(uuid):
            return hotplug.attach(guest, connection_info, device)

    def detach_volume(self, uuid: str, connection_info: dict, device: str | None = None) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            hotplug.detach(guest, connection_info, device, self.detach_timeout)

    def extend_volume(self, uuid: str, connection_info: dict, requested_size: int) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            hotplug.extend(guest, connection_info.get("serial"), requested_size)

    def attach_interface(self, uuid: str, vif: dict) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            hotplug.attach_nic(guest, vif)

    def detach_interface(self, uuid: str, vif: dict) -> None:
        guest = self._guest(uuid)
        with self._lock(uuid):
            hotplug.detach_nic(guest, vif, self.detach_timeout)

    # -- console, diagnostics -----------------------------------------------------------------

    def get_console_output(self, uuid: str, max_lines: int | None = None) -> str:
        guest = self._guest(uuid)
        try:
            with open(guest.paths.console, "rb") as handle:
                handle.seek(max(0, os.fstat(handle.fileno()).st_size - CONSOLE_TAIL))
                text = handle.read().decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
        except FileNotFoundError:
            text = ""
        if max_lines is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-max_lines:]) if max_lines > 0 else ""
        return text

    def get_remote_console(self, uuid: str, kind: str) -> dict:
        """VNC only, on the guest's unix socket (``layout``); the proxy must run on this host."""
        guest = self._guest(uuid)
        if kind != "vnc":
            raise DriverCapabilityError(driver=self.name, capability=f"{kind} consoles")
        with self._lock(uuid):
            state = guest.power()
            if state != ps.RUNNING:
                raise self._invalid(uuid, state, "get_remote_console")
        return {"kind": "vnc", "host": self.host, "port": None, "internal_access_path": None,
                "path": str(guest.paths.vnc)}

    def get_diagnostics(self, uuid: str) -> dict:
        guest = self._guest(uuid)
        with self._lock(uuid):
            return guest.diagnostics(self.name)


__all__ = ["QemuHypervisor"]
