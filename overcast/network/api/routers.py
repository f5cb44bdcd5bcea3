"""/v2.0/routers, and the router actions: add/remove_router_interface and
add/remove_extraroutes (``PUT /v2.0/routers/{id}/<action>``).

``external_gateway_info``'s ``enable_snat`` and ``external_fixed_ips`` have policy rules
of their own (``create_router:external_gateway_info:enable_snat``), checked when the
request sets them, as Neutron does.
"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.network.api.attributes import (STANDARD, Attr, boolean, cidr, invalid, ip_address, list_of, string,
                                             uuid_value)
from overcast.network.api.controller import Resource, guarded, target
from overcast.network.errors import HTTPBadRequest, PolicyNotAuthorized

GATEWAY_KEYS = {"network_id", "enable_snat", "external_fixed_ips"}


def gateway_info(name, value):
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        raise invalid(name, f"'{value}' is not a dictionary")
    if "network_id" not in value or set(value) - GATEWAY_KEYS:
        raise invalid(name, f"Validation of dictionary's keys failed. Expected keys: {{'network_id'}} "
                            f"Provided keys: {set(value)}")
    info = {"network_id": uuid_value()(name, value["network_id"])}
    if "enable_snat" in value:
        info["enable_snat"] = boolean(name, value["enable_snat"])
    if value.get("external_fixed_ips") is not None:
        info["external_fixed_ips"] = [fixed_ip(name, one) for one in list_of()(name, value["external_fixed_ips"])]
    return info


def fixed_ip(name, value):
    if not isinstance(value, dict) or set(value) - {"subnet_id", "ip_address"}:
        raise invalid(name, f"Invalid data format for fixed IP: '{value}'")
    found = {}
    if value.get("subnet_id") is not None:
        found["subnet_id"] = uuid_value()(name, value["subnet_id"])
    if value.get("ip_address") is not None:
        found["ip_address"] = ip_address()(name, value["ip_address"])
    return found


def route(name, value):
    if not isinstance(value, dict) or set(value) != {"destination", "nexthop"}:
        raise invalid(name, f"Invalid data format for hostroute: '{value}'")
    return {"destination": cidr()(name, value["destination"]), "nexthop": ip_address()(name, value["nexthop"])}


def routes(name, value):
    return [] if value is None else list_of(route)(name, value)


ATTRS = {
    **STANDARD,
    "admin_state_up": Attr(boolean, default=True),
    "external_gateway_info": Attr(gateway_info, default=None),
    "routes": Attr(routes, post=False),
    "distributed": Attr(boolean, policy=True),
    "ha": Attr(boolean, policy=True),
    "availability_zone_hints": Attr(list_of(string(255)), put=False, default=[]),
    "status": Attr(post=False, put=False),
    "availability_zones": Attr(post=False, put=False),
}


class RouterResource(Resource):
    def check_attributes(self, req, action: str, values: dict, base: dict, update: bool) -> None:
        super().check_attributes(req, action, values, base, update)
        gateway = values.get("external_gateway_info") or {}
        for key in ("enable_snat", "external_fixed_ips"):
            rule = f"{action}_router:external_gateway_info:{key}"
            if key in gateway and guarded(req, rule) and not req.allowed(target({**base, **values}), rule):
                raise PolicyNotAuthorized(rule=rule)


RESOURCE = RouterResource("router", "routers", ATTRS, "routers")


def _authorize(req, rule: str) -> None:
    """The action's rule on the router: 404 when the caller may not even see it, else 403."""
    current = req.state.network.routers.get(req.context, req.params["id"])
    if req.allowed(target(current), rule):
        return
    if not req.allowed(target(current), "get_router"):
        raise RESOURCE.not_found(current["id"])
    raise PolicyNotAuthorized(rule=rule)


def add_router_interface(req):
    _authorize(req, "add_router_interface")
    return reply(req.state.network.routers.add_interface(req.context, req.params["id"], req.json()))


def remove_router_interface(req):
    _authorize(req, "remove_router_interface")
    return reply(req.state.network.routers.remove_interface(req.context, req.params["id"], req.json()))


def _routes_of(req) -> list[dict]:
    body = req.json()
    item = body.get("router") if isinstance(body, dict) else None
    if not isinstance(item, dict) or set(item) != {"routes"}:
        raise HTTPBadRequest("Body must be {'router': {'routes': [...]}}")
    return list_of(route)("routes", item["routes"])


def add_extraroutes(req):
    _authorize(req, "add_extraroutes")
    routes = _routes_of(req)
    router = req.state.network.routers.change_routes(req.context, req.params["id"], routes, adding=True)
    return reply({"router": RESOURCE.render(req, router)})


def remove_extraroutes(req):
    _authorize(req, "remove_extraroutes")
    routes = _routes_of(req)
    router = req.state.network.routers.change_routes(req.context, req.params["id"], routes, adding=False)
    return reply({"router": RESOURCE.render(req, router)})
