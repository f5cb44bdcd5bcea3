"""Images for the cache, fetched from the image service through the conductor, and
files of another host's instances, fetched from its compute agent.

The agent has no database and no credentials; it asks the conductor (``download_image``)
for the image in pieces over the same bus it reports on, so a remote compute host works
the same way as the all-in-one process. A cold migration between machines pulls the
source's disks the same way from the source agent (``read_migration_file``).
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

PIECE = 4 << 20
TOPIC = "compute-conductor"


class BusImageFetcher:
    """``fetcher(image_id, destination) -> {checksum, os_hash_algo, os_hash_value,
    disk_format, properties}`` (the boot properties: kernel_id, ramdisk_id,
    os_command_line); called from a worker thread while ``loop`` runs the bus."""

    def __init__(self, bus, loop: asyncio.AbstractEventLoop, timeout: float = 120):
        self.bus = bus
        self.loop = loop
        self.timeout = timeout

    def _piece(self, image_id: str, offset: int) -> dict:
        call = self.bus.call(TOPIC, "download_image", {"image_id": image_id, "offset": offset, "length": PIECE},
                             timeout=self.timeout)
        return asyncio.run_coroutine_threadsafe(call, self.loop).result()

    def __call__(self, image_id: str, destination: Path) -> dict:
        offset, known = 0, {}
        with open(destination, "wb") as handle:
            while True:
                piece = self._piece(image_id, offset)
                if piece.get("status") != "active":
                    raise RuntimeError(f"image {image_id} is {piece.get('status')}, not active")
                data = base64.b64decode(piece["data"])
                handle.write(data)
                offset += len(data)
                known = piece
                if not data or offset >= (piece.get("size") or 0):
                    break
        if known.get("size") is not None and offset != known["size"]:
            raise RuntimeError(f"image {image_id}: got {offset} bytes of {known['size']}")
        return {key: known.get(key) for key in ("checksum", "os_hash_algo", "os_hash_value", "disk_format",
                                                "properties")}


class BusPeerReader:
    """``reader(host, uuid, name, offset, length) -> bytes`` (``remote.PeerReader``): a
    bus call to ``compute.<host>``; called from a worker thread while ``loop`` runs the bus."""

    def __init__(self, bus, loop: asyncio.AbstractEventLoop, timeout: float = 120):
        self.bus = bus
        self.loop = loop
        self.timeout = timeout

    def __call__(self, host: str, uuid: str, name: str, offset: int, length: int) -> bytes:
        call = self.bus.call(f"compute.{host}", "read_migration_file",
                             {"uuid": uuid, "name": name, "offset": offset, "length": length}, timeout=self.timeout)
        return base64.b64decode(asyncio.run_coroutine_threadsafe(call, self.loop).result()["data"])
