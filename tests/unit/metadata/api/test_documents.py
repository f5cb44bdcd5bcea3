"""The metadata route over HTTP: no token, the proxy's headers decide (403, 404, 200)."""

from __future__ import annotations

import httpx
import pytest

from overcast.common.api.app import build_app
from overcast.metadata import SPEC
from overcast.metadata.signature import FORWARDED_FOR, NETWORK_ID, SIGNATURE, sign
from tests.unit.metadata.conftest import SECRET


@pytest.fixture
def client(world):
    app = build_app([(SPEC.prefix, SPEC.routes(), SPEC.fault_style, None)],
                    {"metadata": world.metadata, "authenticator": None, "enforcer": None})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://metadata")


def headers(network_id: str, address: str, secret: str = SECRET) -> dict:
    return {FORWARDED_FOR: address, NETWORK_ID: network_id, SIGNATURE: sign(secret, network_id, address)}


async def test_signed_request_is_served_as_text(client, world):
    uuid_, address = world.boot("vm")
    reply = await client.get("/metadata/latest/meta-data/instance-id", headers=headers(world.net["id"], address))
    assert reply.status_code == 200 and reply.text == f"i-{uuid_.replace('-', '')[:8]}"
    assert reply.headers["content-type"].startswith("text/plain")
    reply = await client.get("/metadata/openstack/latest/meta_data.json", headers=headers(world.net["id"], address))
    assert reply.status_code == 200 and reply.json()["uuid"] == uuid_
    assert (await client.get("/metadata/", headers=headers(world.net["id"], address))).text.endswith("\nlatest")


async def test_unsigned_forged_and_unknown(client, world):
    _, address = world.boot("vm")
    net = world.net["id"]
    assert (await client.get("/metadata/latest/meta-data/")).status_code == 403
    forged = {**headers(net, address), FORWARDED_FOR: "10.0.0.77"}  # another guest's address, same signature
    assert (await client.get("/metadata/latest/meta-data/", headers=forged)).status_code == 403
    assert (await client.get("/metadata/latest/meta-data/", headers=headers(net, address, "wrong"))).status_code == 403
    assert (await client.get("/metadata/latest/meta-data/", headers=headers(net, "10.0.0.200"))).status_code == 404
    assert (await client.get("/metadata/latest/nothing", headers=headers(net, address))).status_code == 404
    assert (await client.post("/metadata/openstack/latest/password", content=b"x")).status_code == 403


async def test_a_guest_posts_its_password_once(client, world):
    _, address = world.boot("vm")
    signed = headers(world.net["id"], address)
    assert (await client.get("/metadata/openstack/latest/password", headers=signed)).text == ""
    assert (await client.post("/metadata/openstack/latest/password", headers=signed, content=b"c2VjcmV0")).status_code == 200
    assert (await client.get("/metadata/openstack/latest/password", headers=signed)).text == "c2VjcmV0"
    assert (await client.post("/metadata/openstack/latest/password", headers=signed, content=b"again")).status_code == 409
