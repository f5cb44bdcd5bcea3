"""POST /v3/{project_id}/volumes/{volume_id}/action: one handler per action name."""

from __future__ import annotations

import asyncio

from overcast.common.api import reply
from overcast.common.errors import NotFound
from overcast.volume import errors
from overcast.volume.api import common, manage
from overcast.volume.service.types import is_uuid

P = "volume_extension:volume_actions:"
ADMIN = "volume_extension:volume_admin_actions:"


async def action(req):
    body = req.json()
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.InvalidInput("There should be exactly one action in the request body.")
    name, args = next(iter(body.items()))
    entry = ACTIONS.get(name)
    if entry is None:
        req.authorized = True
        raise errors.InvalidInput(f"There is no such action: {name}")
    rule, handler = entry
    service = req.state.volume
    row = await asyncio.to_thread(service.volumes.get, req.context, req.params["volume_id"])
    req.authorize({"project_id": row.project_id}, rule(req, row) if callable(rule) else rule)
    return await handler(req, service, row, args if args is not None else {})


def _args(args, name: str) -> dict:
    if not isinstance(args, dict):
        raise errors.InvalidInput(f"Invalid request body for {name}")
    return args


async def _thread(func, *args):
    return await asyncio.to_thread(func, *args)


async def extend(req, service, row, args):
    args = _args(args, "os-extend")
    if "new_size" not in args:
        raise errors.InvalidInput("'new_size' is a required property")
    attached_ok = req.version.at_least("3.42")
    cast = await _thread(service.actions.extend, req.context, row.id, args["new_size"], attached_ok)
    await service.send("extend_volume", cast)
    return reply(None, status=202)


async def set_bootable(req, service, row, args):
    args = _args(args, "os-set_bootable")
    if "bootable" not in args:
        raise errors.InvalidInput("'bootable' is a required property")
    await _thread(service.actions.set_bootable, req.context, row.id, common.boolean(args["bootable"], "bootable"))
    return reply(None, status=200)


async def readonly(req, service, row, args):
    args = _args(args, "os-update_readonly_flag")
    if "readonly" not in args:
        raise errors.InvalidInput("'readonly' is a required property")
    await _thread(service.actions.set_readonly, req.context, row.id, common.boolean(args["readonly"], "readonly"))
    return reply(None, status=202)


async def reset_status(req, service, row, args):
    args = _args(args, "os-reset_status")
    if not args:
        raise errors.InvalidInput("Must specify 'status', 'attach_status' or 'migration_status' for update.")
    await _thread(service.actions.reset_status, req.context, row.id, args.get("status"), args.get("attach_status"),
                  args.get("migration_status"))
    return reply(None, status=202)


async def force_delete(req, service, row, args):
    cast = await _thread(service.volumes.begin_delete, req.context, row.id, False, True)
    await service.send("delete_volume", cast)
    return reply(None, status=202)


async def retype(req, service, row, args):
    args = _args(args, "os-retype")
    if not args.get("new_type"):
        raise errors.InvalidInput("'new_type' is a required property")
    await _thread(service.actions.retype, req.context, row.id, args["new_type"],
                  args.get("migration_policy") or "never")
    return reply(None, status=202)


async def upload_image(req, service, row, args):
    args = _args(args, "os-volume_upload_image")
    if args.get("visibility") == "public" or common.boolean(args.get("is_public", False), "is_public"):
        req.authorize({"project_id": row.project_id}, P + "upload_public")
    if "is_public" in args and "visibility" not in args:
        args["visibility"] = "public" if common.boolean(args["is_public"], "is_public") else "private"
    result, cast = await _thread(service.actions.begin_upload, req.context, row.id, args)
    await service.send("copy_volume_to_image", cast)
    return reply({"os-volume_upload_image": result}, status=202)


def _reimage_rule(req, row) -> str:
    """Cinder 3.68; a reserved volume (Nova's rebuild) has a rule of its own."""
    if not req.version.at_least("3.68"):
        req.authorized = True
        raise NotFound("The resource could not be found.")
    return "volume:reimage_reserved" if row.status == "reserved" else "volume:reimage"


async def reimage(req, service, row, args):
    args = _args(args, "os-reimage")
    unknown = sorted(set(args) - {"image_id", "reimage_reserved"})
    if unknown:
        raise errors.InvalidInput(f"Additional properties are not allowed ({', '.join(map(repr, unknown))} "
                                  f"{'was' if len(unknown) == 1 else 'were'} unexpected)")
    image_id = args.get("image_id")
    if "image_id" not in args:
        raise errors.InvalidInput("'image_id' is a required property")
    if not isinstance(image_id, str) or not is_uuid(image_id):
        raise errors.InvalidInput(f"Invalid input for field/attribute image_id. Value: {image_id}. "
                                  f"{image_id!r} is not a 'uuid'")
    reserved = common.boolean(args.get("reimage_reserved", False), "reimage_reserved")
    cast = await _thread(service.reimage.begin, req.context, row.id, image_id, reserved)
    await service.send("reimage_volume", cast)
    return reply(None, status=202)


