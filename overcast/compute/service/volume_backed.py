"""Images of servers booted from volumes, as Nova's ``snapshot_volume_backed`` makes them.

``server image create`` on a volume-backed server copies no disk: each volume attached to
the server gets a (forced) snapshot in the block storage service, named "snapshot for
<image name>", and the image is a record with no data (size 0, active at once) whose
properties say how to rebuild the server from those snapshots: ``bdm_v2`` "True",
``root_device_name`` and ``block_device_mapping`` (a JSON list, one mapping per volume:
``source_type`` snapshot, ``destination_type`` volume, ``snapshot_id``, ``boot_index``,
``device_name``, ``volume_size``, ``delete_on_termination``, and Nova's other keys as
null). Booting that image (``server create --image``) boots from new volumes made from
the snapshots: ``image_mappings`` turns the image's mappings into the request's
``block_device_mapping_v2`` (a mapping the request gives for the same device wins).
Backups (``createBackup``) of volume-backed servers are refused, as Nova does, and so is
a rebuild with another image than the root volume's before 2.93; from 2.93 the rebuild
reimages the root volume (``check_rebuild``, ``compute.agent_reimage``).
"""

from __future__ import annotations

import asyncio
import json

from overcast.common.api.context import RequestContext
from overcast.compute import errors

ROOT_DEVICE = "/dev/vda"
#: the keys of a Nova image block device mapping (BlockDeviceDict.get_image_mapping)
MAPPING_KEYS = ("boot_index", "delete_on_termination", "destination_type", "device_name", "device_type", "disk_bus",
                "guest_format", "image_id", "no_device", "snapshot_id", "source_type", "tag", "volume_id",
                "volume_size", "volume_type")


def is_volume_backed(row) -> bool:
    """No image of its own and a volume as its boot device (Nova's is_volume_backed_instance)."""
    if row.image_ref:
        return False
    return any(isinstance(bdm, dict) and str(bdm.get("boot_index")) == "0"
               and bdm.get("destination_type") == "volume" for bdm in (row.block_devices or []))


