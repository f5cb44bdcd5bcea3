"""Encrypted volumes' keys: made with the volume, fresh for clones and volumes from
snapshots (whose LUKS data the agent re-keys, as Cinder does since Victoria), copied from an
encrypted image (``cinder_encryption_key_id``) for a volume made from it and from a volume
for its image or backup, shared by reference with snapshots (as Cinder does), deleted with
their volume, image (``on_image_deletion``) or backup, and handed out only to the
volume agent doing the volume's work and to the compute host attaching it to a server of
the volume's project. Keys live in the key manager; only their ids are in volume rows."""

from __future__ import annotations

import logging

from sqlalchemy import select

from overcast.common.api.context import RequestContext
from overcast.common.errors import NotFound
from overcast.volume import errors
from overcast.volume.key_manager.base import passphrase
from overcast.volume.models import Attachment, Snapshot, Volume, VolumeType

log = logging.getLogger("overcast.volume.encryption")
ADMIN = RequestContext(user_id="cinder", roles=["admin"])


class VolumeKeys:
    def __init__(self, db, key_manager):
        self.db = db
        self.keys = key_manager

    def key_for_new_volume(self, ctx, encryption: dict | None, parent_key_id: str | None,
                           parent_encrypted: bool, copy: bool = False) -> str | None:
        """The key id of a volume about to be written: a fresh key for an encrypted type,
        also for a clone or a volume from a snapshot (re-keyed as it is copied); with
        ``copy`` a copy of the parent's (an encrypted image's key: Cinder's
        ``clone_encryption_key``). A copy between encrypted and plain types is refused."""
        if parent_encrypted != bool(encryption) and (parent_key_id is not None or parent_encrypted):
            raise errors.InvalidInput("Creating a volume from an encrypted source needs an encrypted volume type, "
                                      "and from a plain source a plain one.")
        if not encryption:
            return None
        if parent_key_id is not None and copy:
            return self.keys.copy(ctx, parent_key_id)
        return self.keys.create_key(ctx, "AES", int(encryption.get("key_size") or 256))

    def copy(self, ctx, key_id: str) -> str:
        """A copy of a key for ``ctx.project_id`` (an image's or a backup's)."""
        return self.keys.copy(ctx, key_id)

    def forget(self, key_id: str | None) -> None:
        """Delete a key that no volume needs any more (gone already: fine)."""
        if key_id is None:
            return
        try:
            self.keys.delete(ADMIN, key_id)
        except NotFound:
            pass

    def _describe(self, session, volume: Volume, key_id: str | None = None) -> dict:
        vtype = session.get(VolumeType, volume.volume_type_id) if volume.volume_type_id else None
        spec = (vtype.encryption if vtype is not None else None) or {}
        material = self.keys.get(RequestContext(user_id="cinder", project_id=volume.project_id),
                                 key_id or volume.encryption_key_id)
        return {"passphrase": passphrase(material).decode(), "cipher": spec.get("cipher") or "aes-xts-plain64",
                "key_size": int(spec.get("key_size") or 256), "provider": spec.get("provider") or "luks"}

    def for_volume(self, volume_id: str) -> dict | None:
        """What the volume agent needs to write an encrypted volume, or None."""
        with self.db.session() as session:
            volume = session.get(Volume, volume_id)
            if volume is None or volume.encryption_key_id is None:
                return None
            return self._describe(session, volume)

    def metadata(self, volume: Volume) -> dict:
        """``GET /volumes/{id}/encryption`` of a volume the caller may see."""
        with self.db.session() as session:
            vtype = session.get(VolumeType, volume.volume_type_id) if volume.volume_type_id else None
            return metadata(volume, vtype.encryption if vtype is not None else None)

    def for_snapshot(self, snapshot_id: str) -> dict | None:
        """What the volume agent needs to read an encrypted snapshot (its volume's key when
        it was taken), or None."""
        with self.db.session() as session:
            snapshot = session.get(Snapshot, snapshot_id)
            volume = session.get(Volume, snapshot.volume_id) if snapshot is not None else None
            if volume is None or snapshot.encryption_key_id is None:
                return None
            return self._describe(session, volume, snapshot.encryption_key_id)

    def for_attachment(self, attachment_id: str, instance_uuid: str) -> dict | None:
        """What a compute host needs to open the volume of an attachment to the server
        ``instance_uuid``: the key is read in the volume's project, and only for a
        server that attachment names (404 otherwise)."""
        with self.db.session() as session:
            attachment = session.scalar(select(Attachment).where(Attachment.id == attachment_id))
            if attachment is None or attachment.instance_uuid != instance_uuid:
                raise errors.AttachmentNotFound(attachment_id)
            volume = session.get(Volume, attachment.volume_id)
            if volume is None or volume.encryption_key_id is None:
                return None
            return self._describe(session, volume)


def metadata(volume: Volume, encryption: dict | None) -> dict:
    """``GET /volumes/{id}/encryption`` (os-volume-encryption-metadata), Cinder's shape."""
    if not encryption:
        return {"encryption_key_id": None}
    return {"encryption_key_id": volume.encryption_key_id, "control_location": encryption.get("control_location"),
            "cipher": encryption.get("cipher"), "key_size": encryption.get("key_size"),
            "provider": encryption.get("provider")}
