"""The HypervisorDriver contract: what runs guests on one compute host.

Vocabulary. An *instance* is one guest, named by the server's UUID everywhere in the
contract; a driver keeps whatever else it needs (pid, QMP socket, instance directory,
overlay path) to itself, and none of it leaves the driver (nova's rule). The *host* is
the machine the agent runs on; ``init_host`` names it. The compute agent owns the
instance record and its ``vm_state``/``task_state``; the driver owns only what the guest
really is, reported as a *power state* (``overcast.compute.power_state``: 0 NOSTATE,
1 RUNNING, 3 PAUSED, 4 SHUTDOWN, 6 CRASHED, 7 SUSPENDED).

Data shapes (dataclasses below):

- :class:`InstanceSpec`: everything needed to build a guest: ``uuid``, ``name``, the
  flavor (``vcpus``, ``memory_mb``, ``root_gb``, ``ephemeral_gb``, ``swap_mb``), the
  ``image`` (:class:`ImageRef`), ``vifs``, ``block_devices``, ``user_data`` (raw bytes),
  ``metadata`` (str -> str), ``key_data`` (an OpenSSH public key) and ``config_drive``.
- A *VIF* is a dict the network driver built when it plugged the port:
  ``{"id": port id, "mac": "fa:16:3e:..", "devname": tap name, "bridge": bridge name,
  "mtu": 1450}`` (extra keys are allowed and ignored). The network driver chooses the
  tap and bridge names; the hypervisor only opens ``devname``.
- A *block device* is ``{"connection_info": ..., "device": "/dev/vdb" | None,
  "boot_index": int | None}``. ``connection_info`` has nova's shape:
  ``{"driver_volume_type": "file" | "iscsi", "serial": volume id, "data": {...}}``
  (``data`` holds ``path`` for file volumes, ``target_portal``/``target_iqn``/
  ``target_lun`` for iSCSI).
- :class:`HostResources`, :class:`InstanceInfo`, :class:`SnapshotInfo`: what the
  driver reports back.

Threading and blocking: every method is synchronous and may block; the agent calls it
from a worker thread, one operation per instance at a time, and operations on different
instances may run concurrently. Each method says how long it may block.

Errors: ``overcast.compute.drivers.errors``. Any operation naming an instance the host
does not have raises InstanceNotFound, except ``destroy`` (idempotent) and the detach
calls (detaching what is not attached succeeds). An operation that cannot start from the
current power state raises InstanceInvalidState; asking for the state the guest is
already in (pause a paused guest, power off a stopped one) succeeds and does nothing, so
an agent may retry after a crash. Backend failures raise HypervisorError subclasses.

Optional features are :class:`Capabilities` flags, all False here. The compute service
checks the flag and answers 400/409 before it casts to the agent; an optional method
whose flag is False raises DriverCapabilityError (the base implementations do exactly
that, so a driver overrides the method and sets the flag together).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Union

from .errors import DriverCapabilityError, InstanceNotFound

#: ``snapshot``'s destination: a callable taking each chunk of bytes, or a file path.
WriteTo = Union[Callable[[bytes], Any], str, Path]


@dataclass(frozen=True)
class Capabilities:
    """What optional operations a driver implements. ``supports_shelve`` has no method
    of its own: the service shelves with ``snapshot`` + ``destroy`` and unshelves with
    ``spawn``, so it implies ``supports_snapshot``."""

    supports_pause: bool = False          # pause, unpause
    supports_suspend: bool = False        # suspend, resume
    supports_snapshot: bool = False       # snapshot
    supports_resize: bool = False         # resize, confirm_resize, revert_resize
    supports_attach_volume: bool = False  # attach_volume, detach_volume
    supports_attach_interface: bool = False  # attach_interface, detach_interface
    supports_console_output: bool = False  # get_console_output
    supports_remote_console: bool = False  # get_remote_console
    supports_rescue: bool = False         # rescue, unrescue
    supports_shelve: bool = False         # (snapshot + destroy, then spawn)
    supports_diagnostics: bool = False    # get_diagnostics
    supports_migrate: bool = False        # migrate_disk_and_power_off, finish_migration, confirm/revert
    supports_live_migration: bool = False  # pre_live_migration, live_migration(_abort, _force_complete), post/rollback

    @classmethod
    def all(cls) -> Capabilities:
        return cls(**{f.name: True for f in dataclasses.fields(cls)})

    def as_dict(self) -> dict[str, bool]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ImageRef:
    """The image to boot, already cached on this host by the agent. ``path`` is a local
    file (the driver makes its own overlay and never writes to it); ``virtual_size`` is
    in bytes. ``kernel_path``/``ramdisk_path`` ask for a direct kernel boot, with
    ``kernel_cmdline`` (the image's ``os_command_line``) or the driver's default."""

    id: str
    path: str
    disk_format: str = "qcow2"
    virtual_size: int = 0
    kernel_path: str | None = None
    ramdisk_path: str | None = None
    kernel_cmdline: str | None = None


@dataclass(frozen=True)
class InstanceSpec:
    """One guest as the agent asks for it (see the module docstring for vifs and block
    devices). Sizes: memory and swap in MiB, disks in GiB."""

    uuid: str
    name: str
    vcpus: int
    memory_mb: int
    root_gb: int
    ephemeral_gb: int = 0
    swap_mb: int = 0
    image: ImageRef | None = None
    vifs: list[dict] = field(default_factory=list)
    block_devices: list[dict] = field(default_factory=list)
    user_data: bytes | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    key_data: str | None = None
    config_drive: bool = False
    # what the guest reads about itself (config drive, metadata service); empty: ``name`` and "nova"
    hostname: str = ""
    display_name: str = ""
    project_id: str = ""
    availability_zone: str = ""

    @property
    def local_gb(self) -> int:
        """Host disk this instance uses: root + ephemeral + swap (rounded up to GiB)."""
        return self.root_gb + self.ephemeral_gb + -(-self.swap_mb // 1024)


@dataclass(frozen=True)
class HostResources:
    """The host as the scheduler sees it. ``*_used`` sum the instances this driver
    holds (running or not). ``hypervisor_version`` is nova's integer form
    (QEMU 7.2.0 -> 7002000)."""

    vcpus: int
    memory_mb: int
    local_gb: int
    vcpus_used: int
    memory_mb_used: int
    local_gb_used: int
    hypervisor_type: str
    hypervisor_version: int
    hypervisor_hostname: str
    running_vms: int = 0
    cpu_info: dict = field(default_factory=dict)


@dataclass(frozen=True)
class InstanceInfo:
    """One guest right now. ``cpu_time_ns`` is guest CPU time used since it started."""

    power_state: int
    vcpus: int
    memory_mb: int
    cpu_time_ns: int = 0


@dataclass(frozen=True)
class SnapshotInfo:
    """What ``snapshot`` wrote: its format and size in bytes (``virtual_size`` is the
    disk size the guest saw), for the image record the agent creates."""

    disk_format: str
    size: int
    virtual_size: int
    container_format: str = "bare"


class HypervisorDriver(ABC):
    """Starts, stops and changes guests on one host. Implementations: fake, qemu."""

    name = "base"
    capabilities = Capabilities()

    def _unsupported(self, capability: str):
        raise DriverCapabilityError(driver=self.name, capability=capability)

    # -- host ------------------------------------------------------------------

    @abstractmethod
    def init_host(self, host: str) -> None:
        """Prepare the host once, when the agent starts: check the hypervisor works (raise
        HypervisorError if not), create state directories, and reconcile what a crashed
        agent left (guests that still run are kept and listed). ``host`` is the name the
        agent reports as ``hypervisor_hostname``. May block for seconds (a KVM probe)."""

    @abstractmethod
    def host_resources(self) -> HostResources:
        """Capacity and use of the host (see :class:`HostResources`). Fast; no guest I/O."""

    @abstractmethod
    def list_instances(self) -> list[str]:
        """UUIDs of every instance this driver holds on the host, in any power state,
        sorted. Fast."""

    # -- lifecycle -------------------------------------------------------------

    @abstractmethod
    def spawn(self, spec: InstanceSpec) -> None:
        """Create the instance (disks, config drive, guest) and start it; afterwards
        ``get_info`` says RUNNING. Returns once the guest is started, not booted (QEMU:
        a few seconds). Raises InstanceExists if ``spec.uuid`` is already on the host and
        InstanceBuildFailed on any failure, having removed everything it created, so a
        failed spawn leaves ``list_instances`` and ``host_resources`` as they were.
        VIFs are already plugged by the network driver; the driver only opens taps."""

    @abstractmethod
    def destroy(self, uuid: str, spec: InstanceSpec | None = None) -> None:
        """Stop the guest hard and remove every trace of it (disks, sockets, pending
        resize state); resources are released. Idempotent: a missing instance succeeds.
        ``spec`` lets a driver clean up what it no longer tracks. Blocks up to a few
        seconds; never raises for a guest that is already gone."""

    @abstractmethod
    def reboot(self, uuid: str, hard: bool) -> None:
        """Restart the guest; afterwards it is RUNNING. Soft asks the guest (ACPI) and
        falls back to hard when it does not go down in time or is not running; hard resets
        it (from any power state, as nova's hard reboot). Blocks up to the soft timeout
        (about a minute). Raises InstanceNotFound, InstanceRebootFailed (the guest is then
        in whatever state ``get_info`` reports)."""

    @abstractmethod
    def power_off(self, uuid: str, timeout: float = 60) -> None:
        """Stop the guest, SHUTDOWN afterwards; disks and resources stay. Asks it to shut
        down (ACPI) and forces it off after ``timeout`` seconds (0: force now). Blocks up
        to ``timeout`` plus a second. Stopping a stopped guest succeeds. Works from any
        power state. Raises InstanceNotFound."""

    @abstractmethod
    def power_on(self, uuid: str) -> None:
        """Start a SHUTDOWN or CRASHED guest; RUNNING afterwards; a running one is left
        alone. PAUSED/SUSPENDED raise InstanceInvalidState (use unpause/resume). Returns
        once started, not booted. Raises InstanceNotFound, HypervisorError."""

    def rebuild(self, spec: InstanceSpec) -> None:
        """Rebuild ``spec.uuid`` in place from ``spec.image``: a new root disk (a boot
        volume stays the root: the agent reimaged it before, when asked), blank ephemeral
        and swap disks, the config drive written again from ``spec``; the same UUID, NICs
        and attached volumes (the agent's ``spec.block_devices`` may be empty: what the
        instance has stays; an entry it gives replaces the instance's entry for the same
        volume, see :func:`merge_block_devices`). Any
        power state before, RUNNING after. Raises InstanceNotFound (checked first),
        InstanceBuildFailed: an in-place driver leaves the instance SHUTDOWN on its old
        disk. The default is ``destroy`` + ``spawn``, nova's fallback (then a failure
        leaves nothing, and volumes only in the driver's record are lost). Blocks like
        ``power_off`` + ``spawn``."""
        if spec.uuid not in self.list_instances():
            raise InstanceNotFound(uuid=spec.uuid)
        self.destroy(spec.uuid, spec)
        self.spawn(spec)

    @abstractmethod
    def get_info(self, uuid: str) -> InstanceInfo:
        """The guest's power state and size now. Fast. Raises InstanceNotFound."""

    # -- optional: each needs its capability flag --------------------------------

    def pause(self, uuid: str) -> None:
        """RUNNING -> PAUSED (vCPUs stopped, memory kept). Fast. supports_pause."""
        self._unsupported("supports_pause")

    def unpause(self, uuid: str) -> None:
        """PAUSED -> RUNNING. Fast. supports_pause."""
        self._unsupported("supports_pause")

    def suspend(self, uuid: str) -> None:
        """RUNNING or PAUSED -> SUSPENDED (memory saved to disk, guest stopped; the
        resources stay claimed). Blocks for seconds (memory size / disk speed)."""
        self._unsupported("supports_suspend")

    def resume(self, uuid: str) -> None:
        """SUSPENDED -> RUNNING. Blocks for seconds. supports_suspend."""
        self._unsupported("supports_suspend")

    def snapshot(self, uuid: str, write_to: WriteTo) -> SnapshotInfo:
        """Copy the root disk as a standalone image (no backing file) to ``write_to``:
        a callable receiving chunks, or a path the driver creates. Works in any power
        state; a running guest is paused for the copy and restored after. Blocks for
        seconds to minutes (disk size). On failure raises HypervisorError, a partly
        written path is removed and the guest is back in its power state."""
        self._unsupported("supports_snapshot")

    def resize(self, uuid: str, new_spec: InstanceSpec) -> None:
        """Give the instance ``new_spec``'s flavor on this host: stop it, grow disks,
        start it again if it was RUNNING (a SHUTDOWN one stays stopped; PAUSED or
        SUSPENDED raise InstanceInvalidState). The old disks and claims are kept until
        ``confirm_resize`` (drop them) or ``revert_resize`` (go back to them). Raises
        ResizeError for a smaller root or ephemeral disk, InstanceInvalidState if a resize
        is already pending. Blocks like power_off + spawn. supports_resize."""
        self._unsupported("supports_resize")

    def confirm_resize(self, uuid: str) -> None:
        """Drop what ``resize`` kept; releases the old claim. Nothing pending is a no-op
        (safe to retry). Fast. supports_resize."""
        self._unsupported("supports_resize")

    def revert_resize(self, uuid: str) -> None:
        """Go back to the spec and disks before ``resize``, in the old power state.
        Nothing pending raises InstanceInvalidState. Blocks like power_off + power_on."""
        self._unsupported("supports_resize")

    # -- moving an instance between hosts: each call says which end runs it ----------------

    def migrate_disk_and_power_off(self, uuid: str, dest_host: str) -> dict:
        """Source of a cold migration: stop the guest and make its disks readable by
        ``dest_host``; returns what ``finish_migration`` there needs (paths, a URL). The
        guest and disks stay here until ``confirm_migration`` or
        ``finish_revert_migration``. Blocks like power_off plus the copy. supports_migrate."""
        self._unsupported("supports_migrate")

    def finish_migration(self, spec: InstanceSpec, migrate_data: dict, power_on: bool) -> None:
        """Destination of a cold migration: build the guest from the source's disks
        (``migrate_data``) with ``spec`` (maybe a new flavor, VIFs plugged here), running if
        ``power_on``. A failure leaves nothing here. supports_migrate."""
        self._unsupported("supports_migrate")

    def confirm_migration(self, uuid: str) -> None:
        """Source, after the destination's copy was confirmed: drop the guest and disks
        kept here. Nothing kept is a no-op. supports_migrate."""
        self._unsupported("supports_migrate")

    def finish_revert_migration(self, uuid: str, power_on: bool) -> None:
        """Source, when the move is reverted (the destination destroyed its copy): use the
        kept guest again, running if ``power_on``. Raises InstanceNotFound when nothing was
        kept. supports_migrate."""
        self._unsupported("supports_migrate")

    def read_migration_file(self, uuid: str, name: str, offset: int, length: int) -> bytes:
        """Source of a move between machines: up to ``length`` bytes from ``offset`` of the
        file ``name`` a destination pulls (named in the migrate data this driver gave;
        empty past the end). Raises InstanceNotFound, or the driver's error for a file it
        is not handing over. Takes no instance lock (the move holds it). Fast."""
        self._unsupported("supports_migrate")

    def live_migration_source_data(self, uuid: str) -> dict:
        """Source, before ``pre_live_migration``: what the destination's driver must know
        of the guest that the spec does not say (QEMU: the PCI slots of hot-plugged
        devices, which must match). Opaque to the agent, passed as JSON. Default: {}."""
        return {}

    def pre_live_migration(self, spec: InstanceSpec, paused: bool, source_data: dict | None = None) -> dict:
        """Destination of a live migration: get ready to receive ``spec``'s guest (VIFs
        plugged here; ``source_data`` from the source's ``live_migration_source_data``;
        QEMU: started with ``-incoming``); returns what ``live_migration`` on the source
        needs (a URI). A failure leaves nothing here. supports_live_migration."""
        self._unsupported("supports_live_migration")

    def live_migration(self, uuid: str, dest_host: str, migrate_data: dict) -> None:
        """Source: copy the running guest (memory, and disks unless shared) to the
        destination ``pre_live_migration`` prepared (QEMU: QMP ``migrate``); returns when
        the guest runs there. The source copy stays until ``destroy``. Raises
        MigrationCancelled when ``live_migration_abort`` stopped it and HypervisorError if
        the copy failed (either way the guest keeps running here, as it was).
        Blocks for as long as the copy takes (seconds to minutes).
        supports_live_migration."""
        self._unsupported("supports_live_migration")

    def live_migration_abort(self, uuid: str) -> None:
        """Source, from another thread while ``live_migration`` runs: cancel it (that call
        then raises MigrationCancelled). Nothing migrating: a no-op. Returns at once.
        supports_live_migration."""
        self._unsupported("supports_live_migration")

    def live_migration_force_complete(self, uuid: str) -> None:
        """Source, from another thread while ``live_migration`` runs: make it converge
        now (QEMU: pause the guest so no page is dirtied again, as Nova's libvirt driver
        does; ``post_live_migration_at_destination`` resumes it there). Nothing
        migrating: a no-op. Returns at once. supports_live_migration."""
        self._unsupported("supports_live_migration")

    def post_live_migration_at_destination(self, uuid: str, paused: bool = False) -> None:
        """Destination, after ``live_migration``: the guest is this host's now, running
        (``paused``: paused, as it was on the source). supports_live_migration."""
        self._unsupported("supports_live_migration")

    def rollback_live_migration_at_destination(self, uuid: str) -> None:
        """Destination, when the live migration failed: drop what ``pre_live_migration``
        made. Nothing there is a no-op. supports_live_migration."""
        self._unsupported("supports_live_migration")

    def attach_volume(self, uuid: str, connection_info: dict, device: str | None = None) -> str:
        """Hot-plug a volume (guest in any state but SUSPENDED) and return the device name
        used (``device`` if given, else the next free ``/dev/vdX``). Raises DeviceBusy if
        the device or volume (``connection_info["serial"]``) is attached already,
        HypervisorError if the plug fails (nothing left attached). Blocks about a second
        (the guest acknowledges). supports_attach_volume."""
        self._unsupported("supports_attach_volume")

    def detach_volume(self, uuid: str, connection_info: dict, device: str | None = None) -> None:
        """Unplug the volume named by ``connection_info["serial"]``. Not attached: no-op.
        Blocks until the guest releases it (seconds); a PAUSED guest is PAUSED again
        afterwards (QEMU lets it run until it has released the disk). supports_attach_volume."""
        self._unsupported("supports_attach_volume")

    def extend_volume(self, uuid: str, connection_info: dict, requested_size: int) -> None:
        """The attached volume ``connection_info["serial"]`` now holds ``requested_size``
        bytes (Cinder extended it; Nova's ``volume-extended`` event): a running guest is
        told, so its disk shows the new size. Not attached: no-op. Raises
        HypervisorError when the hypervisor refuses. Fast. supports_attach_volume."""
        self._unsupported("supports_attach_volume")

    def attach_interface(self, uuid: str, vif: dict) -> None:
        """Hot-plug a NIC for a VIF the network driver already plugged. Raises DeviceBusy
        if the port is attached already. About a second. supports_attach_interface."""
        self._unsupported("supports_attach_interface")

    def detach_interface(self, uuid: str, vif: dict) -> None:
        """Unplug the NIC for ``vif["id"]``. Not attached: no-op. supports_attach_interface."""
        self._unsupported("supports_attach_interface")

    def get_console_output(self, uuid: str, max_lines: int | None = None) -> str:
        """The serial console log (the last ``max_lines`` lines), also for a stopped
        guest. Fast (reads a file). supports_console_output."""
        self._unsupported("supports_console_output")

    def get_remote_console(self, uuid: str, kind: str) -> dict:
        """Where to reach the guest's ``kind`` console ("vnc", "spice", "serial"):
        ``{"kind", "host", "port", "internal_access_path", "path"}``. ``path`` is a unix
        socket on ``host`` (then ``port`` is None), else None and ``host``/``port`` name a
        TCP listener; the console proxy (compute/api/console_proxy.py) connects to unix
        sockets only, so it must run on the guest's host. The API adds the token. A kind
        the driver lacks raises DriverCapabilityError; a guest that is not RUNNING raises
        InstanceInvalidState. Fast. supports_remote_console."""
        self._unsupported("supports_remote_console")

    def rescue(self, uuid: str, rescue_image: ImageRef) -> None:
        """Boot ``rescue_image`` with the instance's root disk attached as a second disk;
        RUNNING afterwards. From RUNNING or SHUTDOWN; rescuing a rescued guest raises
        InstanceInvalidState. Blocks like a reboot. supports_rescue."""
        self._unsupported("supports_rescue")

    def unrescue(self, uuid: str) -> None:
        """Boot the instance's own disks again; RUNNING. Not rescued: no-op. supports_rescue."""
        self._unsupported("supports_rescue")

    def get_diagnostics(self, uuid: str) -> dict:
        """Nova's standard diagnostics (``state``, ``driver``, ``hypervisor``,
        ``uptime``, ``num_cpus``, ``num_nics``, ``num_disks``, ``cpu_details``,
        ``nic_details``, ``disk_details``, ``memory_details``, ``config_drive``), with no
        backend IDs in it. Fast. supports_diagnostics."""
        self._unsupported("supports_diagnostics")


def merge_block_devices(kept: list[dict], fresh: list[dict]) -> list[dict]:
    """The instance's ``kept`` volume entries, each one ``fresh`` names (by the volume's
    serial) updated with its entry: a rebuild's new connection to a reimaged root volume."""
    def serial(entry: dict):
        return (entry.get("connection_info") or {}).get("serial")

    newer = {serial(entry): entry for entry in fresh if serial(entry)}
    return [{**entry, **newer[serial(entry)]} if serial(entry) in newer else entry for entry in kept]


__all__ = ["Capabilities", "HostResources", "HypervisorDriver", "ImageRef", "InstanceInfo", "InstanceSpec",
           "merge_block_devices",
           "SnapshotInfo", "WriteTo"]
