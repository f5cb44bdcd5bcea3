"""/v2.0/subnetpools"""

from __future__ import annotations

from overcast.network.api.attributes import (REQUIRED, STANDARD, Attr, boolean, integer, list_of, string,
                                             uuid_value)
from overcast.network.api.controller import Resource

ATTRS = {
    **STANDARD,
    "prefixes": Attr(list_of(string(64)), default=REQUIRED),
    "default_prefixlen": Attr(integer(0, 128)),
    "min_prefixlen": Attr(integer(0, 128)),
    "max_prefixlen": Attr(integer(0, 128)),
    "shared": Attr(boolean, put=False, default=False, policy=True),
    "is_default": Attr(boolean, default=False, policy=True),
    "default_quota": Attr(integer(0, nullable=True)),
    "address_scope_id": Attr(uuid_value(nullable=True)),
    "ip_version": Attr(post=False, put=False),
}

RESOURCE = Resource("subnetpool", "subnetpools", ATTRS, "subnetpools")