# -- image metadata --------------------------------------------------------------------


async def show_image_metadata(req, service, row, args):
    return reply({"metadata": dict(row.image_metadata or {})})


async def set_image_metadata(req, service, row, args):
    metadata = _args(args, "os-set_image_metadata").get("metadata")
    common.check_metadata(metadata)
    return reply({"metadata": await _thread(service.actions.set_image_metadata, req.context, row.id, metadata)})


async def unset_image_metadata(req, service, row, args):
    key = _args(args, "os-unset_image_metadata").get("key")
    if not isinstance(key, str):
        raise errors.InvalidInput("'key' is a required property")
    await _thread(service.actions.unset_image_metadata, req.context, row.id, key)
    return reply(None, status=200)


# -- legacy attach-state actions -------------------------------------------------------


def _simple(method: str):
    async def run(req, service, row, args):
        await _thread(getattr(service.actions, method), req.context, row.id)
        return reply(None, status=202)

    return run


async def attach(req, service, row, args):
    args = _args(args, "os-attach")
    instance = args.get("instance_uuid")
    host = args.get("host_name")
    if not instance and not host:
        raise errors.InvalidInput("Invalid request to attach volume to an invalid target")
    mode = args.get("mode", "rw")
    mountpoint = args.get("mountpoint")

    def attach_now():
        service.actions.legacy_attach_mode(req.context, row.id, mode)
        attachments = service.attachments
        found = [a for a in attachments.list(req.context, {"volume_id": row.id}, True)
                 if a.instance_uuid == instance and a.attach_status != "attached"]
        attachment = found[0] if found else attachments.reserve(req.context, row.id, instance, mode, mountpoint,
                                                                status="attaching")
        attachments.complete(req.context, attachment.id, mountpoint)

    await asyncio.to_thread(attach_now)
    return reply(None, status=202)


async def detach(req, service, row, args):
    args = _args(args, "os-detach") if args else {}
    casts = await _thread(service.attachments.detach_instance, req.context, row.id, None, args.get("attachment_id"))
    for cast in casts:
        await service.send("terminate_connection", cast)
    return reply(None, status=202)


async def initialize_connection(req, service, row, args):
    connector = _args(args, "os-initialize_connection").get("connector")
    if not isinstance(connector, dict):
        raise errors.InvalidInput("Must specify 'connector'")
    if row.host is None or row.status in ("creating", "error", "deleting"):
        raise errors.InvalidVolume(f"Volume {row.id} status must be available or in-use to connect.")
    from overcast.volume.service.hosts import queue_of

    info = await service.bus.call(queue_of(row), "initialize_connection",
                                  {"id": row.id, "connector": connector, "mode": "ro" if row.readonly else "rw"},
                                  timeout=60)
    qos = await _thread(service.qos.for_volume, row)
    info = {**info, "data": {**(info.get("data") or {}), "qos_specs": qos}}
    return reply({"connection_info": info})


async def terminate_connection(req, service, row, args):
    connector = _args(args, "os-terminate_connection").get("connector")
    if not isinstance(connector, dict):
        raise errors.InvalidInput("Must specify 'connector'")
    if row.host:
        from overcast.volume.service.hosts import queue_of

        await service.bus.cast(queue_of(row), "terminate_connection", {"id": row.id, "connector": connector})
    return reply(None, status=202)


ACTIONS = {
    "os-extend": ("volume:extend", extend),
    "os-reimage": (_reimage_rule, reimage),
    "os-set_bootable": ("volume:set_bootable", set_bootable),
    "os-update_readonly_flag": ("volume:update_readonly_flag", readonly),
    "os-reset_status": (ADMIN + "reset_status", reset_status),
    "os-force_delete": (ADMIN + "force_delete", force_delete),
    "os-force_detach": (ADMIN + "force_detach", detach),
    "os-retype": ("volume:retype", retype),
    "os-volume_upload_image": (P + "upload_image", upload_image),
    "os-show_image_metadata": ("volume_extension:volume_image_metadata:show", show_image_metadata),
    "os-set_image_metadata": ("volume_extension:volume_image_metadata:set", set_image_metadata),
    "os-unset_image_metadata": ("volume_extension:volume_image_metadata:remove", unset_image_metadata),
    "os-attach": (P + "attach", attach),
    "os-detach": (P + "detach", detach),
    "os-reserve": (P + "reserve", _simple("reserve")),
    "os-unreserve": (P + "unreserve", _simple("unreserve")),
    "os-begin_detaching": (P + "begin_detaching", _simple("begin_detaching")),
    "os-roll_detaching": (P + "roll_detaching", _simple("roll_detaching")),
    "os-initialize_connection": (P + "initialize_connection", initialize_connection),
    "os-terminate_connection": (P + "terminate_connection", terminate_connection),
    "os-unmanage": ("volume_extension:volume_unmanage", manage.unmanage_volume),
}
