"""/v3/domains/{domain_id}/config[/{group}[/{option}]] and /v3/domains/config/.../default"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.api.validation import body_object


def _where(req) -> tuple:
    return req.params["domain_id"], req.params.get("group"), req.params.get("option")


def _config(req):
    return body_object(req.json(), "config")


def show(req):
    domain_id, group, option = _where(req)
    req.authorize({"target.domain.id": domain_id})
    return reply({"config": req.state.identity.domain_configs.get(domain_id, group, option)})


def replace(req):
    domain_id = req.params["domain_id"]
    req.authorize({"target.domain.id": domain_id})
    config, created = req.state.identity.domain_configs.replace(domain_id, _config(req))
    return reply({"config": config}, status=201 if created else 200)


def update(req):
    domain_id, group, option = _where(req)
    req.authorize({"target.domain.id": domain_id})
    config = _config(req)
    if option is not None and group not in config:  # PATCH .../{group}/{option} may send {option: value}
        config = {group: config}
    config = req.state.identity.domain_configs.update(domain_id, config, group, option)
    return reply({"config": config})


def delete(req):
    domain_id, group, option = _where(req)
    req.authorize({"target.domain.id": domain_id})
    req.state.identity.domain_configs.delete(domain_id, group, option)
    return reply(None, status=204)


def defaults(req):
    req.authorize()
    config = req.state.identity.domain_configs.defaults(req.params.get("group"), req.params.get("option"))
    return reply({"config": config})
