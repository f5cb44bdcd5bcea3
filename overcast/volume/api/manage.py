"""Manage and unmanage (3.8+): /manageable_volumes, /manageable_snapshots,
/os-volume-manage, /os-snapshot-manage and the ``os-unmanage`` actions."""

from __future__ import annotations

import asyncio

from overcast.common.api import reply
from overcast.volume import views
from overcast.volume.api import common
from overcast.volume.service.manage import SORT_KEYS

SUMMARY = ("reference", "size", "safe_to_manage")
DETAIL = SUMMARY + ("reason_not_safe", "cinder_id", "extra_info")


async def _listing(req, kind: str, detail: bool):
    common.gate(req, "3.8")
    req.authorize()
    page = common.paging(req, {"created_at": None, **dict.fromkeys(SORT_KEYS)})
    sort = [(k, d) for k, d in page["sort"] if k != "created_at"]
    found = await req.state.volume.manage.listing(req.query.get("host"), kind, sort, page["limit"], page["marker"],
                                                  page["offset"])
    keys = (DETAIL if detail else SUMMARY) + (("source_reference",) if kind == "snapshots" else ())
    return reply({f"manageable-{kind}": [{k: entry.get(k) for k in keys} for entry in found]})


async def list_volumes(req):
    return await _listing(req, "volumes", False)


async def list_volumes_detail(req):
    return await _listing(req, "volumes", True)


async def list_snapshots(req):
    return await _listing(req, "snapshots", False)


async def list_snapshots_detail(req):
    return await _listing(req, "snapshots", True)


async def manage_volume(req):
    req.authorize()
    fields = common.body_dict(req, "volume")
    common.check_name(fields)
    common.check_metadata(fields.get("metadata"))
    if "bootable" in fields:
        fields["bootable"] = common.boolean(fields["bootable"], "bootable")
    service = req.state.volume
    row, cast = await asyncio.to_thread(service.manage.manage_volume, req.context, fields)
    await service.send("manage_existing", cast)
    from overcast.volume.api.volumes import _one

    return reply({"volume": await asyncio.to_thread(_one, req, row)}, status=202)


async def manage_snapshot(req):
    req.authorize()
    fields = common.body_dict(req, "snapshot")
    common.check_name(fields)
    common.check_metadata(fields.get("metadata"))
    service = req.state.volume
    row, cast = await asyncio.to_thread(service.manage.manage_snapshot, req.context, fields)
    await service.send("manage_existing_snapshot", cast)
    return reply({"snapshot": views.snapshot(row, req.version, detail=False)}, status=202)


async def unmanage_volume(req, service, row, args):
    """The ``os-unmanage`` volume action."""
    cast = await asyncio.to_thread(service.manage.begin_unmanage, req.context, row.id)
    await service.send("unmanage_volume", cast)
    return reply(None, status=202)


async def unmanage_snapshot(req, service, row):
    cast = await asyncio.to_thread(service.manage.begin_unmanage_snapshot, req.context, row.id)
    await service.send("unmanage_snapshot", cast)
    return reply(None, status=202)
