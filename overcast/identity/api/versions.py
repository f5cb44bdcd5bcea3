"""Version discovery: GET /identity/ (300, both versions), /v3 and /v2.0."""

from __future__ import annotations

from overcast.common.api import reply

UPDATED = "2024-04-01T00:00:00Z"


def _v3(base: str) -> dict:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": UPDATED,
        "links": [{"rel": "self", "href": f"{base}/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


def _v2(base: str) -> dict:
    return {
        "id": "v2.0",
        "status": "deprecated",
        "updated": "2016-08-04T00:00:00Z",
        "links": [
            {"rel": "self", "href": f"{base}/v2.0/"},
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v2.0+json"}],
    }


async def root(req):
    return reply({"versions": {"values": [_v3(req.base_url), _v2(req.base_url)]}}, status=300)


async def v3(req):
    return reply({"version": _v3(req.base_url)})


async def v2(req):
    return reply({"version": _v2(req.base_url)})
