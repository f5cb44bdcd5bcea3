"""The agent's power-state sync: an idle ACTIVE guest found stopped becomes SHUTOFF with a
``stop`` action; a drifted power state is written back; busy or locked guests are left."""

from __future__ import annotations

import asyncio

from overcast.compute import agent_power
from overcast.compute import power_state as ps
from overcast.compute.drivers import InstanceInfo
from overcast.compute.drivers.errors import InstanceNotFound


class Bus:
    def __init__(self, known):
        self.known, self.casts = known, []

    async def call(self, topic, method, payload, timeout=None):
        assert method == "host_instances"
        return self.known

    async def cast(self, topic, method, payload):
        self.casts.append(payload)


class Driver:
    def __init__(self, powers):
        self.powers = powers

    def get_info(self, uuid):
        if uuid not in self.powers:
            raise InstanceNotFound(uuid=uuid)
        return InstanceInfo(power_state=self.powers[uuid], vcpus=1, memory_mb=64, cpu_time_ns=0)


class Agent:
    def __init__(self, known, powers):
        self.bus, self.driver, self.host = Bus(known), Driver(powers), "h1"
        self.locks = {}

    def _lock(self, uuid):
        return self.locks.setdefault(uuid, asyncio.Lock())


def inst(uuid, vm="active", task=None, power=ps.RUNNING):
    return {"uuid": uuid, "vm_state": vm, "task_state": task, "power_state": power}


def test_a_guest_gone_from_an_active_server_stops_it_with_an_action():
    agent = Agent([inst("dead"), inst("crashed"), inst("fine"), inst("busy", task="rebooting"),
                   inst("paused", power=ps.RUNNING), inst("off", vm="stopped", power=ps.SHUTDOWN)],
                  {"crashed": ps.CRASHED, "fine": ps.RUNNING, "busy": ps.SHUTDOWN, "paused": ps.PAUSED,
                   "off": ps.RUNNING})
    assert asyncio.run(agent_power.sync_once(agent)) == 3
    by_uuid = {cast["uuid"]: cast for cast in agent.bus.casts}
    assert set(by_uuid) == {"dead", "crashed", "paused"}
    for uuid, power in (("dead", ps.NOSTATE), ("crashed", ps.CRASHED)):
        cast = by_uuid[uuid]
        assert cast["values"] == {"vm_state": "stopped", "power_state": power}
        assert cast["record_action"] == "stop" and cast["expected_task_state"] is None
        assert cast["event"]["name"] == "compute_stop_instance" and cast["event"]["request_id"].startswith("req-")
    assert by_uuid["paused"] == {"uuid": "paused", "expected_task_state": None, "values": {"power_state": ps.PAUSED}}


def test_a_guest_whose_operation_holds_the_lock_is_left_alone():
    agent = Agent([inst("dead")], {})

    async def run():
        async with agent._lock("dead"):
            return await agent_power.sync_once(agent)

    assert asyncio.run(run()) == 0 and agent.bus.casts == []


def test_the_conductor_records_the_stop_only_when_the_server_was_idle(db):
    import uuid as uuids

    from sqlalchemy import select

    from overcast.common.config import Config
    from overcast.compute.models import Instance, InstanceAction, InstanceActionEvent
    from overcast.compute.service import ComputeService

    compute = ComputeService(Config(), db)
    idle, busy = str(uuids.uuid4()), str(uuids.uuid4())
    with db.session() as session:
        for ident, task in ((idle, None), (busy, "rebooting")):
            session.add(Instance(uuid=ident, project_id="p1", user_id="u1", display_name="vm", flavor_id="1", flavor={},
                                 vcpus=1, memory_mb=64, root_gb=1, host="h1", vm_state="active", task_state=task))
    for ident in (idle, busy):
        report = agent_power._report(inst(ident), ps.NOSTATE, "h1")
        compute.progress.apply(ident, report["values"], None, report["event"], record_action=report["record_action"])
    with db.session() as session:
        actions = session.scalars(select(InstanceAction)).all()
        assert [(a.instance_uuid, a.action, a.user_id, a.project_id) for a in actions] == [(idle, "stop", "u1", "p1")]
        events = session.scalars(select(InstanceActionEvent)).all()
        assert [(e.action_id, e.event) for e in events] == [(actions[0].id, "compute_stop_instance")]
        assert session.get(Instance, idle).vm_state == "stopped"
        assert session.get(Instance, busy).vm_state == "active"
