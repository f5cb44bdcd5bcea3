"""Where the QEMU driver keeps things on the host, and the instance record on disk.

``STATE_DIR/images/``            the image cache (one file per image id)
``STATE_DIR/instances/<uuid>/``  one directory per instance: ``spec.json`` (the
                                 InstanceSpec it was built from; its presence is what
                                 makes the instance exist), ``disk.qcow2`` (the root
                                 overlay), ``disk.eph0``/``disk.swap``, ``config.iso``,
                                 ``console.log``, ``qemu.pid``, ``qemu.err``,
                                 ``memory.state`` (a suspended guest's RAM and devices),
                                 ``rescue.qcow2``/``rescue.json`` while rescued,
                                 ``*.old`` and ``resize.json`` while a resize is pending
``RUN_DIR/<uuid>.qmp``           the QMP socket. Unix socket paths are limited to 107
                                 bytes, so it lives in a short directory named after a
                                 hash of the state directory (stable across restarts).
``RUN_DIR/<uuid>.vnc``           the guest's VNC server (a unix socket, never a TCP port;
                                 the console proxy relays browsers to it), beside the
                                 QMP socket for the same length limit.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..base import ImageRef, InstanceSpec

SOCKET_PATH_MAX = 100


def run_dir_for(state_dir: Path) -> Path:
    """A directory for the QMP sockets: STATE_DIR/run when short enough, else /tmp."""
    local = state_dir / "run"
    if len(str(local)) + len("/00000000-0000-0000-0000-000000000000.qmp") <= SOCKET_PATH_MAX:
        return local
    digest = hashlib.sha1(str(state_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"overcast-qemu-{digest}"


@dataclass(frozen=True)
class InstancePaths:
    dir: Path
    qmp: Path

    @classmethod
    def of(cls, state_dir: Path, run_dir: Path, uuid: str) -> InstancePaths:
        return cls(dir=state_dir / "instances" / uuid, qmp=run_dir / f"{uuid}.qmp")

    @property
    def vnc(self) -> Path:
        return self.qmp.with_suffix(".vnc")

    def __getattr__(self, name: str) -> Path:  # spec, disk, eph0, swap, config, console, pid, err
        files = {"spec": "spec.json", "disk": "disk.qcow2", "eph0": "disk.eph0", "swap": "disk.swap",
                 "config": "config.iso", "console": "console.log", "pid": "qemu.pid", "err": "qemu.err",
                 "stopping": "stopping", "saved": "memory.state", "rescue_disk": "rescue.qcow2",
                 "rescue_marker": "rescue.json", "old_spec": "spec.old.json", "old_disk": "disk.qcow2.old",
                 "old_eph0": "disk.eph0.old", "resize_marker": "resize.json"}
        if name in files:
            return self.dir / files[name]
        raise AttributeError(name)


def spec_to_json(spec: InstanceSpec) -> str:
    data = dataclasses.asdict(spec)
    if spec.user_data is not None:
        data["user_data"] = base64.b64encode(spec.user_data).decode()
    return json.dumps(data, indent=1, sort_keys=True)


def write_spec(path: Path, spec: InstanceSpec) -> None:
    """``spec`` into ``path`` atomically, readable by its owner only: the volumes' connection
    info in it may hold an iSCSI CHAP password."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(spec_to_json(spec))
    os.replace(tmp, path)


def spec_from_json(text: str) -> InstanceSpec:
    data = json.loads(text)
    image = data.pop("image", None)
    user_data = data.pop("user_data", None)
    return InstanceSpec(**data, image=ImageRef(**image) if image else None,
                        user_data=base64.b64decode(user_data) if user_data else None)
