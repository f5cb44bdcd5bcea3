"""POST /v2.1/servers/{id}/action and /remote-consoles: one handler per action key."""

from __future__ import annotations

import asyncio
import secrets

from overcast.common.api import reply
from overcast.common.api.validation import check
from overcast.compute import errors
from overcast.compute.api import server_network
from overcast.compute.api.servers import check_metadata, invalid, render

P = "os_compute_api:"


async def _server(req, rule: str):
    row = await asyncio.to_thread(req.state.compute.servers.get, req.context, req.params["server_id"])
    req.authorize({"project_id": row.project_id, "user_id": row.user_id}, rule=P + rule)
    return row


def _lifecycle(req):
    return req.state.compute.lifecycle


async def start(req, body):
    row = await _server(req, "servers:start")
    await _lifecycle(req).act(req.context, row.uuid, "start", with_spec=True)


async def stop(req, body):
    row = await _server(req, "servers:stop")
    await _lifecycle(req).act(req.context, row.uuid, "stop")


async def reboot(req, body):
    if not isinstance(body, dict) or body.get("type") not in ("SOFT", "HARD", "soft", "hard"):
        raise invalid("type", body.get("type") if isinstance(body, dict) else body)
    row = await _server(req, "servers:reboot")
    await _lifecycle(req).reboot(req.context, row.uuid, body["type"].upper() == "HARD")


def _simple(name: str, rule: str):
    async def handle(req, body):
        row = await _server(req, rule)
        await _lifecycle(req).act(req.context, row.uuid, name)

    return handle


async def lock(req, body):
    row = await _server(req, "os-lock-server:lock")
    reason = body.get("locked_reason") if isinstance(body, dict) and req.version.at_least("2.73") else None
    if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
        raise invalid("locked_reason", reason)
    await asyncio.to_thread(req.state.compute.actions.lock, req.context, row.uuid, reason)


async def unlock(req, body):
    row = await _server(req, "os-lock-server:unlock")
    override = req.allowed({"project_id": row.project_id}, rule=P + "os-lock-server:unlock:unlock_override")
    await asyncio.to_thread(req.state.compute.actions.unlock, req.context, row.uuid, override)


async def rebuild(req, body):
    if not isinstance(body, dict) or not isinstance(body.get("imageRef"), str):
        raise invalid("imageRef", body)
    check(body, {"name": ("string", 1, 255), "metadata": "object", "accessIPv4": "string", "accessIPv6": "string",
                 "description": "string|null", "key_name": "string|null", "user_data": "string|null"})
    row = await _server(req, "servers:rebuild")
    values = {}
    if "name" in body:
        values["display_name"] = body["name"]
    if "description" in body and req.version.at_least("2.19"):
        values["display_description"] = body["description"]
    for key, column in (("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6")):
        if key in body:
            values[column] = body[key] or None
    if "user_data" in body and req.version.at_least("2.57"):
        values["user_data"] = body["user_data"]
    compute = req.state.compute
    if "key_name" in body and req.version.at_least("2.54"):
        values["key_name"] = body["key_name"]
        values["key_data"] = compute.servers.key_for(req.context, body["key_name"])
    if "metadata" in body:
        await asyncio.to_thread(compute.metadata.replace, req.context, row.uuid, check_metadata(body["metadata"]))
    await _lifecycle(req).rebuild(req.context, row.uuid, body["imageRef"].rsplit("/", 1)[-1], values,
                                  reimage=req.version.at_least("2.93"))
    full = await asyncio.to_thread(compute.servers.show, req.context, row.uuid)
    server = render(req, full, slim=True)
    if req.version.at_least("2.54"):
        server["key_name"] = full.key_name
    if req.version.at_least("2.57"):
        server["user_data"] = full.user_data
        server.pop("OS-EXT-SRV-ATTR:user_data", None)
    server["adminPass"] = body.get("adminPass") or secrets.token_urlsafe(9)
    return reply({"server": server}, status=202)


async def resize(req, body):
    if not isinstance(body, dict) or not isinstance(body.get("flavorRef"), (str, int)):
        raise invalid("flavorRef", body)
    row = await _server(req, "servers:resize")
    await _lifecycle(req).resize(req.context, row.uuid, str(body["flavorRef"]).rsplit("/", 1)[-1])


async def confirm_resize(req, body):
    row = await _server(req, "servers:confirm_resize")
    await _lifecycle(req).confirm_resize(req.context, row.uuid)
    return reply(None, status=204)


async def revert_resize(req, body):
    row = await _server(req, "servers:revert_resize")
    await _lifecycle(req).revert_resize(req.context, row.uuid)


