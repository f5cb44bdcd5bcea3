"""/v2.0/security-group-rules (being written)."""

from __future__ import annotations

from overcast.network.api.attributes import STANDARD
from overcast.network.api.controller import Resource

ATTRS = {**STANDARD}

RESOURCE = Resource("security_group_rule", "security-group-rules", ATTRS, "security_group_rules")