class VolumeBackedImages:
    def __init__(self, compute):
        self.compute = compute

    def _volume(self):
        volume = self.compute.volume_attachments.volume
        if volume is None:
            raise errors.ComputeInvalid("The block storage service is not available in this cloud.")
        return volume

    async def snapshot(self, ctx, row, name: str, metadata: dict, image_fields: dict) -> str:
        """Snapshot every volume of ``row`` and make the image that maps them; its id."""
        volume = self._volume()
        attachments = await asyncio.to_thread(volume.attachments.for_instance, row.uuid)
        mapping, casts = [], []
        try:
            for attachment in sorted(attachments, key=lambda a: a.mountpoint or ""):
                source = await asyncio.to_thread(volume.volumes.get, ctx, attachment.volume_id)
                snap, cast = await asyncio.to_thread(volume.snapshots.create, ctx, source.id, f"snapshot for {name}",
                                                     source.description, True, {})
                casts.append((snap.id, cast))
                device = attachment.mountpoint or None
                entry = dict.fromkeys(MAPPING_KEYS)
                entry.update(source_type="snapshot", destination_type="volume", snapshot_id=snap.id,
                             device_name=device, volume_size=source.size, device_type="disk",
                             boot_index=0 if device == ROOT_DEVICE else None,
                             delete_on_termination=bool(attachment.delete_on_termination))
                mapping.append(entry)
        except Exception:
            for snapshot_id, _ in casts:  # none was sent to its volume host yet: they go again
                try:
                    await volume.send("delete_snapshot",
                                      await asyncio.to_thread(volume.snapshots.begin_delete, ctx, snapshot_id, True))
                except Exception:  # already gone
                    pass
            raise
        for _, cast in casts:
            await volume.send("create_snapshot", cast)
        properties = dict(image_fields)
        properties.update(root_device_name=ROOT_DEVICE, bdm_v2="True", block_device_mapping=json.dumps(mapping))
        properties.update(metadata)
        image = self.compute.image
        record = await asyncio.to_thread(image.images.create, ctx, {k: v for k, v in properties.items()
                                                                   if v is not None})

        async def nothing():
            return
            yield  # an async generator with no chunks: the image is active with size 0

        await image.data.upload(ctx, record.id, nothing(), 0)
        with self.compute.db.session() as session:
            self.compute.actions.record(session, ctx, row.uuid, "createImage")
        return record.id

    def root_volume(self, ctx, row):
        """The server's root volume (attached at /dev/vda), or None."""
        volume = self.compute.volume_attachments.volume
        if volume is None:
            return None
        for attachment in volume.attachments.for_instance(row.uuid):
            if attachment.mountpoint == ROOT_DEVICE:
                return volume.volumes.get(RequestContext(roles=["admin"], user_id=ctx.user_id), attachment.volume_id)
        return None

    def root_image(self, ctx, row) -> str | None:
        """The image the server's root volume was made from (its volume image metadata)."""
        found = self.root_volume(ctx, row)
        return None if found is None else (found.image_metadata or {}).get("image_id") or found.image_id

    def check_rebuild(self, ctx, row, image, reimage: bool) -> dict | None:
        """A volume-backed server rebuilds with the image its root volume holds (Nova
        before 2.93: else 400); from 2.93 its root volume is reimaged with ``image``
        whatever it held: what the agent needs for that (Nova's reimage_boot_volume)."""
        if not reimage:
            if image.id != self.root_image(ctx, row):
                raise errors.ComputeInvalid(f"Image {image.id} is unacceptable: Unable to rebuild with a different "
                                            f"image for a volume-backed server.")
            return None
        root = self.root_volume(ctx, row)
        if root is None:
            raise errors.ComputeInvalid("Unable to find root block device mapping for volume-backed instance.")
        if root.status != "in-use":
            raise errors.ComputeInvalid(f"Volume {root.id} status must be in-use, but the current status is "
                                        f"{root.status}.")
        image_gb = max(1, -(-int(image.size or 0) // (1 << 30)))
        return {"volume_id": root.id, "image_id": image.id, "device": ROOT_DEVICE,
                "timeout": self.compute.config.compute.reimage_timeout_per_gb * image_gb}

    def image_mappings(self, ctx, image_ref: str, requested: list[dict]) -> list[dict] | None:
        """The block_device_mapping_v2 a boot of ``image_ref`` gets when the image is a
        volume-backed snapshot (``bdm_v2`` with a ``block_device_mapping``): its mappings
        with the request's own ones added (the request's win on the same device); None
        for any other image."""
        from overcast.common.errors import NotFound

        if not image_ref:
            return None
        try:
            image = self.compute.image.images.get(ctx, image_ref)
        except NotFound:
            return None  # image_for says so in Nova's words
        props = image.properties or {}
        if str(props.get("bdm_v2", "")).lower() != "true" or not props.get("block_device_mapping"):
            return None
        try:
            stored = json.loads(props["block_device_mapping"])
        except ValueError:
            raise errors.ComputeInvalid(f"Block Device Mapping is Invalid: image {image_ref} has a "
                                        f"block_device_mapping that is not JSON.") from None
        taken = {bdm.get("device_name") for bdm in requested if bdm.get("device_name")}
        mappings = []
        for bdm in stored if isinstance(stored, list) else []:
            if not isinstance(bdm, dict) or bdm.get("no_device") or bdm.get("device_name") in taken:
                continue
            if bdm.get("source_type") == "snapshot":
                uuid = bdm.get("snapshot_id")
            elif bdm.get("source_type") == "volume":
                uuid = bdm.get("volume_id")
            else:
                uuid = bdm.get("image_id")
            entry = {"source_type": bdm.get("source_type"), "destination_type": bdm.get("destination_type", "volume"),
                     "uuid": uuid, "boot_index": bdm.get("boot_index"),
                     "delete_on_termination": bool(bdm.get("delete_on_termination"))}
            for key in ("device_name", "volume_size", "device_type", "disk_bus", "volume_type", "tag"):
                if bdm.get(key) is not None:
                    entry[key] = bdm[key]
            mappings.append(entry)
        return mappings + list(requested)
