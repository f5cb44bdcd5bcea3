"""/v2.1/os-services, /v2.1/os-hypervisors and /v2.1/os-availability-zone."""

from __future__ import annotations

from urllib.parse import urlencode

from overcast.common.api import reply
from overcast.common.api.microversions import Microversion
from overcast.common.errors import NotFound, Unimplemented
from overcast.compute import errors
from overcast.compute import views_hosts as views
from overcast.compute.api import checks

GONE = "The resource could not be found."  # Nova's answer outside a method's microversions


def _until(req, last: str) -> None:
    """404 past the method's last microversion, as Nova routes them."""
    if req.version > Microversion.parse(last):
        raise NotFound(GONE)


# -- os-services ------------------------------------------------------------------------

def list_services(req):
    req.authorize()
    if req.version.at_least("2.75"):
        checks.only(req.query, ("host", "binary"), "query parameters")
    states = req.state.compute.hosts.list_services(req.query.get("host"), req.query.get("binary"))
    return reply({"services": [views.service(state, req.version) for state in states]})


def update_service(req):
    """2.53+: PUT /os-services/{uuid} with status/forced_down; before: PUT /os-services/{action}."""
    body = checks.obj(req.json())
    hosts = req.state.compute.hosts
    if req.version.at_least("2.53"):
        checks.only(body, ("status", "disabled_reason", "forced_down"))
        status = body.get("status")
        if status is not None and status not in ("enabled", "disabled"):
            raise checks.invalid("status", status, f"{status!r} is not one of ['enabled', 'disabled']")
        reason = checks.string(body["disabled_reason"], "disabled_reason") if "disabled_reason" in body else None
        forced = checks.boolean(body["forced_down"], "forced_down") if "forced_down" in body else None
        service_id = checks.uuid_id(req.params["service_id"])
        req.authorize()
        state = hosts.update_service(service_id, status, reason, forced)
        return reply({"service": views.service(state, req.version)})
    allowed = ("host", "binary", "disabled_reason") + (("forced_down",) if req.version.at_least("2.11") else ())
    checks.only(body, allowed)
    checks.required(body, ("host", "binary"), "body")
    host, binary = checks.host(body["host"]), checks.string(body["binary"], "binary")
    if "disabled_reason" in body:
        checks.string(body["disabled_reason"], "disabled_reason")
    if "forced_down" in body:
        checks.boolean(body["forced_down"], "forced_down")
    req.authorize()
    action = req.params["service_id"]
    answer = {"host": host, "binary": binary}
    if action == "enable":
        hosts.set_service(host, binary, disabled=False, disabled_reason=None)
        answer["status"] = "enabled"
    elif action == "disable":
        hosts.set_service(host, binary, disabled=True, disabled_reason=None)
        answer["status"] = "disabled"
    elif action == "disable-log-reason":
        if "disabled_reason" not in body:
            raise errors.ComputeInvalid("Missing disabled reason field")
        hosts.set_service(host, binary, disabled=True, disabled_reason=body["disabled_reason"])
        answer.update(status="disabled", disabled_reason=body["disabled_reason"])
    elif action == "force-down" and req.version.at_least("2.11"):
        if "forced_down" not in body:
            raise errors.ComputeInvalid("Missing forced_down field")
        answer["forced_down"] = checks.boolean(body["forced_down"], "forced_down")
        hosts.set_service(host, binary, forced_down=answer["forced_down"])
    else:
        raise NotFound("Unknown action")
    return reply({"service": answer})


def delete_service(req):
    req.authorize()
    service_id = req.params["service_id"]
    by_uuid = req.version.at_least("2.53")
    if by_uuid:
        checks.uuid_id(service_id)
    else:
        checks.integer_id(service_id)
    req.state.compute.hosts.delete_service(service_id, by_uuid)
    return reply(None, status=204)


# -- os-hypervisors ---------------------------------------------------------------------

