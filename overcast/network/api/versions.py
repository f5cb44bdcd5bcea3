"""Version discovery: ``/`` lists v2.0, ``/v2.0`` lists the resource collections."""

from __future__ import annotations

from overcast.common.api import reply

COLLECTIONS = [("network", "networks"), ("subnet", "subnets"), ("subnetpool", "subnetpools"), ("port", "ports")]


def versions(req):
    return reply({"versions": [{"id": "v2.0", "status": "CURRENT",
                                "links": [{"href": f"{req.base_url}/v2.0/", "rel": "self"}]}]})


def resources(req):
    return reply({"resources": [
        {"name": name, "collection": plural, "links": [{"href": f"{req.base_url}/v2.0/{plural}", "rel": "self"}]}
        for name, plural in COLLECTIONS]})
