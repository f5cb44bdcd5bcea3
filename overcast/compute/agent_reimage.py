"""Nova 2.93's rebuild of a volume-backed server (``_rebuild_volume_backed_instance``), in
the rebuild operation's worker thread.

The guest is stopped, so the hypervisor lets go of its root volume. The volume service
then swaps the server's attachment of the volume for a reserved one (the old connection
goes) and reimages the volume with ``reimage_reserved``; the agent waits for Cinder's
``volume-reimaged`` event (``compute.reimage_timeout_per_gb`` seconds per GiB of the
image, as Nova; no event in time, or a failed one, and the rebuild fails: the server goes
ERROR). The new attachment is connected for this host and the driver rebuilds the guest
on it (the spec's root entry replaces the old connection), then it is completed.
"""

from __future__ import annotations

import dataclasses
import threading

from overcast.compute.agent_volumes import VOLUME_CONDUCTOR
from overcast.compute.drivers.errors import HypervisorError

EVENT = "volume-reimaged"


class Waiters:
    """Events a worker thread waits for, set from the agent's loop (Nova's
    ``wait_for_instance_event``): register before asking for the work, then wait."""

    def __init__(self):
        self._waiting: dict[tuple[str, str, str], tuple[threading.Event, list]] = {}
        self._lock = threading.Lock()

    def expect(self, uuid: str, name: str, tag: str) -> tuple:
        key = (uuid, name, tag)
        with self._lock:
            self._waiting[key] = (threading.Event(), [])
        return key

    def wait(self, key: tuple, timeout: float) -> str | None:
        """The event's status ("completed", "failed"), or None after ``timeout`` seconds."""
        event, status = self._waiting[key]
        try:
            return status[0] if event.wait(timeout) else None
        finally:
            with self._lock:
                self._waiting.pop(key, None)

    def forget(self, key: tuple) -> None:
        with self._lock:
            self._waiting.pop(key, None)

    def cancel_all(self) -> None:
        """The agent stops: every waiter wakes as if its event failed."""
        with self._lock:
            waiting = list(self._waiting.values())
        for event, status in waiting:
            status.append("failed")
            event.set()

    def deliver(self, uuid: str, name: str, tag: str | None, status: str) -> bool:
        """Wake whoever waits for this event; False when nobody does."""
        with self._lock:
            found = self._waiting.get((uuid, name, tag or ""))
        if found is None:
            return False
        found[1].append(status)
        found[0].set()
        return True


class ReimageFailed(HypervisorError):
    """The root volume was not reimaged (Nova's BuildAbortException)."""

    def __init__(self, uuid: str, why: str = ""):
        super().__init__(f"Build of instance {uuid} aborted: Failed to rebuild volume backed instance.{why}")


def reimage_root(agent, payload: dict, spec):
    """Reimage the server's root volume; the spec to rebuild with and the attachment to
    complete once the guest runs on it."""
    reimage, uuid = payload["reimage"], spec.uuid
    if uuid in agent.driver.list_instances():
        agent.driver.power_off(uuid, payload.get("timeout", 60))
    key = agent.waiters.expect(uuid, EVENT, reimage["volume_id"])
    try:
        found = agent.call_sync(VOLUME_CONDUCTOR, "reimage_boot_volume",
                                {"instance_uuid": uuid, "volume_id": reimage["volume_id"],
                                 "image_id": reimage["image_id"], "owner": payload["spec"].get("owner") or {}},
                                timeout=60)
    except Exception as error:
        agent.waiters.forget(key)
        raise ReimageFailed(uuid, f" {error}") from error
    status = agent.waiters.wait(key, reimage["timeout"])
    if status is None:
        raise ReimageFailed(uuid, f" No {EVENT} event for volume {reimage['volume_id']} within "
                                  f"{reimage['timeout']:g} seconds.")
    if status == "failed":
        raise ReimageFailed(uuid, f" Cinder reported failure during reimaging with {EVENT} for instance {uuid}")
    attachment_id, device = found["attachment_id"], reimage.get("device") or "/dev/vda"
    info = agent.call_sync(VOLUME_CONDUCTOR, "attachment_update",
                           {"attachment_id": attachment_id, "connector": {"host": agent.host, "mountpoint": device}},
                           timeout=120)
    if (info.get("data") or {}).get("encrypted"):
        key = agent.call_sync(VOLUME_CONDUCTOR, "attachment_encryption",
                              {"attachment_id": attachment_id, "instance_uuid": uuid}, timeout=30)
        info = {**info, "data": {**info["data"], "encryption": key}}
    root = {"connection_info": info, "device": device, "boot_index": 0}
    return dataclasses.replace(spec, block_devices=[root]), attachment_id


def complete(agent, attachment_id: str, device: str = "/dev/vda") -> None:
    agent.call_sync(VOLUME_CONDUCTOR, "attachment_complete", {"attachment_id": attachment_id, "mountpoint": device})
