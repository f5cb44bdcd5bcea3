import json

from overcast.common.api.faults import render
from overcast.common.errors import Conflict, NotFound


def test_each_style_envelope():
    identity = json.loads(render("identity", NotFound("gone")).body)
    assert identity == {"error": {"code": 404, "title": "Not Found", "message": "gone"}}
    compute = json.loads(render("compute", Conflict("busy")).body)
    assert compute == {"conflictingRequest": {"code": 409, "message": "busy"}}
    network = render("network", NotFound("no net"))
    assert json.loads(network.body)["NeutronError"]["type"] == "NotFound" and network.status_code == 404


def test_unexpected_errors_are_generic_500():
    response = render("identity", ValueError("secret detail"))
    body = json.loads(response.body)
    assert response.status_code == 500 and "secret detail" not in body["error"]["message"]
