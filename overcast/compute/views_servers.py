"""Servers as Nova's JSON, field by field as each microversion shows them."""

from __future__ import annotations

import hashlib

from overcast.common.times import iso_seconds
from overcast.compute import states

PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")


def _root(base: str) -> str:
    return base.rsplit("/v2.1", 1)[0]


def links(base: str, kind: str, ident: str) -> list[dict]:
    return [{"rel": "self", "href": f"{base}/{kind}/{ident}"}, {"rel": "bookmark", "href": f"{_root(base)}/{kind}/{ident}"}]


def summary(base: str, row) -> dict:
    return {"id": row.uuid, "name": row.display_name, "links": links(base, "servers", row.uuid)}


def usage_time(value) -> str | None:
    """OS-SRV-USG times: ISO 8601 with microseconds and no zone, as Nova prints them."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def host_id(row) -> str:
    if not row.host:
        return ""
    return hashlib.sha224((row.project_id + row.host).encode()).hexdigest()


def flavor(base: str, row, version, show_specs: bool) -> dict:
    data = row.flavor
    if not version.at_least("2.47"):
        return {"id": row.flavor_id, "links": [links(base, "flavors", row.flavor_id)[1]]}
    body = {"vcpus": data["vcpus"], "ram": data["memory_mb"], "disk": data["root_gb"],
            "ephemeral": data.get("ephemeral_gb", 0), "swap": data.get("swap", 0), "original_name": data["name"]}
    if show_specs:
        body["extra_specs"] = data.get("extra_specs", {})
    return body


def image(base: str, row, version):
    if not row.image_ref:
        return ""
    body = {"id": row.image_ref, "links": [links(base, "images", row.image_ref)[1]]}
    if version.at_least("2.98"):
        body["properties"] = (row.system_metadata or {}).get("image_properties", {})
    return body


def fault(row, is_admin: bool) -> dict | None:
    item = getattr(row, "fault", None)
    if item is None or row.vm_state not in (states.ERROR, states.DELETED):
        return None
    body = {"code": item.code, "created": iso_seconds(item.created_at), "message": item.message}
    if is_admin or item.code != 500:
        body["details"] = item.details or ""
    return body


def server(base: str, row, version, is_admin: bool, show_specs: bool = False, groups: list | None = None,
           listing: bool = False) -> dict:
    status = states.status(row.vm_state, row.task_state)
    body = {
        "id": row.uuid, "name": row.display_name, "status": status, "tenant_id": row.project_id,
        "user_id": row.user_id, "metadata": getattr(row, "meta", {}), "hostId": host_id(row),
        "image": image(base, row, version), "flavor": flavor(base, row, version, show_specs),
        "created": iso_seconds(row.created_at), "updated": iso_seconds(row.updated_at),
        "addresses": getattr(row, "net_addresses", None) or row.addresses or {}, "accessIPv4": row.access_ip_v4 or "", "accessIPv6": row.access_ip_v6 or "",
        "links": links(base, "servers", row.uuid), "OS-DCF:diskConfig": "MANUAL",
        "key_name": row.key_name, "config_drive": "True" if row.config_drive else "",
        "OS-EXT-AZ:availability_zone": row.availability_zone or "",
        "OS-EXT-STS:task_state": row.task_state, "OS-EXT-STS:vm_state": row.vm_state,
        "OS-EXT-STS:power_state": row.power_state,
        "OS-SRV-USG:launched_at": usage_time(row.launched_at), "OS-SRV-USG:terminated_at": usage_time(row.terminated_at),
        "security_groups": [{"name": name} for name in (row.security_groups or [])],
        "os-extended-volumes:volumes_attached": [
            {"id": volume_id, **({"delete_on_termination": dot} if version.at_least("2.3") else {})}
            for volume_id, dot in getattr(row, "volumes_attached", ())],
    }
    if status in PROGRESS_STATUSES:
        body["progress"] = row.progress or 0
    if not body["security_groups"]:
        body.pop("security_groups")
    if is_admin:
        body.update({"OS-EXT-SRV-ATTR:host": row.host, "OS-EXT-SRV-ATTR:hypervisor_hostname": row.node,
                     "OS-EXT-SRV-ATTR:instance_name": f"instance-{row.uuid[:8]}"})
        if version.at_least("2.3"):
            body.update({"OS-EXT-SRV-ATTR:reservation_id": row.reservation_id,
                         "OS-EXT-SRV-ATTR:launch_index": row.launch_index,
                         "OS-EXT-SRV-ATTR:hostname": row.hostname, "OS-EXT-SRV-ATTR:kernel_id": row.kernel_id or "",
                         "OS-EXT-SRV-ATTR:ramdisk_id": row.ramdisk_id or "", "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                         "OS-EXT-SRV-ATTR:user_data": row.user_data})
    elif version.at_least("2.90"):
        body["OS-EXT-SRV-ATTR:hostname"] = row.hostname
    problem = fault(row, is_admin)
    if problem:
        body["fault"] = problem
    if version.at_least("2.9"):
        body["locked"] = bool(row.locked)
    if version.at_least("2.16") and is_admin:
        body["host_status"] = getattr(row, "host_status", "UP" if row.host else "")
    if version.at_least("2.19"):
        body["description"] = row.display_description
    if version.at_least("2.26"):
        body["tags"] = getattr(row, "tag_list", [])
    if version.at_least("2.63"):
        body["trusted_image_certificates"] = None
    if version.at_least("2.71") and not listing:
        body["server_groups"] = groups or []
    if version.at_least("2.73"):
        body["locked_reason"] = row.locked_reason
    if version.at_least("2.96"):
        body["pinned_availability_zone"] = row.requested_zone
    if version.at_least("2.100"):
        body["scheduler_hints"] = (row.system_metadata or {}).get("scheduler_hints", {})
    return body


#: what update and rebuild answers leave out below 2.75 (from 2.75 they answer like show)
EXTENDED = ("OS-EXT-AZ:", "OS-EXT-STS:", "OS-SRV-USG:", "OS-EXT-SRV-ATTR:", "security_groups",
            "os-extended-volumes:", "key_name", "config_drive", "host_status")


def slim(body: dict, version) -> dict:
    if version.at_least("2.75"):
        return body
    slimmed = {k: v for k, v in body.items() if not k.startswith(EXTENDED)}
    if "addresses" in slimmed:  # nor the extended address attributes (Nova's extend_address=False)
        slimmed["addresses"] = {net: [{"version": ip["version"], "addr": ip["addr"]} for ip in ips]
                                for net, ips in slimmed["addresses"].items()}
    return slimmed
