"""/v2.0/security-groups"""

from __future__ import annotations

from overcast.network.api.attributes import Attr, boolean, string
from overcast.network.api.controller import Resource
from overcast.network.errors import SecurityGroupDefaultAlreadyExists


def name_not_default(name, value):
    """A group name; only the project's own default group is called 'default' (409 otherwise)."""
    value = string(255)(name, value)
    if value.lower() == "default":
        raise SecurityGroupDefaultAlreadyExists()
    return value


ATTRS = {
    "name": Attr(name_not_default, default=""),
    "description": Attr(string(255), default=""),
    "stateful": Attr(boolean, default=True),
    # read-only attributes, listed so sorting and fields know them
    "security_group_rules": Attr(post=False, put=False),
}

RESOURCE = Resource("security_group", "security_groups", ATTRS, "security_groups", path="/v2.0/security-groups")