async def create_image(req, body):
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
        raise invalid("name", body.get("name") if isinstance(body, dict) else body)
    row = await _server(req, "servers:create_image")
    from overcast.compute.service.volume_backed import is_volume_backed

    if is_volume_backed(row):  # Nova checks this second rule too
        req.authorize({"project_id": row.project_id, "user_id": row.user_id},
                      rule=P + "servers:create_image:allow_volume_backed")
    image_id = await _lifecycle(req).create_image(req.context, row.uuid, body["name"],
                                                  check_metadata(body.get("metadata", {})))
    if req.version.at_least("2.45"):
        return reply({"image_id": image_id}, status=202)
    root = req.base_url
    return reply(None, status=202, headers={"Location": f"{root}/images/{image_id}"})


async def create_backup(req, body):
    if not isinstance(body, dict):
        raise invalid("createBackup", body)
    check(body, {"name": ("string", 1, 255), "backup_type": "string", "rotation": "integer|string",
                 "metadata": "object"}, ("name", "backup_type", "rotation"))
    rotation = body["rotation"]
    if isinstance(rotation, bool) or not str(rotation).isdigit():
        raise invalid("rotation", rotation)
    row = await _server(req, "os-create-backup")
    image_id = await _lifecycle(req).create_backup(req.context, row.uuid, body["name"], body["backup_type"],
                                                   int(rotation), check_metadata(body.get("metadata", {})))
    if req.version.at_least("2.45"):
        return reply({"image_id": image_id}, status=202)
    return reply(None, status=202, headers={"Location": f"{req.base_url}/images/{image_id}"})


async def add_security_group(req, body):
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name:
        raise invalid("name", name)
    row = await _server(req, "os-security-groups:add")
    await asyncio.to_thread(req.state.compute.actions.set_security_groups, req.context, row.uuid, add=name)


async def remove_security_group(req, body):
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name:
        raise invalid("name", name)
    row = await _server(req, "os-security-groups:remove")
    await asyncio.to_thread(req.state.compute.actions.set_security_groups, req.context, row.uuid, remove=name)


async def shelve(req, body):
    row = await _server(req, "os-shelve:shelve")
    await _lifecycle(req).shelve(req.context, row.uuid)


async def unshelve(req, body):
    """{"unshelve": null}; from 2.77 {"availability_zone": ...}; from 2.91 also {"host": ...}
    (admins; the server must be offloaded)."""
    row = await _server(req, "os-shelve:unshelve")
    zone = body.get("availability_zone") if isinstance(body, dict) and req.version.at_least("2.77") else None
    host = None
    if isinstance(body, dict) and req.version.at_least("2.77"):
        if set(body) - ({"availability_zone", "host"} if req.version.at_least("2.91") else {"availability_zone"}):
            raise invalid("unshelve", body)
        host = _host(body.get("host"))
        if host is not None:
            req.authorize({"project_id": row.project_id, "user_id": row.user_id},
                          rule=P + "os-shelve:unshelve_to_host")
    await _lifecycle(req).unshelve(req.context, row.uuid, zone, host)


async def console_output(req, body):
    row = await _server(req, "os-console-output")
    length = body.get("length") if isinstance(body, dict) else None
    if length is not None:
        if isinstance(length, bool) or not str(length).lstrip("-").isdigit() or int(length) < -1:
            raise invalid("length", length)
        length = int(length)
        length = None if length == -1 else length
    output = await _lifecycle(req).console_output(req.context, row.uuid, length)
    return reply({"output": output})


async def _console(req, protocol: str, kind: str) -> dict:
    row = await _server(req, "os-remote-consoles")
    return await req.state.compute.consoles.create(req.context, row.uuid, protocol, kind)


def _legacy_console(protocol: str):
    async def handle(req, body):
        kind = body.get("type") if isinstance(body, dict) else None
        if not isinstance(kind, str):
            raise invalid("type", kind)
        console = await _console(req, protocol, kind)
        return reply({"console": {"type": console["type"], "url": console["url"]}})

    return handle


async def remote_consoles(req):
    """POST /servers/{id}/remote-consoles (2.6+; mks from 2.8)."""
    if not req.version.at_least("2.6"):
        raise errors.ComputeNotFound("The resource could not be found.")
    raw = req.json()
    body = raw.get("remote_console") if isinstance(raw, dict) else None
    protocols = ("vnc", "spice", "serial", "rdp") + (("mks",) if req.version.at_least("2.8") else ())
    if not isinstance(body, dict) or body.get("protocol") not in protocols or not isinstance(body.get("type"), str):
        raise invalid("remote_console", body)
    console = await _console(req, body["protocol"], body["type"])
    return reply({"remote_console": console})