def _hypervisors(req, detail: bool):
    req.authorize()
    version, query = req.version, req.query
    pattern, with_servers, limit, marker = None, False, None, None
    if version.at_least("2.53"):
        checks.only(query, ("limit", "marker", "hypervisor_hostname_pattern", "with_servers"), "query parameters")
        if "hypervisor_hostname_pattern" in query:
            pattern = checks.host(query["hypervisor_hostname_pattern"], "hypervisor_hostname_pattern")
        with_servers = checks.boolean(query.get("with_servers", False), "with_servers")
    if version.at_least("2.33"):
        limit, marker = checks.limit_marker(query)
    if pattern is not None and ("limit" in query or marker):
        raise errors.ComputeInvalid("Paging over hypervisors with the hypervisor_hostname_pattern query "
                                           "parameter is not supported.")
    by_uuid = version.at_least("2.53")
    if marker is not None and not by_uuid and not marker.isdigit():
        raise errors.ComputeInvalid(f"marker [{marker}] not found")
    states = req.state.compute.hosts.list_nodes(None if pattern else limit, marker, by_uuid, pattern, with_servers,
                                                detail=detail and version.at_least("2.88"))
    items = [views.hypervisor(state, version, detail) for state in states]
    body = {"hypervisors": items}
    if limit and pattern is None and len(items) == limit:
        path = "/os-hypervisors/detail" if detail else "/os-hypervisors"
        params = urlencode({**dict(query), "limit": limit, "marker": items[-1]["id"]})
        body["hypervisors_links"] = [{"rel": "next", "href": f"{req.base_url}/v2.1{path}?{params}"}]
    return reply(body)


def list_hypervisors(req):
    return _hypervisors(req, detail=False)


def list_hypervisors_detail(req):
    return _hypervisors(req, detail=True)


def _node_id(req) -> tuple[str, bool]:
    """The path's hypervisor id: a uuid from 2.53 (else 400), an integer before (else 404)."""
    value = req.params["hypervisor_id"]
    if req.version.at_least("2.53"):
        return checks.uuid_id(value), True
    if not value.isdigit():
        raise errors.HypervisorNotFound(value)
    return value, False


def show_hypervisor(req):
    req.authorize()
    with_servers = False
    if req.version.at_least("2.53"):
        checks.only(req.query, ("with_servers",), "query parameters")
        with_servers = checks.boolean(req.query.get("with_servers", False), "with_servers")
    node_id, by_uuid = _node_id(req)
    state = req.state.compute.hosts.get_node(node_id, by_uuid, with_servers)
    return reply({"hypervisor": views.hypervisor(state, req.version, detail=True)})


def hypervisor_uptime(req):
    _until(req, "2.87")
    req.authorize()
    node_id, by_uuid = _node_id(req)
    hosts = req.state.compute.hosts
    state = hosts.get_node(node_id, by_uuid)
    uptime = hosts.uptime(state.node.host)
    if uptime is None:
        raise Unimplemented("Feature not supported")
    return reply({"hypervisor": {**views.hypervisor(state, req.version, detail=False), "uptime": uptime}})


def search_hypervisors(req):
    _until(req, "2.52")
    req.authorize()
    states = req.state.compute.hosts.list_nodes(pattern=req.params["pattern"])
    return reply({"hypervisors": [views.hypervisor(state, req.version, detail=False) for state in states]})


def hypervisor_servers(req):
    _until(req, "2.52")
    req.authorize()
    states = req.state.compute.hosts.list_nodes(pattern=req.params["pattern"], with_servers=True)
    return reply({"hypervisors": [views.hypervisor(state, req.version, detail=False) for state in states]})


def hypervisor_statistics(req):
    _until(req, "2.87")
    req.authorize()
    return reply({"hypervisor_statistics": req.state.compute.hosts.statistics()})


# -- os-availability-zone ---------------------------------------------------------------

def availability_zones(req):
    req.authorize()
    available, unavailable, _ = req.state.compute.hosts.availability_zones()
    return reply({"availabilityZoneInfo": views.zones(available, unavailable)})


def availability_zones_detail(req):
    req.authorize()
    available, unavailable, services = req.state.compute.hosts.availability_zones()
    return reply({"availabilityZoneInfo": views.zones(available, unavailable, services)})
