"""The compute agent: runs on a host, takes casts on ``compute.<host>`` and drives the
hypervisor driver. It holds no database connection: it reports every result to the
conductor (``instance_update``) and learns its instances from it on start, so the same
code runs in the all-in-one process (memory bus) and as ``overcast agent compute`` on
another machine (RabbitMQ).

One operation per instance at a time (a lock per uuid); driver calls run in threads.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import tempfile
import traceback

from overcast.common import heartbeats
from overcast.common.db import utcnow
from overcast.compute import agent_interfaces, agent_moves, agent_power
from overcast.compute import agent_reimage, agent_volumes
from overcast.compute import power_state as ps
from overcast.compute import states
from overcast.compute.agent_ops import OPS as BASIC_OPS
from overcast.compute.drivers import HypervisorDriver, ImageRef, InstanceSpec
from overcast.compute.drivers.errors import InstanceNotFound

OPS = {**BASIC_OPS, **agent_moves.OPS}
CONDUCTOR = "compute-conductor"
REPORT_INTERVAL = 60.0
PLUG_TIMEOUT = 30.0  # seconds the network agent may take to plug one port
log = logging.getLogger("overcast.compute.agent")


def instance_spec(data: dict) -> InstanceSpec:
    """An InstanceSpec from the payload the API and conductor send (see spec_payload)."""
    data = dict(data)
    for key in ("boot_volumes", "owner"):  # what agent_volumes.prepare_boot reads
        data.pop(key, None)
    image = data.pop("image", None)
    user_data = data.pop("user_data", None)
    return InstanceSpec(**data, image=ImageRef(**image) if image else None,
                        user_data=base64.b64decode(user_data) if user_data else None)


class ComputeAgent:
    def __init__(self, bus, driver: HypervisorDriver, host: str, zone: str = "nova", ratios: dict | None = None,
                 power_sync_interval: float = 0, host_ip: str = "127.0.0.1"):
        self.bus = bus
        self.power_sync_interval = power_sync_interval  # seconds between power-state syncs; 0: none
        self.driver = driver
        self.host = host
        self.host_ip = host_ip  # compute.my_ip: os-hypervisors host_ip, os-migrations dest_host
        self.zone = zone
        self.ratios = ratios or {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: list[asyncio.Task] = []
        self.live_aborts: set[str] = set()  # instances whose live migration was asked to stop (agent_moves)
        signals = getattr(driver, "live", None)
        if signals is not None:  # a switch to post-copy shows in the migration's status, as Nova's
            signals.post_copy_listener = lambda uuid: agent_moves.post_copy(self, uuid)
        self.waiters = agent_reimage.Waiters()  # events operations wait for (volume-reimaged)

    # -- start and stop ------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.driver.init_host, self.host)
        await self.bus.call(CONDUCTOR, "register_host", {"host": self.host, "zone": self.zone,
                                                         "report": await self.report()}, timeout=30)
        await self.reconcile()
        handlers = {name: self._handler(name) for name in OPS}
        handlers.update(get_console_output=self.console_output, get_remote_console=self.remote_console,
                        get_diagnostics=self.diagnostics, external_instance_event=self.external_event)
        handlers.update(agent_interfaces.handlers(self))
        handlers.update(agent_volumes.handlers(self))
        handlers.update(agent_moves.handlers(self))
        await self.bus.serve(f"compute.{self.host}", handlers)
        self._tasks.append(asyncio.create_task(heartbeats.report_forever(self.bus, "nova-compute", self.host,
                                                                         "compute")))
        self._tasks.append(asyncio.create_task(self._report_forever()))
        if self.power_sync_interval > 0:
            self._tasks.append(asyncio.create_task(agent_power.sync_forever(self, self.power_sync_interval)))

    async def stop(self) -> None:
        self.waiters.cancel_all()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def report(self) -> dict:
        res = await asyncio.to_thread(self.driver.host_resources)
        return {"hypervisor_hostname": res.hypervisor_hostname, "hypervisor_type": res.hypervisor_type,
                "hypervisor_version": res.hypervisor_version, "host_ip": self.host_ip, "vcpus": res.vcpus,
                "memory_mb": res.memory_mb,
                "local_gb": res.local_gb, "running_vms": res.running_vms, "cpu_info": res.cpu_info,
                "capabilities": self.driver.capabilities.as_dict(), **self.ratios}

    async def _report_forever(self) -> None:
        while True:
            await asyncio.sleep(REPORT_INTERVAL)
            try:
                await self.bus.cast(CONDUCTOR, "report_node", {"host": self.host, "report": await self.report()})
            except Exception:  # the broker may be restarting; the next report tries again
                log.warning("resource report from %s not sent", self.host, exc_info=True)

    async def reconcile(self) -> None:
        """After a restart: every instance the conductor places here gets a true state."""
        known = await self.bus.call(CONDUCTOR, "host_instances", {"host": self.host}, timeout=30)
        present = set(await asyncio.to_thread(self.driver.list_instances))
        for inst in known:
            uuid, task = inst["uuid"], inst["task_state"]
            if task == "deleting":
                await asyncio.to_thread(self.driver.destroy, uuid)
                await self.bus.cast(CONDUCTOR, "instance_update", {"uuid": uuid, "after": "deleted", "values": {}})
                continue
            if uuid in present:
                power = (await asyncio.to_thread(self.driver.get_info, uuid)).power_state
                values = {"power_state": power, "task_state": None}
                if inst["vm_state"] == states.BUILDING:
                    values["vm_state"] = states.ACTIVE
            elif inst["vm_state"] == states.BUILDING:
                values = {"vm_state": states.ERROR, "task_state": None, "power_state": ps.NOSTATE}
            else:  # the guest is gone (a host reboot, the fake driver's memory): it is off
                values = {"power_state": ps.NOSTATE, "task_state": None}
                if inst["vm_state"] in (states.ACTIVE, states.PAUSED, states.SUSPENDED):
                    values["vm_state"] = states.STOPPED
            fault = None
            if values.get("vm_state") == states.ERROR:
                fault = {"code": 500, "message": "The compute agent restarted while the server was building",
                         "host": self.host}
            await self.bus.cast(CONDUCTOR, "instance_update",
                                {"uuid": uuid, "values": values, "check_task": False, "fault": fault})

    # -- operations ------------------------------------------------------------------

    def _lock(self, uuid: str) -> asyncio.Lock:
        return self._locks.setdefault(uuid, asyncio.Lock())

    lock = _lock  # for the other host's half of a move (agent_moves.handlers)

    def _handler(self, name: str):
        op = OPS[name]

        async def handle(payload: dict) -> None:
            uuid = payload["uuid"]
            async with self._lock(uuid):
                start = utcnow().isoformat()
                report = {"uuid": uuid, "expected_task_state": payload.get("task_state")}
                try:
                    result = await asyncio.to_thread(op.run, self, payload)
                    report.update(values=result.get("values", {}), after=result.get("after"))
                    outcome, trace = "Success", None
                except Exception as error:  # any driver failure becomes a fault and an event
                    log.warning("%s of %s failed: %s", name, uuid, error)
                    trace = traceback.format_exc()
                    outcome = "Error"
                    report.update(values=op.failed_values(self, uuid), after=op.after_failure,
                                  fault={"code": 500, "message": str(error) or type(error).__name__,
                                         "details": trace, "host": self.host})
                report["event"] = {"name": op.event, "request_id": payload.get("request_id", ""), "start": start,
                                   "finish": utcnow().isoformat(), "result": outcome, "traceback": trace,
                                   "host": self.host}
                report["notify"] = op.notification
                await self.bus.cast(CONDUCTOR, "instance_update", report)
            if name == "terminate_instance":
                self._locks.pop(uuid, None)

        return handle

    async def console_output(self, payload: dict) -> str:
        lines = payload.get("length")
        try:
            return await asyncio.to_thread(self.driver.get_console_output, payload["uuid"], lines)
        except InstanceNotFound:
            return ""

    async def diagnostics(self, payload: dict) -> dict:
        return await asyncio.to_thread(self.driver.get_diagnostics, payload["uuid"])

    async def external_event(self, payload: dict) -> None:
        """Events from the network and volume services (network-vif-plugged, ...).
        ``volume-extended`` (tag: the volume id) tells the guest its volume grew; an
        operation waiting for an event (a rebuild for ``volume-reimaged``) gets it."""
        log.info("event %s for %s (%s)", payload.get("name"), payload.get("uuid"), payload.get("status"))
        self.waiters.deliver(payload["uuid"], payload.get("name"), payload.get("tag"),
                             payload.get("status") or "completed")
        if payload.get("name") == "volume-extended" and payload.get("tag"):
            await agent_volumes.volume_extended(self, payload["uuid"], payload["tag"])

    async def remote_console(self, payload: dict) -> dict:
        return await asyncio.to_thread(self.driver.get_remote_console, payload["uuid"], payload["kind"])

    # -- helpers the operations use (in worker threads) ---------------------------------

    def upload_snapshot(self, uuid: str, image_id: str) -> None:
        """Snapshot the root disk into the image service's record ``image_id``."""
        fd, path = tempfile.mkstemp(prefix="snapshot-")
        os.close(fd)
        try:
            info = self.driver.snapshot(uuid, path)
            with open(path, "rb") as handle:
                data = base64.b64encode(handle.read()).decode()
            self._call(CONDUCTOR, "upload_image", {"image_id": image_id, "data": data,
                                                   "disk_format": info.disk_format,
                                                   "container_format": info.container_format})
        finally:
            os.unlink(path)

    def plug_vifs(self, vifs: list[dict]) -> list[dict]:
        """Each VIF plugged by this host's network agent, with the tap and bridge it made."""
        return [{**vif, **self._call(f"network.{self.host}", "plug_port", {"port_id": vif["id"], "host": self.host},
                                     timeout=PLUG_TIMEOUT)}
                for vif in vifs]

    def _call(self, topic: str, kind: str, payload: dict, timeout: float = 600):
        call = self.bus.call(topic, kind, payload, timeout=timeout)
        return asyncio.run_coroutine_threadsafe(call, self._loop).result()

    call_sync = _call  # a bus call from an operation's worker thread (agent_moves)
