"""The QEMU process of one instance: its command line, starting it, finding it again.

QEMU runs daemonized (``-daemonize -pidfile``) so guests outlive an agent restart; the
agent adopts them again from the pidfile and the QMP socket. A pid counts only while
``/proc/<pid>/cmdline`` still names this instance's QMP socket (pids get reused).
Each guest has a standard VGA card and a VNC server on a unix socket beside its QMP
socket (``layout``), so every start (boot, resume, resize, rescue) keeps the console.
Guests only get the taps the network driver made (checked before start) or no NIC at
all; QEMU's user-mode networking is never used. A guest booted from a volume opens the
volume's file as its root disk, or, for an iSCSI LUN, a Ceph RBD image or a LUKS-encrypted
volume, the volume's block node with its secrets (``devices.root_volume_args``); attached
volumes and NICs come from ``devices``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ..base import InstanceSpec
from . import devices, secrets
from .layout import InstancePaths

KERNEL_CMDLINE = "console=ttyS0,115200 root=/dev/vda"
#: TCG keeps translated code in a buffer (QEMU 7 sizes it to 1 GiB and it fills over
#: time, and all of it stays resident); ``compute.qemu_tcg_tb_size_mb`` sets it, and this
#: is its default: 10 MiB keeps the memory only this guest's QEMU holds beyond guest RAM
#: at 29 MB (34 MB with 16 MiB) for 12-37% more CPU to boot the test guest
#: (bench/compute_qemu_variants.py, bench/README.md)
TB_SIZE_MB = 10
#: QEMU under these accelerators starts with transparent huge pages off: a 128 MB TCG
#: guest then holds 7 MB less (2.8 MB of QEMU's own, 4.6 MB of guest RAM) for the same
#: CPU to boot (bench/compute_qemu_variants.py). KVM guests keep them (EPT walks gain).
NO_THP_ACCELS = ("tcg",)
#: ``python -c NO_THP_LAUNCHER qemu-system-x86_64 ...``: Python sets PR_SET_THP_DISABLE
#: (prctl 41, kept across exec and fork) and becomes QEMU; the pid and cmdline are QEMU's
NO_THP_LAUNCHER = ("import ctypes, os, sys; ctypes.CDLL(None).prctl(41, 1, 0, 0, 0); "
                   "os.execvp(sys.argv[1], sys.argv[1:])")


class ProcessError(Exception):
    pass


def tap_exists(devname: str) -> bool:
    return bool(devname) and "/" not in devname and os.path.exists(f"/sys/class/net/{devname}")


def argv(binary: str, accel: str, spec: InstanceSpec, paths: InstancePaths, rescue: bool = False,
         tb_size_mb: int = TB_SIZE_MB) -> list[str]:
    """The command line for ``spec``; the disks it names must exist (see the driver).
    ``rescue`` boots ``rescue.qcow2`` with the instance's own root disk second;
    ``tb_size_mb`` is TCG's translation buffer."""
    boot = devices.boot_volume(spec)
    on_blockdev = boot is not None and devices.opened_as_blockdev(boot)
    root, root_format = ("", "raw") if on_blockdev else root_disk(spec, paths)
    direct = spec.image is not None and bool(spec.image.kernel_path) and not rescue  # -kernel takes bootindex 0
    accel_option = f"tcg,tb-size={tb_size_mb}" if accel == "tcg" else accel
    line = [binary, "-name", f"guest={spec.name},debug-threads=on", "-uuid", spec.uuid,
            "-machine", "pc", "-accel", accel_option, "-cpu", "host" if accel == "kvm" else "max",
            "-m", str(spec.memory_mb), "-smp", str(max(1, spec.vcpus)),
            "-nodefaults", "-no-user-config", "-display", "none", "-vga", "std", "-vnc", f"unix:{paths.vnc}",
            "-chardev", f"file,id=console,path={paths.console},append=on", "-serial", "chardev:console",
            "-chardev", f"socket,id=qmp,path={paths.qmp},server=on,wait=off", "-mon", "chardev=qmp,mode=control",
            "-pidfile", str(paths.pid), "-daemonize"]
    if any(secrets.sealed(entry) for entry in spec.block_devices):  # before the LUKS keys sealed with it
        line += secrets.object_arg(secrets.master_object(paths.dir))
    try:
        if on_blockdev and not rescue:
            line += devices.root_volume_args(boot, paths.dir, "root", bootindex=not direct)
        else:
            line += ["-drive", f"file={paths.rescue_disk if rescue else root},if=none,id=root,"
                               f"format={'qcow2' if rescue else root_format},cache=writeback,discard=unmap",
                     "-device", "virtio-blk-pci,drive=root" + ("" if direct else ",bootindex=0")]
        if rescue and on_blockdev:
            line += devices.root_volume_args(boot, paths.dir, "root-volume", bootindex=False)
        elif rescue:
            line += ["-drive", f"file={root},if=virtio,format={root_format}"]
    except devices.DeviceError as error:
        raise ProcessError(f"cannot boot from volume: {error}") from error
    if spec.ephemeral_gb:
        line += ["-drive", f"file={paths.eph0},if=virtio,format=qcow2"]
    if spec.swap_mb:
        line += ["-drive", f"file={paths.swap},if=virtio,format=qcow2"]
    if paths.config.exists():
        line += ["-drive", f"file={paths.config},if=ide,media=cdrom,readonly=on,format=raw"]
    image = spec.image
    if direct:
        line += ["-kernel", image.kernel_path, "-append", image.kernel_cmdline or KERNEL_CMDLINE]
        if image.ramdisk_path:
            line += ["-initrd", image.ramdisk_path]
    try:
        for entry in devices.attached_volumes(spec):
            line += devices.volume_args(entry, paths.dir)
    except devices.DeviceError as error:
        raise ProcessError(f"cannot attach a volume: {error}") from error
    if not spec.vifs:
        line += ["-nic", "none"]
    for index, vif in enumerate(spec.vifs):
        line += devices.nic_args(vif, index)
    return line


