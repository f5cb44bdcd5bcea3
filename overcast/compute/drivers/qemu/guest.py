"""One instance's QEMU as the driver handles it: its files, its process, its monitor.

``Guest`` knows how to start QEMU for a spec (normal, rescue or resuming a saved state),
read the power state, and stop it the careful way: the ACPI power button first
(``shutdown``), then QMP ``quit`` (QEMU flushes its disks and exits), and signals only
when QEMU does not answer; never SIGKILL first.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time

from overcast.compute import power_state as ps

from ..base import InstanceSpec
from ..errors import HypervisorError
from . import devices, process, suspend
from .layout import InstancePaths, spec_from_json
from .qmp import QMPError, QMPSession

log = logging.getLogger("overcast.compute.qemu")

QUIT_SECONDS = 10.0
#: QMP query-status -> power state (anything else: NOSTATE)
STATUS = {"running": ps.RUNNING, "paused": ps.PAUSED, "debug": ps.PAUSED, "inmigrate": ps.PAUSED,
          "postmigrate": ps.PAUSED, "finish-migrate": ps.PAUSED, "prelaunch": ps.PAUSED, "restore-vm": ps.PAUSED,
          "save-vm": ps.PAUSED, "suspended": ps.SUSPENDED, "shutdown": ps.SHUTDOWN, "guest-panicked": ps.CRASHED,
          "internal-error": ps.CRASHED, "io-error": ps.CRASHED, "watchdog": ps.CRASHED}


class Guest:
    def __init__(self, paths: InstancePaths, binary: str, accel: str, tb_size_mb: int = process.TB_SIZE_MB):
        self.paths, self.binary, self.accel = paths, binary, accel
        self.tb_size_mb = tb_size_mb  # TCG's translation buffer

    @property
    def uuid(self) -> str:
        return self.paths.dir.name

    def spec(self) -> InstanceSpec:
        return spec_from_json(self.paths.spec.read_text())

    def pid(self) -> int | None:
        return process.pid_of(self.paths)

    def qmp(self, *commands: str):
        with QMPSession(str(self.paths.qmp)) as session:
            result = None
            for command in commands:
                result = session.execute(command)
            return result

    def power(self) -> int:
        if self.pid() is None:
            return ps.SUSPENDED if self.paths.saved.exists() else ps.SHUTDOWN
        try:
            status = self.qmp("query-status")["status"]
        except QMPError:  # QEMU is quitting or busy: it runs, that much is known
            return ps.RUNNING if self.pid() is not None else ps.SHUTDOWN
        return STATUS.get(status, ps.NOSTATE)

    # -- rescue: a marker file naming the rescue disk -------------------------------------

    def rescued(self) -> bool:
        return self.paths.rescue_marker.exists()

    def mark_rescued(self, image_id: str) -> None:
        self.paths.rescue_marker.write_text(json.dumps({"image": image_id}))

    # -- start and stop ----------------------------------------------------------------------

    def start(self, spec: InstanceSpec, resume: bool = False) -> None:
        """Start QEMU; ``resume`` loads the suspended state, else any saved state is
        forgotten. A rescued instance boots its rescue disk with its own disk second."""
        self.paths.stopping.unlink(missing_ok=True)
        command = self.command(spec, rescue=self.rescued())
        if resume:
            process.start(command + suspend.incoming_args(self.paths), self.paths)
            suspend.wait_resumed(self.paths)
        else:
            self.paths.saved.unlink(missing_ok=True)
            process.start(command, self.paths)
        self.throttle(spec)

    def command(self, spec: InstanceSpec, rescue: bool = False) -> list[str]:
        """QEMU's command line for ``spec`` on this host."""
        return process.argv(self.binary, self.accel, spec, self.paths, rescue=rescue, tb_size_mb=self.tb_size_mb)

    def throttle(self, spec: InstanceSpec) -> None:
        """The attached volumes' QoS limits, once QEMU runs; a limit QEMU refuses is logged
        (attach checked them: the guest is not stopped for it)."""
        try:
            devices.apply_throttles(str(self.paths.qmp), spec)
        except (devices.DeviceError, QMPError) as error:
            log.warning("QoS limits of %s not applied: %s", self.uuid, error)

    def quit(self) -> None:
        """Stop QEMU now: QMP quit, then SIGTERM, then SIGKILL, each only if needed."""
        pid = self.pid()
        if pid is None:
            return
        self.paths.stopping.touch()
        try:
            self.qmp("quit")
        except QMPError:
            pass
        if process.wait_gone(self.paths, QUIT_SECONDS):
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            if process.wait_gone(self.paths, 5):
                return
        raise HypervisorError(uuid=self.uuid, reason=f"QEMU process {pid} does not stop")

    def shutdown(self, timeout: float) -> bool:
        """Press the ACPI power button and wait up to ``timeout``; True if the guest went."""
        if timeout <= 0 or self.power() != ps.RUNNING:
            return False
        try:
            self.qmp("system_powerdown")
        except QMPError:
            return False
        return process.wait_gone(self.paths, timeout)

    def stop(self, timeout: float) -> None:
        """Shutdown, else quit."""
        if not self.shutdown(timeout):
            self.quit()

    # -- diagnostics ---------------------------------------------------------------------------

    def diagnostics(self, driver: str) -> dict:
        """nova's standard diagnostics from /proc and QMP ``query-blockstats``; no tap,
        bridge or path in it."""
        spec, state, pid = self.spec(), self.power(), self.pid()
        stats = []
        if pid is not None:
            try:
                stats = [b.get("stats", {}) for b in self.qmp("query-blockstats") or [] if b.get("stats")]
            except QMPError:
                pass
        stats = stats or [{}]
        return {
            "state": ps.name(state), "driver": driver, "hypervisor": self.accel, "hypervisor_os": "linux",
            "uptime": int(time.time() - os.stat(f"/proc/{pid}").st_mtime) if pid else 0,
            "config_drive": self.paths.config.exists(), "num_cpus": spec.vcpus, "num_nics": len(spec.vifs),
            "num_disks": len(stats),
            "cpu_details": [{"id": n, "time": process.cpu_time_ns(pid) if pid and n == 0 else None,
                             "utilisation": None} for n in range(spec.vcpus)],
            "nic_details": [{"mac_address": vif.get("mac")} for vif in spec.vifs],
            "disk_details": [{"read_bytes": s.get("rd_bytes", 0), "write_bytes": s.get("wr_bytes", 0),
                              "read_requests": s.get("rd_operations", 0), "write_requests": s.get("wr_operations", 0),
                              "errors_count": s.get("failed_rd_operations", 0) + s.get("failed_wr_operations", 0)}
                             for s in stats],
            "memory_details": {"maximum": spec.memory_mb, "used": process.rss_kb(pid) // 1024 if pid else 0},
        }
