"""/v2.0/subnetpools (being written)."""

from __future__ import annotations

from overcast.network.api.attributes import STANDARD
from overcast.network.api.controller import Resource

ATTRS = {**STANDARD}

RESOURCE = Resource("subnetpool", "subnetpools", ATTRS, "subnetpools")
