"""/v2.0/subnets (being written)."""

from __future__ import annotations

from overcast.network.api.attributes import STANDARD
from overcast.network.api.controller import Resource

ATTRS = {**STANDARD}

RESOURCE = Resource("subnet", "subnets", ATTRS, "subnets")