async def rescue(req, body):
    row = await _server(req, "os-rescue")
    await _lifecycle(req).act(req.context, row.uuid, "rescue", with_spec=True)
    password = body.get("adminPass") if isinstance(body, dict) else None
    return reply({"adminPass": password or secrets.token_urlsafe(9)})


async def reset_state(req, body):
    if not isinstance(body, dict) or body.get("state") not in ("active", "error"):
        raise invalid("state", body.get("state") if isinstance(body, dict) else body)
    row = await _server(req, "os-admin-actions:reset_state")
    await asyncio.to_thread(req.state.compute.actions.reset_state, req.context, row.uuid, body["state"])


def _host(value, name: str = "host") -> str | None:
    if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 255):
        raise invalid(name, value)
    return value


async def migrate(req, body):
    """{"migrate": null}, or from 2.56 {"migrate": {"host": ...}} (null: the scheduler picks)."""
    host = None
    if body is not None:  # Tempest sends {} below 2.56 too, as Nova's schema allows
        keys = {"host"} if req.version.at_least("2.56") else set()
        if not isinstance(body, dict) or set(body) - keys:
            raise invalid("migrate", body)
        host = _host(body.get("host"))
    row = await _server(req, "os-migrate-server:migrate")
    if host is not None:
        req.authorize({"project_id": row.project_id, "user_id": row.user_id},
                      rule=P + "os-migrate-server:migrate:host")
    await _lifecycle(req).migrate(req.context, row.uuid, host)


async def migrate_live(req, body):
    """{"os-migrateLive": {"host", "block_migration", "disk_over_commit" (< 2.25), "force"
    (2.30-2.67)}}; host null (2.1: required) lets the scheduler pick. block_migration
    changes nothing here: the driver copies what is not shared."""
    if not isinstance(body, dict):
        raise invalid("os-migrateLive", body)
    allowed = {"host", "block_migration"}
    if not req.version.at_least("2.25"):
        allowed.add("disk_over_commit")
    if req.version.at_least("2.30") and not req.version.at_least("2.68"):
        allowed.add("force")
    if set(body) - allowed or "host" not in body or "block_migration" not in body:
        raise invalid("os-migrateLive", body)
    block = body["block_migration"]
    if not isinstance(block, bool) and not (req.version.at_least("2.25") and block == "auto"):
        if req.version.at_least("2.25") or str(block).lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise invalid("block_migration", block)
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise invalid("force", force)
    host = _host(body["host"])
    row = await _server(req, "os-migrate-server:migrate_live")
    await _lifecycle(req).live_migrate(req.context, row.uuid, host, force and host is not None)


async def force_delete(req, body):
    row = await _server(req, "os-deferred-delete:force")
    await _lifecycle(req).delete(req.context, row.uuid)


async def restore(req, body):
    row = await _server(req, "os-deferred-delete:restore")
    raise errors.InstanceInvalidState(row.uuid, "restore", "vm_state", row.vm_state)


ACTIONS = {
    "os-start": start, "os-stop": stop, "reboot": reboot,
    "pause": _simple("pause", "os-pause-server:pause"), "unpause": _simple("unpause", "os-pause-server:unpause"),
    "suspend": _simple("suspend", "os-suspend-server:suspend"),
    "resume": _simple("resume", "os-suspend-server:resume"),
    "lock": lock, "unlock": unlock, "rebuild": rebuild, "resize": resize, "confirmResize": confirm_resize,
    "revertResize": revert_resize, "createImage": create_image, "createBackup": create_backup,
    "injectNetworkInfo": server_network.inject_network_info, "addFloatingIp": server_network.add_floating_ip, "removeFloatingIp": server_network.remove_floating_ip,
    "addSecurityGroup": add_security_group, "removeSecurityGroup": remove_security_group,
    "shelve": shelve, "unshelve": unshelve,
    "shelveOffload": _simple("shelve_offload", "os-shelve:shelve_offload"),
    "rescue": rescue, "unrescue": _simple("unrescue", "os-unrescue"),
    "os-getConsoleOutput": console_output,
    "os-getVNCConsole": _legacy_console("vnc"),
    "os-getSPICEConsole": _legacy_console("spice"),
    "os-getSerialConsole": _legacy_console("serial"),
    "migrate": migrate, "os-migrateLive": migrate_live,
    "os-resetState": reset_state, "forceDelete": force_delete, "os-forceDelete": force_delete, "restore": restore,
}


async def action(req):
    body = req.json()
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.ComputeInvalid("There is no such action: " + (",".join(body) if isinstance(body, dict) else ""))
    name, args = next(iter(body.items()))
    handler = ACTIONS.get(name)
    if handler is None:
        raise errors.ComputeInvalid(f"There is no such action: {name}")
    result = await handler(req, args)
    return result if result is not None else reply(None, status=202)
