"""The volume agent's backup work: volume data to the object store and back.

A backup is the volume's raw data cut into CHUNK-sized pieces; pieces that are all zeros
are not stored (volumes are sparse), the others become objects ``<backup id>/chunk-N``
in the project's container, and ``<backup id>/metadata`` lists them (index, the
``account/container/prefix`` that holds the object, its SHA-256) with the volume's
metadata. An incremental backup (Cinder's ``incremental``) stores only the chunks whose
digest differs from its parent's and lists the parent's objects for the others, so a
restore walks the chain. A restore rebuilds a sparse raw file from the chunks, the
driver makes the volume from it and the volume gets the backed-up metadata back. An
encrypted volume is backed up as its LUKS container (the encrypted bytes, as Cinder does;
the backup keeps a copy of the key) and restored into a volume holding a copy of that key.
The
object store is reached through its Python interface (in-process), never its HTTP API.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from overcast.volume.drivers import ImageSource

CHUNK = 32 << 20
ZERO = bytes(CHUNK)
log = logging.getLogger("overcast.volume.agent")


async def _one(data: bytes):
    yield data


def _meta_name(backup_id: str) -> str:
    return f"{backup_id}/metadata"


def _chunk_name(backup_id: str, index: int) -> str:
    return f"{backup_id}/chunk-{index:06d}"


def _where(location: dict) -> str:
    return f"{location['account']}/{location['container']}/{location['prefix']}"


def _place(where: str) -> dict:
    account, container, prefix = where.split("/", 2)
    return {"account": account, "container": container, "prefix": prefix}


def entries(meta: dict, own: dict) -> list[tuple[int, dict, str | None]]:
    """A metadata object's chunks as (index, location of the backup holding it, digest);
    version 1 listed bare indexes, all held by the backup itself."""
    found = []
    for chunk in meta.get("chunks", []):
        if isinstance(chunk, int):
            found.append((chunk, own, None))
        else:
            index, where, digest = chunk
            found.append((index, _place(where), digest))
    return found


def handlers(agent) -> dict:
    store = agent.objectstore

    async def create_backup(payload: dict) -> None:
        backup_id, volume_id = payload.get("prefix") or payload["id"], payload["volume_id"]
        account, container = payload["account"], payload["container"]
        written: list[str] = []
        async with agent._lock(volume_id):
            fd, path = tempfile.mkstemp(prefix=".backup-", dir=agent.scratch)
            os.close(fd)
            own = {"account": account, "container": container, "prefix": backup_id}
            try:
                known = {}
                if payload.get("parent"):
                    parent = payload["parent"]
                    parent_meta = await _metadata(store, parent["account"], parent["container"], parent["prefix"])
                    known = {index: (where, digest) for index, where, digest in entries(parent_meta, parent)}
                enc = await agent._encryption(payload, volume_id)  # an encrypted volume: its LUKS container
                await asyncio.to_thread(agent.driver.copy_volume_to_image, volume_id, "raw", path, **enc)
                await asyncio.to_thread(store.put_container, account, container, {}, {})
                box = await asyncio.to_thread(store.container, account, container)
                chunks = []
                with open(path, "rb") as handle:
                    index = 0
                    while True:
                        data = await asyncio.to_thread(handle.read, CHUNK)
                        if not data:
                            break
                        if data != ZERO[:len(data)]:
                            digest = await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())
                            held = known.get(index)
                            if held is not None and held[1] == digest:  # unchanged since the parent
                                chunks.append([index, _where(held[0]), digest])
                            else:
                                name = _chunk_name(backup_id, index)
                                await store.put_object(box, name, _one(data), len(data),
                                                       {"content_type": "application/octet-stream"})
                                written.append(name)
                                chunks.append([index, _where(own), digest])
                        index += 1
                    length = handle.tell()
                meta = json.dumps({"version": 2, "volume_id": volume_id, "chunk_size": CHUNK, "length": length,
                                   "chunks": chunks, "volume_meta": payload.get("volume_meta") or {}}).encode()
                await store.put_object(box, _meta_name(backup_id), _one(meta), len(meta),
                                       {"content_type": "application/json"})
                written.append(_meta_name(backup_id))
                outcome = {"status": "available", "object_count": len(written), "fail_reason": None}
            except Exception as error:  # nothing half-written stays in the container
                log.warning("backup %s of volume %s failed: %s", backup_id, volume_id, error)
                await _forget(store, account, container, written)
                outcome = {"status": "error", "fail_reason": str(error) or type(error).__name__}
            finally:
                Path(path).unlink(missing_ok=True)
            await agent._report("backup_update", payload["id"], outcome)
            await agent._report("volume_update", volume_id, {"status": payload.get("status_after", "available")})

    async def delete_backup(payload: dict) -> None:
        backup_id, account, container = payload.get("prefix") or payload["id"], payload["account"], \
            payload["container"]
        try:
            if payload.get("keep_data"):  # another (imported) backup still points at the data
                raise LookupError(backup_id)
            meta = await _metadata(store, account, container, backup_id)
            own = {"account": account, "container": container, "prefix": backup_id}
            names = [_chunk_name(backup_id, index) for index, where, _ in entries(meta, own) if where == own]
            names.append(_meta_name(backup_id))
            await _forget(store, account, container, names)
        except LookupError:  # never written (a failed backup) or already gone
            pass
        except Exception as error:
            await agent._report("backup_update", payload["id"], {"status": "error_deleting",
                                                                 "fail_reason": str(error)})
            return
        await agent._report("backup_update", payload["id"], deleted=True)

    async def restore_backup(payload: dict) -> None:
        backup_id, volume_id, size = payload.get("prefix") or payload["id"], payload["volume_id"], payload["size"]
        account, container = payload["account"], payload["container"]
        async with agent._lock(volume_id):
            fd, path = tempfile.mkstemp(prefix=".restore-", dir=agent.scratch)
            os.close(fd)
            try:
                meta = await _metadata(store, account, container, backup_id)
                own = {"account": account, "container": container, "prefix": backup_id}
                with open(path, "r+b") as handle:
                    handle.truncate(meta["length"])
                    for index, where, _ in entries(meta, own):
                        box = await asyncio.to_thread(store.container, where["account"], where["container"])
                        row = await asyncio.to_thread(store.get_object, box, _chunk_name(where["prefix"], index))
                        handle.seek(index * meta["chunk_size"])
                        async for piece in await store.open(row):
                            await asyncio.to_thread(handle.write, piece)
                enc = await agent._encryption(payload, volume_id)  # the volume's key: a copy of the backup's
                source = ImageSource(id=backup_id, disk_format="raw", size=meta["length"], path=path,
                                     encrypted=bool(enc))

                def rebuild():
                    if not payload.get("new"):
                        agent.driver.delete_volume(volume_id)
                    agent.driver.create_volume_from_image(volume_id, size, source, **enc)

                await asyncio.to_thread(rebuild)
                volume_values = {"status": "available", "error": None, "meta": meta.get("volume_meta") or {}}
            except Exception as error:
                log.warning("restore of backup %s into %s failed: %s", backup_id, volume_id, error)
                volume_values = {"status": "error_restoring", "error": str(error) or type(error).__name__}
            finally:
                Path(path).unlink(missing_ok=True)
            await agent._report("volume_update", volume_id, volume_values)
            await agent._report("backup_update", payload["id"], {"status": "available"})

    return {"create_backup": create_backup, "delete_backup": delete_backup, "restore_backup": restore_backup}


async def _metadata(store, account: str, container: str, backup_id: str) -> dict:
    from overcast.common.errors import NotFound

    try:
        box, row = await asyncio.to_thread(store.locate, account, container, _meta_name(backup_id))
    except NotFound:
        raise LookupError(backup_id) from None
    if row is None:
        raise LookupError(backup_id)
    return json.loads(await asyncio.to_thread(store.read_all, row))


async def _forget(store, account: str, container: str, names: list[str]) -> None:
    from overcast.common.errors import NotFound

    try:
        box = await asyncio.to_thread(store.container, account, container)
    except NotFound:
        return
    for name in names:
        try:
            await asyncio.to_thread(store.delete_object, box, name)
        except NotFound:
            pass
