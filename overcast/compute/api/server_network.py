"""A server's networking: /servers/{id}/ips, /os-interface, /os-security-groups, and
the addFloatingIp / removeFloatingIp actions (below 2.44, as Nova)."""

from __future__ import annotations

import asyncio

from overcast.common.api import Route, reply
from overcast.compute import errors

P = "os_compute_api:"
S = "/v2.1/servers/{server_id}"


async def authorized_server(req, rule: str, show: bool = False):
    """The path's server (with its extras when ``show``) once ``rule`` allows the caller."""
    compute = req.state.compute
    getter = compute.servers.show if show else compute.servers.get
    row = await asyncio.to_thread(getter, req.context, req.params["server_id"])
    req.authorize({"project_id": row.project_id, "user_id": row.user_id}, rule=P + rule)
    return row


async def ips(req):
    row = await authorized_server(req, "ips:index", show=True)
    return reply({"addresses": row.net_addresses})


async def ips_network(req):
    row = await authorized_server(req, "ips:show", show=True)
    label = req.params["network_label"]
    if label not in row.net_addresses:
        raise errors.ComputeNotFound("Instance is not a member of specified network")
    return reply({label: row.net_addresses[label]})


def _attachment(port: dict, version) -> dict:
    body = {"port_state": port["status"], "port_id": port["id"], "net_id": port["network_id"],
            "mac_addr": port["mac_address"],
            "fixed_ips": [{"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]}
                          for ip in port.get("fixed_ips", [])]}
    if version.at_least("2.70"):
        body["tag"] = None
    return body


def _ports(req, uuid: str) -> list[dict]:
    network = req.state.compute.network_api.network
    return network.ports.list_by_device(uuid) if network is not None else []


async def interfaces(req):
    row = await authorized_server(req, "os-attach-interfaces:list")
    ports = await asyncio.to_thread(_ports, req, row.uuid)
    return reply({"interfaceAttachments": [_attachment(port, req.version) for port in ports]})


async def interface(req):
    row = await authorized_server(req, "os-attach-interfaces:show")
    for port in await asyncio.to_thread(_ports, req, row.uuid):
        if port["id"] == req.params["port_id"]:
            return reply({"interfaceAttachment": _attachment(port, req.version)})
    raise errors.ComputeNotFound(f"Port {req.params['port_id']} is not attached")


async def attach(req):
    body = req.json()
    spec = body.get("interfaceAttachment") if isinstance(body, dict) else None
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise errors.ComputeInvalid(f"Invalid input for field/attribute interfaceAttachment. Value: {spec}.")
    port_id, net_id, fixed_ips = spec.get("port_id"), spec.get("net_id"), spec.get("fixed_ips")
    if port_id and net_id:
        raise errors.ComputeInvalid("Must not input both network_id and port_id")
    if fixed_ips is not None and (not isinstance(fixed_ips, list) or not net_id or len(fixed_ips) > 1):
        raise errors.ComputeInvalid("Invalid input for field/attribute fixed_ips.")
    row = await authorized_server(req, "os-attach-interfaces:create")
    port = await req.state.compute.interfaces.attach(req.context, row.uuid, net_id, port_id, fixed_ips)
    return reply({"interfaceAttachment": _attachment(port, req.version)})


async def detach(req):
    row = await authorized_server(req, "os-attach-interfaces:delete")
    await req.state.compute.interfaces.detach(req.context, row.uuid, req.params["port_id"])
    return reply(None, status=202)


async def security_groups(req):
    row = await authorized_server(req, "os-security-groups:list")
    proxy = req.state.compute.network_proxy
    return reply({"security_groups": await asyncio.to_thread(proxy.server_groups, req.context, row.uuid)})


def _address(body, key: str) -> str:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise errors.ComputeInvalid(f"Invalid input for field/attribute {key}. Value: {value}.")
    return value


async def inject_network_info(req, body):
    """Nova re-sends the network to hypervisors that inject it; guests here use DHCP and
    the metadata service, so there is nothing to push: the call is checked and recorded."""
    row = await authorized_server(req, "os-admin-actions:inject_network_info")
    await asyncio.to_thread(req.state.compute.interfaces.record, req.context, row.uuid, "injectNetworkInfo")


async def add_floating_ip(req, body):
    if req.version.at_least("2.44"):
        raise errors.ComputeInvalid("There is no such action: addFloatingIp")
    address = _address(body, "address")
    row = await authorized_server(req, "os-floating-ips:add")
    proxy = req.state.compute.network_proxy
    await asyncio.to_thread(proxy.associate, req.context, row.uuid, address, body.get("fixed_address"))


async def remove_floating_ip(req, body):
    if req.version.at_least("2.44"):
        raise errors.ComputeInvalid("There is no such action: removeFloatingIp")
    address = _address(body, "address")
    row = await authorized_server(req, "os-floating-ips:remove")
    await asyncio.to_thread(req.state.compute.network_proxy.disassociate, req.context, row.uuid, address)


ROUTES = [
    Route("GET", S + "/ips", ips, P + "ips:index"),
    Route("GET", S + "/ips/{network_label}", ips_network, P + "ips:show"),
    Route("GET", S + "/os-interface", interfaces, P + "os-attach-interfaces:list"),
    Route("GET", S + "/os-interface/{port_id}", interface, P + "os-attach-interfaces:show"),
    Route("POST", S + "/os-interface", attach, P + "os-attach-interfaces:create"),
    Route("DELETE", S + "/os-interface/{port_id}", detach, P + "os-attach-interfaces:delete"),
    Route("GET", S + "/os-security-groups", security_groups, P + "os-security-groups:list"),
]
