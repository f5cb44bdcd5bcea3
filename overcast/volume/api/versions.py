"""Block storage version documents and the microversion range served (3.0 - 3.70)."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.api.microversions import Microversion, MicroversionRange

RANGE = MicroversionRange(service="volume", minimum=Microversion(3, 0), maximum=Microversion(3, 70))
UPDATED = "2023-08-31T00:00:00Z"


def _v3(base: str) -> dict:
    return {"id": "v3.0", "status": "CURRENT", "version": str(RANGE.maximum), "min_version": str(RANGE.minimum),
            "updated": UPDATED,
            "links": [{"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
                      {"rel": "self", "href": f"{base}/v3/"}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}]}


async def versions(req):
    """GET /: 300 Multiple Choices with the one version served."""
    return reply({"versions": [_v3(req.base_url)]}, status=300)


async def version(req):
    """GET /v3/: the v3 document (Cinder lists it under ``versions``)."""
    return reply({"versions": [_v3(req.base_url)]})
