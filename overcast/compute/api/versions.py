"""Compute version documents and the microversion range served."""

from __future__ import annotations

from overcast.common.api import reply
from overcast.common.api.microversions import Microversion, MicroversionRange

RANGE = MicroversionRange(
    service="compute",
    minimum=Microversion(2, 1),
    maximum=Microversion(2, 100),
    legacy_header="x-openstack-nova-api-version",
)
UPDATED = "2013-07-23T11:33:21Z"


def _v21(base: str) -> dict:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": str(RANGE.maximum),
        "min_version": str(RANGE.minimum),
        "updated": UPDATED,
        "links": [{"rel": "self", "href": f"{base}/v2.1/"}],
    }


def _v20(base: str) -> dict:
    return {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "", "updated": "2011-01-21T11:33:21Z",
            "links": [{"rel": "self", "href": f"{base}/v2/"}]}


async def versions(req):
    return reply({"versions": [_v20(req.base_url), _v21(req.base_url)]})


async def version_20(req):
    """The legacy v2.0 document (its API is v2.1 without microversions; not served)."""
    body = _v20(req.base_url)
    body["media-types"] = [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2"}]
    return reply({"version": body})


async def version(req):
    body = _v21(req.base_url)
    body["links"].append({"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"})
    body["media-types"] = [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}]
    return reply({"version": body})
