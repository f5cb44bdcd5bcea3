"""/v2.0/security-groups (being written)."""

from __future__ import annotations

from overcast.network.api.attributes import STANDARD
from overcast.network.api.controller import Resource

ATTRS = {**STANDARD}

RESOURCE = Resource("security_group", "security-groups", ATTRS, "security_groups")
