"""ComputeService: Nova's logic, one small class per resource, no HTTP in here."""

from __future__ import annotations

import socket

from sqlalchemy import select

from overcast.common.config import Config
from overcast.common.db import Database
from overcast.compute.models import ComputeServiceRow
from overcast.compute.scheduler import Scheduler
from overcast.compute.service.aggregates import Aggregates
from overcast.compute.service.consoles import Consoles
from overcast.compute.service.flavors import Flavors
from overcast.compute.service.hosts import Hosts
from overcast.compute.service.image_proxy import ImageProxy
from overcast.compute.service.interfaces import Interfaces
from overcast.compute.service.keypairs import Keypairs
from overcast.compute.service.legacy_hosts import LegacyHosts
from overcast.compute.service.lifecycle import Lifecycle
from overcast.compute.service.migrations import Migrations
from overcast.compute.service.network_api import NetworkApi
from overcast.compute.service.network_proxy import NetworkProxy
from overcast.compute.service.progress import Progress
from overcast.compute.service.quotas import Quotas
from overcast.compute.service.registry import Registry
from overcast.compute.service.server_actions import ServerActions
from overcast.compute.service.server_groups import ServerGroups
from overcast.compute.service.server_meta import InstanceActions, Metadata, Tags
from overcast.compute.service.servers import Servers
from overcast.compute.service.task_log import TaskLog
from overcast.compute.service.usage import Usage
from overcast.compute.service.volume_attachments import VolumeAttachments
from overcast.compute.service.volume_backed import VolumeBackedImages


class ComputeService:
    def __init__(self, config: Config, db: Database, bus=None, image=None, network=None, volume=None):
        self.config = config
        self.db = db
        self.bus = bus
        self.image = image
        self.network_api = NetworkApi(network)
        self.network_proxy = NetworkProxy(self)
        self.interfaces = Interfaces(self)
        self.host = config.compute.host or socket.gethostname()
        self.flavors = Flavors(db)
        self.quotas = Quotas(db, {"key_pairs": config.compute.quota_key_pairs})
        self.keypairs = Keypairs(db, self.quotas)
        self.server_groups = ServerGroups(db, self.quotas)
        self.scheduler = Scheduler(db)
        self.registry = Registry(db, config.compute.availability_zone)
        self.hosts = Hosts(db, config)
        self.aggregates = Aggregates(db, config.compute.availability_zone)
        self.legacy_hosts = LegacyHosts(db, self.hosts)
        self.task_log = TaskLog(self.hosts)
        self.migrations = Migrations(db)
        self.servers = Servers(self)
        self.actions = ServerActions(self)
        self.progress = Progress(self)
        self.lifecycle = Lifecycle(self)
        self.consoles = Consoles(self)
        self.metadata = Metadata(self)
        self.tags = Tags(self)
        self.instance_actions = InstanceActions(self)
        self.usage = Usage(db)
        self.image_proxy = ImageProxy(image, self.quotas)
        self.volume_attachments = VolumeAttachments(self, volume)
        self.volume_backed = VolumeBackedImages(self)
        self.agent = None
        self.fake_host_agents = []  # [compute] fake_hosts: the agents of HOST-2 ... HOST-N

    def start(self) -> None:
        """Make sure the default flavors exist (first start)."""
        self.flavors.ensure_defaults()
        for binary in ("nova-scheduler", "nova-conductor"):
            self.registry.register_service(self.host, binary, binary.removeprefix("nova-"))

    async def serve(self) -> None:
        """Consume the conductor topic; start this host's agent when the config asks."""
        from overcast.common import heartbeats
        from overcast.compute.conductor import TOPIC, Conductor

        await self.bus.serve(TOPIC, Conductor(self, self.bus).handlers())
        self._beats = [heartbeats.report_forever(self.bus, binary, self.host, binary.removeprefix("nova-"))
                       for binary in ("nova-scheduler", "nova-conductor")]
        import asyncio

        self._beats = [asyncio.create_task(beat) for beat in self._beats]
        if self.config.compute.agent:
            self.agent = make_agent(self.config, self.bus, self.host)
            await self.agent.start()
            describe = getattr(self.agent.driver, "describe", None)
            print(f"  compute    host {self.agent.host} runs guests with the {self.config.compute.driver} driver"
                  + (f": {describe()}" if describe else ""), flush=True)
            for host in self.config.compute.extra_fake_hosts():
                agent = make_agent(self.config, self.bus, host, driver="fake")
                await agent.start()
                self.fake_host_agents.append(agent)
            if self.fake_host_agents:
                print(f"  compute    fake hosts {', '.join(a.host for a in self.fake_host_agents)}", flush=True)

    async def stop(self) -> None:
        import asyncio

        for agent in self.fake_host_agents:
            await agent.stop()
        if self.agent is not None:
            await self.agent.stop()
        for task in getattr(self, "_beats", []):
            task.cancel()
        await asyncio.gather(*getattr(self, "_beats", []), return_exceptions=True)

    def zones(self) -> set[str]:
        with self.db.session() as session:
            return set(session.scalars(select(ComputeServiceRow.zone).where(ComputeServiceRow.binary == "nova-compute")))

    def spec_payload(self, row, image_ref: str | None = None) -> dict:
        """What an agent needs to build the server (see agent.instance_spec); the VIFs
        are the ones a caller put on ``row.net_vifs`` (the network_api's)."""
        flavor = row.flavor
        image = image_ref if image_ref is not None else row.image_ref
        return {"uuid": row.uuid, "name": f"instance-{row.uuid[:8]}", "vcpus": flavor["vcpus"],
                "memory_mb": flavor["memory_mb"], "root_gb": flavor["root_gb"],
                "ephemeral_gb": flavor.get("ephemeral_gb", 0), "swap_mb": flavor.get("swap", 0),
                "image": {"id": image, "path": ""} if image else None, "user_data": row.user_data,
                "metadata": dict(getattr(row, "meta", {}) or {}), "key_data": row.key_data,
                "config_drive": bool(row.config_drive), "vifs": list(getattr(row, "net_vifs", None) or []),
                "hostname": row.hostname or "", "display_name": row.display_name or "",
                "project_id": row.project_id or "", "availability_zone": row.availability_zone or "",
                **self.volume_attachments.boot_payload(row)}


