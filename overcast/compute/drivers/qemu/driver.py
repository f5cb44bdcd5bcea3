"""QemuHypervisor: one ``qemu-system-x86_64`` per instance, driven over QMP.

The class is the HypervisorDriver contract and the order of things; the mechanics live
beside it: ``process`` (command line, pidfile), ``qmp`` (the monitor), ``disks`` (image
cache, overlays, snapshots), ``host`` (accelerator, version, capacity), ``layout``
(where files go). An instance exists while its directory holds ``spec.json``; it runs
while its QEMU process does. Power off asks the guest first (ACPI), then tells QEMU to
quit, and signals the process only if QEMU does not answer: never SIGKILL first.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

from overcast.compute import power_state as ps

from ..base import Capabilities, HostResources, HypervisorDriver, InstanceInfo, InstanceSpec, SnapshotInfo, WriteTo
from ..errors import (HypervisorError, InstanceBuildFailed, InstanceExists, InstanceInvalidState, InstanceNotFound,
                      InstanceRebootFailed)
from . import disks, host, process, suspend
from .layout import InstancePaths, run_dir_for, spec_from_json, spec_to_json
from .qmp import QMPError, QMPSession

MiB = 1 << 20
CONSOLE_TAIL = 1 << 20  # bytes of the console log served at most
QUIT_SECONDS = 10.0
#: QMP query-status -> power state (anything else: NOSTATE)
STATUS = {"running": ps.RUNNING, "paused": ps.PAUSED, "debug": ps.PAUSED, "inmigrate": ps.PAUSED,
          "postmigrate": ps.PAUSED, "finish-migrate": ps.PAUSED, "prelaunch": ps.PAUSED, "restore-vm": ps.PAUSED,
          "save-vm": ps.PAUSED, "suspended": ps.SUSPENDED, "shutdown": ps.SHUTDOWN, "guest-panicked": ps.CRASHED,
          "internal-error": ps.CRASHED, "io-error": ps.CRASHED, "watchdog": ps.CRASHED}


class QemuHypervisor(HypervisorDriver):
    name = "qemu"
    capabilities = Capabilities(supports_pause=True, supports_suspend=True, supports_snapshot=True,
                                supports_console_output=True, supports_shelve=True)

    def __init__(self, *, state_dir: str | Path | None = None, accel: str = "auto",
                 binary: str = "qemu-system-x86_64", image_fetcher: disks.ImageFetcher | None = None,
                 soft_reboot_timeout: float = 60.0):
        if accel not in ("auto", "kvm", "tcg"):
            raise ValueError(f"accel must be auto, kvm or tcg, not {accel!r}")
        self.state_dir = Path(state_dir or "~/.local/share/overcast/qemu").expanduser().resolve()
        self.wanted_accel = accel
        self.binary = binary
        self.soft_reboot_timeout = soft_reboot_timeout
        self.images = disks.ImageCache(self.state_dir / "images", image_fetcher)
        self.run_dir = run_dir_for(self.state_dir)
        self.host = ""
        self.accel, self.accel_reason = "tcg", "not probed yet"
        self.version, self.version_number = "", 0
        self._totals = (1, 1, 1)
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    # -- helpers -----------------------------------------------------------------------

    def _paths(self, uuid: str) -> InstancePaths:
        if not uuid or "/" in uuid or uuid in (".", ".."):
            raise InstanceNotFound(uuid=uuid)
        return InstancePaths.of(self.state_dir, self.run_dir, uuid)

    def _lock(self, uuid: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(uuid, threading.RLock())

    def _spec(self, uuid: str) -> tuple[InstanceSpec, InstancePaths]:
        paths = self._paths(uuid)
        try:
            return spec_from_json(paths.spec.read_text()), paths
        except FileNotFoundError:
            raise InstanceNotFound(uuid=uuid) from None

    def _qmp(self, paths: InstancePaths, *commands: str):
        with QMPSession(str(paths.qmp)) as session:
            result = None
            for command in commands:
                result = session.execute(command)
            return result

    def _power(self, paths: InstancePaths) -> int:
        if process.pid_of(paths) is None:
            return ps.SUSPENDED if paths.saved.exists() else ps.SHUTDOWN
        try:
            status = self._qmp(paths, "query-status")["status"]
        except QMPError:
            # QEMU is quitting, or busy: it runs, that much is known
            return ps.RUNNING if process.pid_of(paths) is not None else ps.SHUTDOWN
        return STATUS.get(status, ps.NOSTATE)

    def _invalid(self, uuid: str, state: int, action: str):
        return InstanceInvalidState(uuid=uuid, state=ps.name(state), action=action)

    def _start(self, spec: InstanceSpec, paths: InstancePaths, resume: bool = False) -> None:
        """Start QEMU; ``resume`` loads the suspended state, else any is forgotten."""
        paths.stopping.unlink(missing_ok=True)
        command = process.argv(self.binary, self.accel, spec, paths)
        if resume:
            process.start(command + suspend.incoming_args(paths), paths)
            suspend.wait_resumed(paths)
        else:
            paths.saved.unlink(missing_ok=True)
            process.start(command, paths)

    def _quit(self, paths: InstancePaths) -> None:
        """Stop QEMU now: QMP quit (QEMU flushes its disks), then SIGTERM, then SIGKILL."""
        pid = process.pid_of(paths)
        if pid is None:
            return
        paths.stopping.touch()
        try:
            self._qmp(paths, "quit")
        except QMPError:
            pass
        if process.wait_gone(paths, QUIT_SECONDS):
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            if process.wait_gone(paths, 5):
                return
        raise HypervisorError(uuid=paths.dir.name, reason=f"QEMU process {pid} does not stop")

    def _shutdown(self, paths: InstancePaths, timeout: float) -> bool:
        """Ask the guest to power off (ACPI) and wait up to ``timeout``; True if it did."""
        if timeout <= 0 or self._power(paths) != ps.RUNNING:
            return False
        try:
            self._qmp(paths, "system_powerdown")
        except QMPError:
            return False
        return process.wait_gone(paths, timeout)

    # -- host ----------------------------------------------------------------------------

    def init_host(self, host_name: str) -> None:
        self.host = host_name
        if shutil.which(self.binary) is None:
            raise HypervisorError(uuid="-", reason=f"{self.binary} is not installed (apt-get install qemu-system-x86)")
        if shutil.which("qemu-img") is None:
            raise HypervisorError(uuid="-", reason="qemu-img is not installed (apt-get install qemu-utils)")
        for directory in (self.state_dir / "instances", self.state_dir / "images", self.run_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.version, self.version_number = host.qemu_version(self.binary)
        self.accel, self.accel_reason = host.choose_accel(self.wanted_accel, self.binary, self.state_dir,
                                                          self.version)
        self._totals = host.totals(self.state_dir)
        for directory in (self.state_dir / "instances").iterdir():
            paths = self._paths(directory.name)
            if not paths.spec.exists():  # a spawn that never finished: nothing of it may stay
                self._quit(paths)
                shutil.rmtree(directory, ignore_errors=True)
                paths.qmp.unlink(missing_ok=True)
        for leftover in self.images.root.glob("*.part"):
            leftover.unlink(missing_ok=True)

    def describe(self) -> str:
        """One line for people: the QEMU version and the accelerator, and why."""
        return f"QEMU {self.version}, accelerator {self.accel} ({self.accel_reason})"

    def host_resources(self) -> HostResources:
        specs, running = [], 0
        for uuid in self.list_instances():
            try:
                spec, paths = self._spec(uuid)
            except InstanceNotFound:
                continue
            specs.append(spec)
            running += process.pid_of(paths) is not None
        vcpus, memory_mb, local_gb = self._totals
        return HostResources(
            vcpus=vcpus, memory_mb=memory_mb, local_gb=local_gb, vcpus_used=sum(s.vcpus for s in specs),
            memory_mb_used=sum(s.memory_mb for s in specs), local_gb_used=sum(s.local_gb for s in specs),
            hypervisor_type="QEMU", hypervisor_version=self.version_number, hypervisor_hostname=self.host,
            running_vms=running,
            cpu_info=host.cpu_info(vcpus, self.accel))

    def list_instances(self) -> list[str]:
        root = self.state_dir / "instances"
        if not root.is_dir():
            return []
        return sorted(path.name for path in root.iterdir() if (path / "spec.json").exists())

    # -- lifecycle -----------------------------------------------------------------------

    def spawn(self, spec: InstanceSpec) -> None:
        paths = self._paths(spec.uuid)
        with self._lock(spec.uuid):
            paths.dir.parent.mkdir(parents=True, exist_ok=True)
            try:
                paths.dir.mkdir()
            except FileExistsError:
                raise InstanceExists(uuid=spec.uuid) from None
            try:
                self._build(spec, paths)
            except Exception as error:
                try:
                    self._quit(paths)
                finally:
                    shutil.rmtree(paths.dir, ignore_errors=True)
                    paths.qmp.unlink(missing_ok=True)
                raise InstanceBuildFailed(uuid=spec.uuid, reason=str(error)) from error

    def _build(self, spec: InstanceSpec, paths: InstancePaths) -> None:
        if spec.image is None:
            raise disks.DiskError("no image to boot from (booting from a volume needs the block storage service)")
        if spec.block_devices:
            raise disks.DiskError("volumes cannot be attached by the qemu driver yet")
        base, base_format, virtual_size = self.images.get(spec.image)
        disks.create_overlay(base, base_format, virtual_size, paths.disk, spec.root_gb)
        if spec.ephemeral_gb:
            disks.create_blank(paths.eph0, spec.ephemeral_gb << 30)
        if spec.swap_mb:
            disks.create_blank(paths.swap, spec.swap_mb * MiB)
        if spec.config_drive:
            from .configdrive import write_config_drive

            write_config_drive(spec, paths.config)
        self._start(spec, paths)
        tmp = paths.spec.with_suffix(".tmp")
        tmp.write_text(spec_to_json(spec))
        os.replace(tmp, paths.spec)

    def destroy(self, uuid: str, spec: InstanceSpec | None = None) -> None:
        try:
            paths = self._paths(uuid)
        except InstanceNotFound:
            return
        with self._lock(uuid):
            self._quit(paths)
            shutil.rmtree(paths.dir, ignore_errors=True)
            paths.qmp.unlink(missing_ok=True)
        with self._guard:
            self._locks.pop(uuid, None)

    def reboot(self, uuid: str, hard: bool) -> None:
        spec, paths = self._spec(uuid)
        with self._lock(uuid):
            try:
                state = self._power(paths)
                if state in (ps.SHUTDOWN, ps.CRASHED) and process.pid_of(paths) is not None:
                    self._quit(paths)  # QEMU alive with a dead guest: start afresh
                if process.pid_of(paths) is None:
                    self._start(spec, paths)
                    return
                if not hard and state == ps.RUNNING and self._shutdown(paths, self.soft_reboot_timeout):
                    self._start(spec, paths)
                    return
                self._qmp(paths, "system_reset", "cont")
            except (QMPError, process.ProcessError) as error:
                raise InstanceRebootFailed(uuid=uuid, reason=str(error)) from error

    def power_off(self, uuid: str, timeout: float = 60) -> None:
        _, paths = self._spec(uuid)
        with self._lock(uuid):
            if not self._shutdown(paths, timeout):
                self._quit(paths)
            paths.saved.unlink(missing_ok=True)  # a suspended guest stopped: its memory is gone

    def power_on(self, uuid: str) -> None:
        spec, paths = self._spec(uuid)
        with self._lock(uuid):
            state = self._power(paths)
            if state == ps.RUNNING:
                return
            if state in (ps.PAUSED, ps.SUSPENDED):
                raise self._invalid(uuid, state, "power_on")
            self._quit(paths)
            try:
                self._start(spec, paths)
            except process.ProcessError as error:
                raise HypervisorError(uuid=uuid, reason=str(error)) from error

    def get_info(self, uuid: str) -> InstanceInfo:
        spec, paths = self._spec(uuid)
        with self._lock(uuid):
            state = self._power(paths)
            pid = process.pid_of(paths)
        return InstanceInfo(power_state=state, vcpus=spec.vcpus, memory_mb=spec.memory_mb,
                            cpu_time_ns=process.cpu_time_ns(pid) if pid else 0)

    # -- pause, snapshot, console ------------------------------------------------------------

    def pause(self, uuid: str) -> None:
        self._switch(uuid, "pause", ps.RUNNING, ps.PAUSED, "stop")

    def unpause(self, uuid: str) -> None:
        self._switch(uuid, "unpause", ps.PAUSED, ps.RUNNING, "cont")

    def suspend(self, uuid: str) -> None:
        _, paths = self._spec(uuid)
        with self._lock(uuid):
            state = self._power(paths)
            if state == ps.SUSPENDED:
                return
            if state not in (ps.RUNNING, ps.PAUSED):
                raise self._invalid(uuid, state, "suspend")
            try:
                suspend.save(paths)
            except QMPError as error:
                raise HypervisorError(uuid=uuid, reason=f"suspend failed: {error}") from error
            self._quit(paths)

    def resume(self, uuid: str) -> None:
        spec, paths = self._spec(uuid)
        with self._lock(uuid):
            state = self._power(paths)
            if state == ps.RUNNING:
                return
            if state != ps.SUSPENDED:
                raise self._invalid(uuid, state, "resume")
            try:
                self._start(spec, paths, resume=True)
            except (QMPError, process.ProcessError) as error:
                self._quit(paths)
                raise HypervisorError(uuid=uuid, reason=f"resume failed: {error}") from error

    def _switch(self, uuid: str, action: str, source: int, target: int, command: str) -> None:
        _, paths = self._spec(uuid)
        with self._lock(uuid):
            state = self._power(paths)
            if state == target:
                return
            if state != source:
                raise self._invalid(uuid, state, action)
            try:
                self._qmp(paths, command)
            except QMPError as error:
                raise HypervisorError(uuid=uuid, reason=str(error)) from error

    def snapshot(self, uuid: str, write_to: WriteTo) -> SnapshotInfo:
        _, paths = self._spec(uuid)
        with self._lock(uuid):
            resume = self._power(paths) == ps.RUNNING
            target = Path(write_to) if not callable(write_to) else paths.dir / "snapshot.part"
            try:
                if resume:
                    self._qmp(paths, "stop")  # stop drains and flushes the guest's disk
                size, virtual_size = disks.flatten(paths.disk, target)
                if callable(write_to):
                    with open(target, "rb") as handle:
                        for chunk in iter(lambda: handle.read(1 << 20), b""):
                            write_to(chunk)
            except (QMPError, disks.DiskError, OSError) as error:
                if not callable(write_to):
                    target.unlink(missing_ok=True)
                raise HypervisorError(uuid=uuid, reason=f"snapshot failed: {error}") from error
            finally:
                if callable(write_to):
                    target.unlink(missing_ok=True)
                if resume:
                    try:
                        self._qmp(paths, "cont")
                    except QMPError:
                        pass
        return SnapshotInfo(disk_format="qcow2", size=size, virtual_size=virtual_size)

    def get_console_output(self, uuid: str, max_lines: int | None = None) -> str:
        _, paths = self._spec(uuid)
        try:
            with open(paths.console, "rb") as handle:
                handle.seek(max(0, os.fstat(handle.fileno()).st_size - CONSOLE_TAIL))
                text = handle.read().decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
        except FileNotFoundError:
            text = ""
        if max_lines is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-max_lines:]) if max_lines > 0 else ""
        return text


__all__ = ["QemuHypervisor"]