def root_disk(spec: InstanceSpec, paths: InstancePaths) -> tuple[str, str]:
    """(file, format) the guest boots from: its boot volume, else its overlay."""
    entry = devices.boot_volume(spec)
    if entry is None:
        return str(paths.disk), "qcow2"
    try:
        return devices.volume_file(entry["connection_info"])
    except devices.DeviceError as error:
        raise ProcessError(f"cannot boot from volume: {error}") from error


def start(command: list[str], paths: InstancePaths, timeout: float = 60) -> int:
    """Run QEMU (it daemonizes once the guest is set up) and return the guest's pid."""
    for vif_tap in [a.split("ifname=")[1].split(",")[0] for a in command if "ifname=" in a]:
        if not tap_exists(vif_tap):
            raise ProcessError(f"tap {vif_tap} does not exist (the network driver plugs it before spawn)")
    paths.pid.unlink(missing_ok=True)
    paths.qmp.unlink(missing_ok=True)
    paths.vnc.unlink(missing_ok=True)  # QEMU leaves its VNC socket behind when it quits
    accel = command[command.index("-accel") + 1] if "-accel" in command else ""
    if accel.split(",")[0] in NO_THP_ACCELS:
        command = [sys.executable, "-c", NO_THP_LAUNCHER, *command]
    with open(paths.err, "wb") as err:
        try:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                  timeout=timeout, cwd=paths.dir)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ProcessError(f"QEMU did not start: {error}") from error
        finally:  # QEMU read its secrets (rbd keys) before it daemonized: no copy stays on disk
            for secret in Path(paths.dir).glob("sec-*.key"):
                secret.unlink(missing_ok=True)
    if done.returncode != 0:
        message = paths.err.read_text(errors="replace").strip().splitlines()
        raise ProcessError(f"QEMU exited with {done.returncode}: {message[-1] if message else 'no message'}")
    pid = pid_of(paths)
    if pid is None:
        raise ProcessError("QEMU started but its process is gone")
    return pid


def pid_of(paths: InstancePaths) -> int | None:
    """The pid of this instance's QEMU if it runs, else None."""
    try:
        pid = int(paths.pid.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    if str(paths.qmp).encode() not in cmdline or stat.rsplit(")", 1)[1].split()[0] == "Z":
        return None
    return pid


def wait_gone(paths: InstancePaths, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while pid_of(paths) is not None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def cpu_time_ns(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
