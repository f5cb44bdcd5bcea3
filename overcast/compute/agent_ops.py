"""What each agent operation does with the driver and the states it reports.

``run(agent, payload)`` runs in a worker thread and returns ``{"values": {...}, "after":
...}``: the instance columns to write and the claim bookkeeping the conductor does next
(``released``: the host's claim goes; ``confirm_resize``/``revert_resize``; ``deleted``).
A failure becomes a fault; ``failed_values`` says what the server looks like then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from overcast.common.db import utcnow
from overcast.compute import power_state as ps
from overcast.compute import states
from overcast.compute.drivers.errors import InstanceNotFound


def _power(agent, uuid: str) -> int:
    try:
        return agent.driver.get_info(uuid).power_state
    except InstanceNotFound:
        return ps.NOSTATE


def _state_after(agent, uuid: str, vm_state: str, **extra) -> dict:
    return {"values": {"vm_state": vm_state, "task_state": None, "power_state": _power(agent, uuid), **extra}}


def _spec(payload: dict, key: str = "spec"):
    from overcast.compute.agent import instance_spec

    return instance_spec(payload[key])


def _plugged(agent, payload: dict, key: str = "spec"):
    """The spec with its VIFs plugged on this host by the network agent (tap and bridge)."""
    data = dict(payload[key])
    data["vifs"] = agent.plug_vifs(data.get("vifs") or [])
    return _spec({key: data}, key)


def _ensure(agent, payload: dict) -> None:
    """A guest the host lost (restart, fake driver) is built again from its spec, as a
    hard reboot or start recreates a missing domain in Nova."""
    uuid = payload["uuid"]
    if uuid not in agent.driver.list_instances():
        agent.driver.spawn(_plugged(agent, payload))


def build(agent, payload):
    from overcast.compute import agent_volumes

    spec, attached = agent_volumes.prepare_boot(agent, payload, _plugged(agent, payload))
    agent.driver.spawn(spec)
    agent_volumes.complete_boot(agent, attached)
    return _state_after(agent, payload["uuid"], states.ACTIVE, launched_at=utcnow().isoformat())


def terminate(agent, payload):
    agent.driver.destroy(payload["uuid"])
    return {"values": {}, "after": "deleted"}


def stop(agent, payload):
    if payload["uuid"] in agent.driver.list_instances():
        agent.driver.power_off(payload["uuid"], payload.get("timeout", 60))
    return _state_after(agent, payload["uuid"], states.STOPPED)


def start(agent, payload):
    _ensure(agent, payload)
    agent.driver.power_on(payload["uuid"])
    return _state_after(agent, payload["uuid"], states.ACTIVE)


def reboot(agent, payload):
    hard = payload.get("hard", False)
    if hard:
        _ensure(agent, payload)
    agent.driver.reboot(payload["uuid"], hard)
    return _state_after(agent, payload["uuid"], states.ACTIVE)


def _simple(method: str, vm_state: str) -> Callable:
    def run(agent, payload):
        getattr(agent.driver, method)(payload["uuid"])
        return _state_after(agent, payload["uuid"], vm_state)

    return run


def rebuild(agent, payload):
    from overcast.compute import agent_reimage

    spec, attachment_id = _plugged(agent, payload), None
    if payload.get("reimage"):  # Nova 2.93: the root volume gets the new image first
        spec, attachment_id = agent_reimage.reimage_root(agent, payload, spec)
    if spec.uuid in agent.driver.list_instances():
        agent.driver.rebuild(spec)
    else:
        agent.driver.spawn(spec)
    if attachment_id:
        agent_reimage.complete(agent, attachment_id)
    if payload.get("stopped"):  # a stopped server stays stopped, as Nova's rebuild does
        agent.driver.power_off(spec.uuid, 0)
    return _state_after(agent, spec.uuid, states.STOPPED if payload.get("stopped") else states.ACTIVE,
                        launched_at=utcnow().isoformat())


def resize(agent, payload):
    agent.driver.resize(payload["uuid"], _spec(payload, "new_spec"))
    return {**_state_after(agent, payload["uuid"], states.RESIZED, **payload["on_success"]), "after": "resized"}


def confirm_resize(agent, payload):
    agent.driver.confirm_resize(payload["uuid"])
    running = _power(agent, payload["uuid"]) == ps.RUNNING
    result = _state_after(agent, payload["uuid"], states.ACTIVE if running else states.STOPPED, old_flavor=None)
    return {**result, "after": "confirm_resize"}


def revert_resize(agent, payload):
    agent.driver.revert_resize(payload["uuid"])
    running = _power(agent, payload["uuid"]) == ps.RUNNING
    result = _state_after(agent, payload["uuid"], states.ACTIVE if running else states.STOPPED,
                          **payload["on_success"])
    return {**result, "after": "revert_resize"}


def snapshot(agent, payload):
    agent.upload_snapshot(payload["uuid"], payload["image_id"])
    return {"values": {"task_state": None, "power_state": _power(agent, payload["uuid"])}}


def shelve(agent, payload):
    agent.upload_snapshot(payload["uuid"], payload["image_id"])
    return shelve_offload(agent, payload)


def shelve_offload(agent, payload):
    agent.driver.destroy(payload["uuid"])
    return {"values": {"vm_state": states.SHELVED_OFFLOADED, "task_state": None, "power_state": ps.NOSTATE,
                       "host": None, "node": None}, "after": "released"}


def unshelve(agent, payload):
    agent.driver.spawn(_plugged(agent, payload))
    return {**_state_after(agent, payload["uuid"], states.ACTIVE), "after": "unshelved"}


def rescue(agent, payload):
    spec = _spec(payload)
    agent.driver.rescue(payload["uuid"], spec.image)
    return _state_after(agent, payload["uuid"], states.RESCUED)


def _keep_state(agent, uuid: str) -> dict:
    return {"task_state": None, "power_state": _power(agent, uuid)}


def _error_state(agent, uuid: str) -> dict:
    return {"vm_state": states.ERROR, "task_state": None, "power_state": _power(agent, uuid)}


@dataclass(frozen=True)
class Op:
    run: Callable
    event: str
    notification: str
    failed_values: Callable = _keep_state
    after_failure: str | None = None


OPS = {
    "build_instance": Op(build, "compute__do_build_and_run_instance", "create", _error_state, "released"),
    "terminate_instance": Op(terminate, "compute_terminate_instance", "delete"),
    "stop_instance": Op(stop, "compute_stop_instance", "power_off"),
    "start_instance": Op(start, "compute_start_instance", "power_on"),
    "reboot_instance": Op(reboot, "compute_reboot_instance", "reboot", _error_state),
    "pause_instance": Op(_simple("pause", states.PAUSED), "compute_pause_instance", "pause"),
    "unpause_instance": Op(_simple("unpause", states.ACTIVE), "compute_unpause_instance", "unpause"),
    "suspend_instance": Op(_simple("suspend", states.SUSPENDED), "compute_suspend_instance", "suspend"),
    "resume_instance": Op(_simple("resume", states.ACTIVE), "compute_resume_instance", "resume"),
    "rebuild_instance": Op(rebuild, "compute_rebuild_instance", "rebuild", _error_state),
    "resize_instance": Op(resize, "compute_resize_instance", "resize", after_failure="revert_claim"),
    "confirm_resize": Op(confirm_resize, "compute_confirm_resize", "resize.confirm"),
    "revert_resize": Op(revert_resize, "compute_revert_resize", "resize.revert"),
    "snapshot_instance": Op(snapshot, "compute_snapshot_instance", "snapshot"),
    "shelve_instance": Op(shelve, "compute_shelve_instance", "shelve"),
    "shelve_offload_instance": Op(shelve_offload, "compute_shelve_offload_instance", "shelve_offload"),
    "unshelve_instance": Op(unshelve, "compute_unshelve_instance", "unshelve", _error_state),
    "rescue_instance": Op(rescue, "compute_rescue_instance", "rescue"),
    "unrescue_instance": Op(_simple("unrescue", states.ACTIVE), "compute_unrescue_instance", "unrescue"),
}
