"""Cinder's ``os-reimage`` (3.68): a volume's data replaced by an image, the volume kept.

The API checks as Cinder's ``API.reimage``: one server at most (409), status ``available``
or ``error`` (also ``reserved`` with ``reimage_reserved``), then the image (404 when
unknown; 400 when not active, larger than the volume, needing a larger ``min_disk``, or of
a virtual size that does not fit). The volume goes ``downloading`` and its host's agent
writes the image (``reimage_volume``); on success it goes back to its status before and
its ``volume_image_metadata`` is the new image's, and when that status is ``reserved`` the
servers of its attachments hear ``volume-reimaged`` (Nova's rebuild waits for it). A
failure leaves it ``error``.

``for_rebuild`` is Nova's side of a 2.93 rebuild of a volume-backed server
(``_rebuild_volume_backed_instance``): a new attachment keeps the volume reserved for the
server while the old one (and its connection) goes, then the volume is reimaged with
``reimage_reserved``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from overcast.common.db import utcnow
from overcast.common.errors import Conflict, NotFound
from overcast.volume import errors
from overcast.volume.models import Attachment, Volume
from overcast.volume.service.hosts import topic_for
from overcast.volume.service.volumes import image_metadata

GiB = 1 << 30


class ImageNotFound(NotFound):
    def __init__(self, image_id: str):
        super().__init__(f"Image {image_id} could not be found.")


class ImageUnacceptable(errors.BadRequest):
    def __init__(self, image_id: str, reason: str):
        super().__init__(f"Image {image_id} is unacceptable: {reason}")


class Reimage:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    def begin(self, ctx, volume_id: str, image_id: str, reserved: bool = False, session=None) -> tuple:
        """Check, mark the volume ``downloading``; the (topic, payload) cast to its agent."""
        if session is None:
            with self.db.session() as session:
                return self.begin(ctx, volume_id, image_id, reserved, session)
        volume = self.service.volumes.get(ctx, volume_id, session)
        if len(session.scalars(select(Attachment.id).where(Attachment.volume_id == volume.id)).all()) > 1:
            raise Conflict("Cannot re-image a volume which is attached to more than one server.")
        allowed = ("available", "error", "reserved") if reserved else ("available", "error")
        if volume.status not in allowed:
            raise errors.InvalidVolume(f"Volume {volume.id} status must be {' or '.join(allowed)}, but current "
                                       f"status is {volume.status}.")
        image = self._image(ctx, image_id, volume.size)
        previous = volume.status
        volume.status, volume.updated_at = "downloading", utcnow()
        payload = {"id": volume.id, "image_id": image.id, "size": volume.size, "status_after": previous,
                   "image_metadata": image_metadata(image)}
        if volume.encryption_key_id:
            payload["encrypted"] = True
        return topic_for(volume.host), payload

    def _image(self, ctx, image_id: str, size: int):
        """The image, checked as Cinder's check_image_metadata does."""
        image = self.service.volumes.find_image(ctx, image_id)
        if image is None:
            raise ImageNotFound(image_id)
        if image.status != "active":
            raise errors.InvalidInput(f"Image {image.id} is not active.")
        image_gb = -(-int(image.size or 0) // GiB)
        if image_gb > size:
            raise errors.InvalidInput(f"Size of specified image {image_gb}GB is larger than volume size {size}GB.")
        if size < (image.min_disk or 0):
            raise errors.InvalidInput(f"Volume size {size}GB cannot be smaller than the image minDisk size "
                                      f"{image.min_disk}GB.")
        virtual_gb = -(-int(image.virtual_size or 0) // GiB)
        if virtual_gb > size:
            raise ImageUnacceptable(image.id, f"Image virtual size is {virtual_gb}GB and doesn't fit in a volume "
                                              f"of size {size}GB.")
        return image

    def for_rebuild(self, ctx, instance_uuid: str, volume_id: str, image_id: str) -> dict:
        """Swap the server's attachment of its root volume for a reserved one and begin
        the reimage: {attachment_id, terminate: cast or None, reimage: cast}."""
        with self.db.session() as session:
            volume = self.service.volumes.get(ctx, volume_id, session)
            old = session.scalars(select(Attachment).where(Attachment.volume_id == volume.id,
                                                           Attachment.instance_uuid == instance_uuid)).first()
            if old is None:
                raise errors.InvalidVolume(f"Volume {volume.id} is not attached to server {instance_uuid}.")
            new = Attachment(id=str(uuid.uuid4()), volume_id=volume.id, instance_uuid=instance_uuid,
                             mountpoint=old.mountpoint, attach_status="reserved", attach_mode=old.attach_mode,
                             delete_on_termination=old.delete_on_termination, tag=old.tag, created_at=utcnow())
            session.add(new)
            session.flush()
            terminate = self.service.attachments.drop(session, old)  # the volume is reserved now
            session.flush()
            reimage = self.begin(ctx, volume.id, image_id, True, session)
            return {"attachment_id": new.id, "terminate": terminate, "reimage": reimage}

    @staticmethod
    def servers_to_tell(session, volume: Volume) -> list[str]:
        """The servers of a reserved volume's attachments, told ``volume-reimaged``."""
        return [uuid for uuid in session.scalars(select(Attachment.instance_uuid)
                                                 .where(Attachment.volume_id == volume.id)) if uuid]
