"""iSCSI exports of volume files with Linux's user-space target, tgt (Cinder's ``tgtadm``
target helper, Debian package ``tgt``).

One target per exported volume, named as Cinder names them
(``iqn.2010-10.org.openstack:volume-<id>``), its file as LUN 1 (tgt keeps LUN 0 for the
controller), reached on one portal (``ip:port``) and guarded by CHAP: each volume gets
its own user name and password the first time it is exported, kept in
``DATA_DIR/volume-targets/<id>.json`` (mode 0600) so a later export, and a tgtd started
again after a restart, give the same credentials, as Cinder keeps them in the volume's
``provider_auth``.

tgtd keeps its targets in memory only: ``restore`` exports again every volume that has a
credentials file (the agent calls it at start). ``ensure_daemon`` starts tgtd when it
does not answer; ``started`` says whether this object started it (``stop_daemon`` ends
it, for tests). A grown file is shown at its new size once its LUN is made again
(``refresh``); tgt allows this while an initiator is logged in, and the initiator sees
the new capacity at its next READ CAPACITY.

Every call blocks for a few tgtadm runs (milliseconds each).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import string
import subprocess
import time
from pathlib import Path

from .errors import VolumeDriverError

IQN_PREFIX = "iqn.2010-10.org.openstack:"
LUN = 1
_ALPHABET = string.ascii_letters + string.digits
_TARGET_LINE = re.compile(r"^Target (\d+): (\S+)$", re.MULTILINE)


def iqn_of(volume_id: str) -> str:
    return f"{IQN_PREFIX}volume-{volume_id}"


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


class TgtTargets:
    def __init__(self, state_dir, ip: str = "127.0.0.1", port: int = 3260, tgtadm: str = "tgtadm",
                 tgtd: str = "tgtd"):
        self.state = Path(state_dir)
        self.ip, self.port = ip, int(port)
        self.tgtadm, self.tgtd = tgtadm, tgtd
        self.started = False

    @property
    def portal(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{host}:{self.port}"

    # -- the daemon ------------------------------------------------------------------------

    def _adm(self, what: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        try:
            done = subprocess.run([self.tgtadm, "--lld", "iscsi", *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise VolumeDriverError(what=what, reason=str(error)) from None
        if check and done.returncode != 0:
            reason = (done.stderr or done.stdout).strip() or f"tgtadm exited {done.returncode}"
            raise VolumeDriverError(what=what, reason=reason)
        return done

    def running(self) -> bool:
        if shutil.which(self.tgtadm) is None:
            return False
        return self._adm("asking tgtd", "--mode", "target", "--op", "show", check=False).returncode == 0

    def ensure_daemon(self) -> None:
        """Start tgtd (it daemonizes) with its portal unless one answers already."""
        if shutil.which(self.tgtd) is None or shutil.which(self.tgtadm) is None:
            raise VolumeDriverError(what="starting the iSCSI target", reason="tgtd is not installed (Debian package "
                                                                              "tgt)")
        if self.running():
            return
        try:
            done = subprocess.run([self.tgtd, "--iscsi", f"portal={self.portal}"], capture_output=True, text=True,
                                  timeout=30, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise VolumeDriverError(what="starting tgtd", reason=str(error)) from None
        deadline = time.monotonic() + 10
        while not self.running():
            if time.monotonic() > deadline:
                reason = (done.stderr or done.stdout).strip() or "it does not answer tgtadm"
                raise VolumeDriverError(what="starting tgtd", reason=reason)
            time.sleep(0.05)
        self.started = True

    def stop_daemon(self) -> None:
        """End tgtd and every target in it (only call it for a tgtd this object started)."""
        if self.running():
            self._adm("stopping tgtd", "--mode", "system", "--op", "delete", "--force", check=False)
        self.started = False

    # -- targets -----------------------------------------------------------------------------

    def targets(self) -> dict[str, int]:
        """IQN -> tid of every target tgtd holds."""
        out = self._adm("listing iSCSI targets", "--mode", "target", "--op", "show").stdout
        return {iqn: int(tid) for tid, iqn in _TARGET_LINE.findall(out)}

    def _auth_file(self, volume_id: str) -> Path:
        return self.state / f"{volume_id}.json"

    def _credentials(self, volume_id: str, path: str) -> dict:
        found = self._auth_file(volume_id)
        if found.exists():
            saved = json.loads(found.read_text())
            if saved.get("path") == path:
                return saved
        self.state.mkdir(parents=True, exist_ok=True, mode=0o700)
        saved = {"path": path, "username": _random(20), "password": _random(16)}
        temp = found.with_suffix(".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(saved, handle)
        os.replace(temp, found)
        return saved

    def export(self, volume_id: str, path: str) -> dict:
        """Export ``path`` as the volume's target (again, if tgtd lost it); the properties
        Cinder's iSCSI targets give (``target_portal``, ``target_iqn``, ``target_lun``,
        ``auth_method``, ``auth_username``, ``auth_password``). Idempotent."""
        self.ensure_daemon()
        auth = self._credentials(volume_id, path)
        iqn = iqn_of(volume_id)
        held = self.targets()
        if iqn not in held:
            tid = next(n for n in range(1, len(held) + 2) if n not in held.values())
            what = f"exporting volume {volume_id}"
            self._adm(what, "--mode", "target", "--op", "new", "--tid", str(tid), "--targetname", iqn)
            try:
                self._adm(what, "--mode", "logicalunit", "--op", "new", "--tid", str(tid), "--lun", str(LUN),
                          "--backing-store", path)
                self._adm(what, "--mode", "account", "--op", "delete", "--user", auth["username"], check=False)
                self._adm(what, "--mode", "account", "--op", "new", "--user", auth["username"], "--password",
                          auth["password"])
                self._adm(what, "--mode", "account", "--op", "bind", "--tid", str(tid), "--user", auth["username"])
                self._adm(what, "--mode", "target", "--op", "bind", "--tid", str(tid), "--initiator-address", "ALL")
            except VolumeDriverError:
                self._drop(tid, auth["username"])
                raise
        return {"target_discovered": False, "target_portal": self.portal, "target_iqn": iqn, "target_lun": LUN,
                "volume_id": volume_id, "auth_method": "CHAP", "auth_username": auth["username"],
                "auth_password": auth["password"]}

    def _drop(self, tid: int, username: str | None) -> None:
        self._adm("removing an iSCSI target", "--mode", "target", "--op", "delete", "--force", "--tid", str(tid),
                  check=False)
        if username:
            self._adm("removing an iSCSI account", "--mode", "account", "--op", "delete", "--user", username,
                      check=False)

    def unexport(self, volume_id: str) -> None:
        """Remove the volume's target (sessions on it end) and forget its credentials.
        Idempotent."""
        found = self._auth_file(volume_id)
        username = json.loads(found.read_text()).get("username") if found.exists() else None
        if self.running():
            tid = self.targets().get(iqn_of(volume_id))
            if tid is not None:
                self._drop(tid, username)
        found.unlink(missing_ok=True)

    def exported(self) -> list[str]:
        """Volume ids that have an export (credentials kept), sorted."""
        if not self.state.is_dir():
            return []
        return sorted(path.stem for path in self.state.glob("*.json"))

    def restore(self) -> list[str]:
        """Export again every volume that had an export (after tgtd or the host restarted);
        a volume whose file is gone loses its export. The ids exported."""
        done = []
        for volume_id in self.exported():
            path = json.loads(self._auth_file(volume_id).read_text()).get("path", "")
            if not os.path.isfile(path):
                self._auth_file(volume_id).unlink(missing_ok=True)
                continue
            self.export(volume_id, path)
            done.append(volume_id)
        return done

    def refresh(self, volume_id: str) -> None:
        """Make the volume's LUN again so tgt serves the file at its current size."""
        if not self._auth_file(volume_id).exists() or not self.running():
            return
        path = json.loads(self._auth_file(volume_id).read_text())["path"]
        tid = self.targets().get(iqn_of(volume_id))
        if tid is None:
            self.export(volume_id, path)
            return
        what = f"refreshing the export of volume {volume_id}"
        self._adm(what, "--mode", "logicalunit", "--op", "delete", "--tid", str(tid), "--lun", str(LUN))
        self._adm(what, "--mode", "logicalunit", "--op", "new", "--tid", str(tid), "--lun", str(LUN),
                  "--backing-store", path)


__all__ = ["IQN_PREFIX", "LUN", "TgtTargets", "iqn_of"]
