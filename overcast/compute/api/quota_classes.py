"""/v2.1/os-quota-class-sets/{id}: show and update a quota class; 'default' sets the defaults.

The fields follow the microversion as Nova's do: below 2.50 the server group quotas are
hidden (Nova bug 1693168), from 2.50 the network proxy quotas are gone, from 2.57 the
injected file ones. An update may name any field its microversion's schema allows.
"""

from __future__ import annotations

from overcast.common.api import reply
from overcast.compute import errors
from overcast.compute.api import checks
from overcast.compute.service.quotas import DEFAULTS, INJECTED, NETWORK_PROXIED, check_limit

SERVER_GROUPS = ("server_groups", "server_group_members")


def _accepted(version) -> list[str]:
    """The names an update may set at ``version``."""
    dropped = () if not version.at_least("2.50") else NETWORK_PROXIED
    if version.at_least("2.57"):
        dropped += INJECTED
    return [name for name in DEFAULTS if name not in dropped]


def _shown(version) -> list[str]:
    """The names a response carries at ``version``."""
    accepted = _accepted(version)
    return accepted if version.at_least("2.50") else [name for name in accepted if name not in SERVER_GROUPS]


def _body(values: dict, version, class_name: str | None = None) -> dict:
    shown = {name: values[name] for name in _shown(version)}
    return {"quota_class_set": {"id": class_name, **shown} if class_name is not None else shown}


def show(req):
    req.authorize()
    class_name = req.params["class_name"]
    return reply(_body(req.state.compute.quotas.class_limits(class_name), req.version, class_name))


def update(req):
    values = checks.obj(req.json(), "quota_class_set")
    checks.only(req.json(), ("quota_class_set",))
    checks.only(values, tuple(_accepted(req.version)), "quota_class_set")
    values = {name: check_limit(name, value) for name, value in values.items()}
    req.authorize()
    class_name = req.params["class_name"]
    if len(class_name) > 255:
        raise errors.ComputeInvalid("quota_class_name has more than 255 characters.")
    return reply(_body(req.state.compute.quotas.update_class(class_name, values), req.version))