def make_agent(config: Config, bus, host: str, driver: str | None = None):
    """The compute agent for ``host`` with the configured driver (or ``driver``)."""
    from overcast.compute.agent import ComputeAgent
    from overcast.compute.drivers import make_driver

    from overcast import driver_choice

    if driver is None and config.compute.driver == "auto":
        driver_choice.choose(config)
    from overcast.compute.my_ip import my_ip

    compute = config.compute
    driver = driver or compute.driver
    host_ip = my_ip(compute.my_ip, config.bus.url)
    options = {}
    if driver == "fake":
        options = {"vcpus": compute.fake_vcpus, "memory_mb": compute.fake_memory_mb, "local_gb": compute.fake_local_gb,
                   "snapshot_seconds": compute.fake_snapshot_seconds,
                   "live_migration_seconds": compute.fake_live_migration_seconds,
                   "post_copy": compute.live_migration_permit_post_copy}
    elif driver == "qemu":
        import asyncio

        from overcast.compute.drivers.qemu.fetch import BusImageFetcher, BusPeerReader
        from overcast.compute.drivers.qemu import live

        loop = asyncio.get_running_loop()
        options = {"state_dir": compute.qemu_state_dir or str(config.data_path / "compute" / "qemu"),
                   "accel": compute.qemu_accel, "soft_reboot_timeout": compute.qemu_soft_reboot_seconds,
                   "tcg_tb_size_mb": compute.qemu_tcg_tb_size_mb,
                   "image_fetcher": BusImageFetcher(bus, loop), "peer_reader": BusPeerReader(bus, loop),
                   "my_ip": host_ip, "migration_transport": compute.migration_transport,
                   "live_migration_ports": compute.port_range(),
                   "live_migration": live.Settings(tls=compute.live_migration_tls,
                                                   tls_dir=compute.tls_dir or str(config.data_path / "compute" / "tls"),
                                                   post_copy=compute.live_migration_permit_post_copy)}
    ratios = {"cpu_allocation_ratio": compute.cpu_allocation_ratio, "ram_allocation_ratio": compute.ram_allocation_ratio,
              "disk_allocation_ratio": compute.disk_allocation_ratio,
              "reserved_host_memory_mb": compute.reserved_host_memory_mb}
    return ComputeAgent(bus, make_driver(driver, **options), host, compute.availability_zone, ratios,
                        power_sync_interval=compute.sync_power_state_interval, host_ip=host_ip)
