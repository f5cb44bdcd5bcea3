"""/v2.0/floatingips/{floatingip_id}/port_forwardings (the floating-ip-port-forwarding
extension). The rules (``create_floatingip_port_forwarding``...) are checked against
the floating IP's project, as Neutron checks them against the parent's owner."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.network.api import listing
from overcast.network.api.attributes import REQUIRED, Attr, integer, ip_address, one_of, read_body, string, uuid_value
from overcast.network.api.controller import target
from overcast.network.errors import FloatingIPNotFound, PolicyNotAuthorized

PORT = integer(1, 65535)
ATTRS = {
    "external_port": Attr(PORT, default=REQUIRED),
    "internal_port": Attr(PORT, default=REQUIRED),
    "internal_ip_address": Attr(ip_address(), default=REQUIRED),
    "internal_port_id": Attr(uuid_value(), default=REQUIRED),
    "protocol": Attr(one_of("tcp", "udp", "udplite", "dccp"), default=REQUIRED),
    "description": Attr(string(255), default=""),
}


def _authorized_fip(req, action: str) -> str:
    fip = req.state.network.floatingips.get(req.context, req.params["floatingip_id"])
    rule = f"{action}_floatingip_port_forwarding"
    if not req.allowed(target(fip), rule):
        if action == "get" or not req.allowed(target(fip), "get_floatingip"):
            raise FloatingIPNotFound(id=fip["id"])
        raise PolicyNotAuthorized(rule=rule)
    return fip["id"]


def _logic(req):
    return req.state.network.port_forwardings


def list_forwardings(req):
    fip_id = _authorized_fip(req, "get")
    items = listing.select(_logic(req).list(req.context, fip_id), req.query)
    fields = req.query.getlist("fields")
    return reply({"port_forwardings": [listing.only_fields(item, fields) for item in items]})


def show(req):
    fip_id = _authorized_fip(req, "get")
    item = _logic(req).get(req.context, fip_id, req.params["id"])
    return reply({"port_forwarding": listing.only_fields(item, req.query.getlist("fields"))})


def create(req):
    fip_id = _authorized_fip(req, "create")
    (values,) = read_body(req, "port_forwarding", ATTRS)
    values.pop("project_id", None)
    return reply({"port_forwarding": _logic(req).create(req.context, fip_id, values)}, status=201)


def update(req):
    fip_id = _authorized_fip(req, "update")
    (values,) = read_body(req, "port_forwarding", ATTRS, update=True)
    values.pop("project_id", None)
    return reply({"port_forwarding": _logic(req).update(req.context, fip_id, req.params["id"], values)})


def delete(req):
    fip_id = _authorized_fip(req, "delete")
    _logic(req).delete(req.context, fip_id, req.params["id"])
    return reply(None, status=204)
