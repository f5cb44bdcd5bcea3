"""/v2.0/{resources}/{id}/tags: tags of networks, subnets, ports, routers, floating IPs,
security groups and subnet pools. Reading needs the resource's get rule, writing its
update rule (Neutron's defaults before the per-tag rules)."""

from __future__ import annotations

from overcast.common.api import Route, reply
from overcast.network.api.controller import target
from overcast.network.errors import HTTPBadRequest

TAGGED = {"networks": "network", "subnets": "subnet", "ports": "port", "routers": "router",
          "floatingips": "floatingip", "security-groups": "security_group", "subnetpools": "subnetpool"}
LOGIC = {"networks": "networks", "subnets": "subnets", "ports": "ports", "routers": "routers",
         "floatingips": "floatingips", "security-groups": "security_groups", "subnetpools": "subnetpools"}


def _resource(req, plural: str, write: bool) -> dict:
    """The tagged resource, after its get (and for writes, update) rule allowed it."""
    from overcast.network.api.routes import RESOURCES

    resource = RESOURCES[plural]
    item = resource.logic(req).get(req.context, req.params["id"])
    if not req.allowed(target(item), f"get_{resource.singular}"):
        raise resource.not_found(req.params["id"])
    if write:
        resource.authorize_change(req, "update", item)
    return item


def _loader(req, plural: str):
    logic = getattr(req.state.network, LOGIC[plural])
    model = getattr(logic, "model", None)
    return (lambda session, ident: session.get(model, ident)) if model is not None else (lambda s, i: None)


def handlers(plural: str):
    def list_tags(req):
        _resource(req, plural, write=False)
        return reply({"tags": req.state.network.tags.list(req.params["id"])})

    def check_tag(req):
        _resource(req, plural, write=False)
        req.state.network.tags.check(req.params["id"], req.params["tag"])
        return reply(None, status=204)

    def add_tag(req):
        _resource(req, plural, write=True)
        req.state.network.tags.add(_loader(req, plural), TAGGED[plural], req.params["id"], req.params["tag"])
        return reply(None, status=201)

    def replace_tags(req):
        _resource(req, plural, write=True)
        body = req.json()
        if not isinstance(body, dict) or "tags" not in body:
            raise HTTPBadRequest("Invalid input for tags. Reason: 'tags' is required.")
        tags = req.state.network.tags.replace(_loader(req, plural), TAGGED[plural], req.params["id"], body["tags"])
        return reply({"tags": tags})

    def remove_tags(req):
        _resource(req, plural, write=True)
        req.state.network.tags.remove(_loader(req, plural), req.params["id"])
        return reply(None, status=204)

    def remove_tag(req):
        _resource(req, plural, write=True)
        req.state.network.tags.remove(_loader(req, plural), req.params["id"], req.params["tag"])
        return reply(None, status=204)

    base = f"/v2.0/{plural}/{{id}}/tags"
    return [Route("GET", base, list_tags), Route("PUT", base, replace_tags), Route("DELETE", base, remove_tags),
            Route("GET", base + "/{tag}", check_tag), Route("PUT", base + "/{tag}", add_tag),
            Route("DELETE", base + "/{tag}", remove_tag)]


def routes() -> list[Route]:
    return [row for plural in TAGGED for row in handlers(plural)]
