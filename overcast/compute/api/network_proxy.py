"""Nova's proxies of the network service (served below microversion 2.36, as Nova does):
/os-networks, /os-tenant-networks, /os-security-groups, /os-security-group-rules,
/os-floating-ips, /os-floating-ip-pools."""

from __future__ import annotations

import asyncio

from overcast.common.api import Route, reply
from overcast.compute import errors

P = "os_compute_api:"


def _proxied(rule: str, call, status: int = 200):
    """A handler: 404 from 2.36 on, the policy rule on the caller's project, then ``call``."""
    async def handle(req):
        if req.version.at_least("2.36"):
            raise errors.ComputeNotFound("The resource could not be found.")
        req.authorize({"project_id": req.context.project_id}, rule=P + rule)
        result = await asyncio.to_thread(call, req, req.state.compute.network_proxy)
        return reply(result, status=status) if result is not None else reply(None, status=202)
    return handle


def _body(req, key: str) -> dict:
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise errors.ComputeInvalid(f"The request body is invalid: '{key}' is a required property")
    return body[key]


def _all(req) -> bool:
    return req.query.get("all_tenants", "0").lower() not in ("0", "false", "")


ROUTES = [
    Route("GET", "/v2.1/os-networks", _proxied("os-networks:list",
                                               lambda req, px: {"networks": px.networks(req.context)})),
    Route("GET", "/v2.1/os-networks/{network_id}", _proxied(
        "os-networks:view", lambda req, px: {"network": px.network_show(req.context, req.params["network_id"])})),
    Route("GET", "/v2.1/os-tenant-networks", _proxied(
        "os-tenant-networks:list", lambda req, px: {"networks": px.networks(req.context, tenant=True)})),
    Route("GET", "/v2.1/os-tenant-networks/{network_id}", _proxied(
        "os-tenant-networks:show",
        lambda req, px: {"network": px.network_show(req.context, req.params["network_id"], tenant=True)})),
    Route("GET", "/v2.1/os-security-groups", _proxied(
        "os-security-groups:get", lambda req, px: {"security_groups": px.groups(req.context, _all(req))})),
    Route("POST", "/v2.1/os-security-groups", _proxied(
        "os-security-groups:create",
        lambda req, px: {"security_group": px.create_group(req.context, _body(req, "security_group"))})),
    Route("GET", "/v2.1/os-security-groups/{id}", _proxied(
        "os-security-groups:show",
        lambda req, px: {"security_group": px.group(req.context, px.get_group(req.context, req.params["id"]))})),
    Route("PUT", "/v2.1/os-security-groups/{id}", _proxied(
        "os-security-groups:update",
        lambda req, px: {"security_group": px.update_group(req.context, req.params["id"],
                                                           _body(req, "security_group"))})),
    Route("DELETE", "/v2.1/os-security-groups/{id}", _proxied(
        "os-security-groups:delete", lambda req, px: px.delete_group(req.context, req.params["id"]))),
    Route("POST", "/v2.1/os-security-group-rules", _proxied(
        "os-security-groups:rule:create",
        lambda req, px: {"security_group_rule": px.create_rule(req.context, _body(req, "security_group_rule"))})),
    Route("DELETE", "/v2.1/os-security-group-rules/{id}", _proxied(
        "os-security-groups:rule:delete", lambda req, px: px.delete_rule(req.context, req.params["id"]))),
    Route("GET", "/v2.1/os-floating-ip-pools", _proxied(
        "os-floating-ip-pools", lambda req, px: {"floating_ip_pools": px.pools(req.context)})),
    Route("GET", "/v2.1/os-floating-ips", _proxied(
        "os-floating-ips:list", lambda req, px: {"floating_ips": px.floating_ips(req.context)})),
    Route("POST", "/v2.1/os-floating-ips", _proxied(
        "os-floating-ips:create",
        lambda req, px: {"floating_ip": px.allocate(req.context, (req.json(required=False) or {}).get("pool"))})),
    Route("GET", "/v2.1/os-floating-ips/{id}", _proxied(
        "os-floating-ips:show", lambda req, px: {"floating_ip": px.get_floating_ip(req.context, req.params["id"])})),
    Route("DELETE", "/v2.1/os-floating-ips/{id}", _proxied(
        "os-floating-ips:delete", lambda req, px: px.release(req.context, req.params["id"]))),
]
