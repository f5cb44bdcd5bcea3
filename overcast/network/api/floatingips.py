"""/v2.0/floatingips (being written)."""

from __future__ import annotations

from overcast.network.api.attributes import STANDARD
from overcast.network.api.controller import Resource

ATTRS = {**STANDARD}

RESOURCE = Resource("floatingip", "floatingips", ATTRS, "floatingips")
