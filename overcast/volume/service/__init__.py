"""VolumeService: Cinder's logic, one small class per resource, no HTTP in here.

Rows change in the API's threads; backend work is cast to the volume agent of the
volume's host with :meth:`VolumeService.send`. The compute service reaches volumes and
attachments through this object (``volume.attachments.reserve``, ...).
"""

from __future__ import annotations

import asyncio
import socket

from overcast.common.config import Config
from overcast.common.db import Database
from overcast.volume.service.actions import Actions
from overcast.volume.service.attachments import Attachments
from overcast.volume.service.backups import Backups
from overcast.volume.service.boot import BootVolumes
from overcast.volume.service.clusters import Clusters
from overcast.volume.service.encryption import VolumeKeys
from overcast.volume.key_manager import LocalKeyManager
from overcast.volume.service.group_types import GroupTypes
from overcast.volume.service.groups import Groups, GroupSnapshots
from overcast.volume.service.hosts import SCHEDULER, Hosts
from overcast.volume.service.manage import Manage
from overcast.volume.service.messages import Messages
from overcast.volume.service.qos import Qos
from overcast.volume.service.quotas import Quotas
from overcast.volume.service.reimage import Reimage
from overcast.volume.service.snapshots import Snapshots
from overcast.volume.service.transfers import Transfers
from overcast.volume.service.types import Types
from overcast.volume.service.volumes import Volumes


class VolumeService:
    def __init__(self, config: Config, db: Database, bus=None, image=None, objectstore=None, key_manager=None):
        self.config = config
        self.db = db
        self.bus = bus
        self.image = image
        self.objectstore = objectstore
        self.host = config.volume.host or socket.gethostname()
        self.default_zone = config.volume.availability_zone
        self.types = Types(db, config.volume.default_type)
        self.keys = VolumeKeys(db, key_manager or LocalKeyManager.for_config(config, db))
        self.quotas = Quotas(db, config)
        self.hosts = Hosts(db, self.default_zone)
        self.clusters = Clusters(db, self.hosts)
        self.volumes = Volumes(self)
        self.snapshots = Snapshots(self)
        self.actions = Actions(self)
        self.attachments = Attachments(self)
        self.boot = BootVolumes(self)
        self.qos = Qos(db)
        self.transfers = Transfers(self)
        self.backups = Backups(self)
        self.messages = Messages(db)
        self.group_types = GroupTypes(db, config.volume.default_group_type)
        self.groups = Groups(self)
        self.group_snapshots = GroupSnapshots(self)
        self.manage = Manage(self)
        self.reimage = Reimage(self)
        self.agent = None
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        """The default volume type and the scheduler's service record (first start)."""
        self.types.ensure_default()
        self.group_types.ensure_default()
        self.hosts.register(self.host, SCHEDULER, self.default_zone)

    async def serve(self) -> None:
        """Consume the conductor topic; start this host's volume agent when the config asks."""
        from overcast.common import heartbeats
        from overcast.volume.conductor import TOPIC, Conductor

        self._loop = asyncio.get_running_loop()
        await self.bus.serve(TOPIC, Conductor(self).handlers())
        self._tasks.append(asyncio.create_task(heartbeats.report_forever(self.bus, SCHEDULER, self.host,
                                                                         "cinder-scheduler")))
        if self.config.volume.agent:
            self.agent = make_agent(self.config, self.bus, self.host, self.image, self.objectstore)
            await self.agent.start()

    async def stop(self) -> None:
        if self.agent is not None:
            await self.agent.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def send_all(self, kind: str, casts: list[tuple]) -> None:
        for cast in casts:
            await self.send(kind, cast)

    async def send(self, kind: str, cast: tuple | None) -> None:
        """Cast ``kind`` with the (topic, payload) a service method returned, if any."""
        if cast is not None:
            topic, payload = cast
            await self.bus.cast(topic, kind, payload)

    def send_soon(self, kind: str, cast: tuple | None) -> None:
        """:meth:`send` from a worker thread: scheduled on the service's loop, not awaited."""
        if cast is not None and getattr(self, "_loop", None) is not None:
            asyncio.run_coroutine_threadsafe(self.send(kind, cast), self._loop)


def make_agent(config: Config, bus, host: str, image=None, objectstore=None):
    """The volume agent for this host with the configured driver. Without an in-process
    image service (``overcast agent volume`` on another host) it fetches images through
    the controller over the bus."""
    from overcast.volume.agent import VolumeAgent
    from overcast.volume.drivers import make_driver

    volume = config.volume
    options = {"data_path": config.data_path}
    if volume.driver == "file":
        options["file_format"] = volume.file_format
        options.update(target_helper=volume.target_helper, target_ip_address=volume.target_ip_address,
                       target_port=volume.target_port)
    elif volume.driver == "rbd":
        options.update(pool=volume.rbd_pool, ceph_conf=volume.rbd_ceph_conf, user=volume.rbd_user,
                       keyring=volume.rbd_keyring, flatten_volume_from_snapshot=volume.rbd_flatten_volume_from_snapshot,
                       max_clone_depth=volume.rbd_max_clone_depth)
    driver = make_driver(volume.driver, **options)
    fetch_image = None
    if image is None:
        from overcast.compute.drivers.qemu.fetch import BusImageFetcher

        fetch_image = BusImageFetcher(bus, asyncio.get_running_loop())
    return VolumeAgent(bus, driver, host, volume.backend_name, volume.availability_zone, image=image,
                       scratch=config.data_path, objectstore=objectstore, fetch_image=fetch_image,
                       cluster=volume.cluster)
