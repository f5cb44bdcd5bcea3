"""The metadata service: who it trusts (signed requests only), whom it serves (the
instance whose port holds the address on that network, never another), and what
(the config drive's documents, with the port's real addresses)."""

from __future__ import annotations

import json

import pytest

from overcast.common.errors import BadRequest, Conflict
from overcast.metadata.documents import ec2_id
from overcast.metadata.errors import InstanceNotFound, MetadataForbidden, MetadataNotFound
from overcast.metadata.signature import sign
from tests.unit.metadata.conftest import SECRET


def get(world, path: str, network_id: str, address: str, secret: str = SECRET) -> bytes:
    return world.metadata.lookup(path, network_id, address, sign(secret, network_id, address))[0]


def test_unsigned_or_badly_signed_requests_are_forbidden(world):
    _, address = world.boot("vm")
    net = world.net["id"]
    with pytest.raises(MetadataForbidden) as raised:
        world.metadata.lookup("latest/meta-data/", net, address, "")
    assert raised.value.status == 403
    with pytest.raises(MetadataForbidden):
        get(world, "latest/meta-data/", net, address, secret="not-the-secret")
    with pytest.raises(MetadataForbidden):  # a signature for another address does not carry over
        world.metadata.lookup("latest/meta-data/", net, address, sign(SECRET, net, "10.0.0.99"))
    assert get(world, "latest/meta-data/instance-id", net, address)  # the same request, signed: served


def test_each_instance_reads_its_own_documents_only(world):
    first, first_ip = world.boot("first", user_data=b"#!/bin/sh\necho first\n", key="ssh-ed25519 AAAA first")
    second, second_ip = world.boot("second")
    net = world.net["id"]
    assert get(world, "latest/meta-data/instance-id", net, first_ip) == ec2_id(first).encode()
    assert get(world, "latest/meta-data/instance-id", net, second_ip) == ec2_id(second).encode()
    assert json.loads(get(world, "openstack/latest/meta_data.json", net, second_ip))["uuid"] == second
    assert get(world, "openstack/latest/user_data", net, first_ip) == b"#!/bin/sh\necho first\n"
    with pytest.raises(MetadataNotFound):  # the second has no user data: 404, not the first's
        get(world, "openstack/latest/user_data", net, second_ip)
    with pytest.raises(MetadataNotFound):
        get(world, "latest/meta-data/public-keys/0/openssh-key", net, second_ip)
    assert get(world, "latest/meta-data/public-keys/0/openssh-key", net, first_ip) == b"ssh-ed25519 AAAA first"


def test_addresses_that_are_no_instances_port_are_not_found(world):
    net = world.net["id"]
    _, address = world.boot("vm")
    _, router_ip = world.boot("not-a-server", owner="network:router_interface")
    for network_id, ip in ((net, "10.0.0.250"), ("another-network", address), (net, router_ip), (net, "bogus")):
        with pytest.raises(InstanceNotFound) as raised:
            get(world, "latest/meta-data/", network_id, ip)
        assert raised.value.status == 404


def test_a_deleted_instance_is_not_found(world):
    from overcast.compute.models import Instance

    uuid_, address = world.boot("vm")
    with world.db.session() as session:
        session.get(Instance, uuid_).deleted = True
    with pytest.raises(InstanceNotFound):
        get(world, "latest/meta-data/instance-id", world.net["id"], address)


def test_ec2_tree_has_the_real_addresses_and_the_listings(world):
    uuid_, address = world.boot("vm", key="ssh-rsa AAAA key")
    net = world.net["id"]
    assert get(world, "latest/meta-data/local-ipv4", net, address) == address.encode()
    assert get(world, "latest/meta-data/public-ipv4", net, address) == b""  # no floating IP
    listing = get(world, "latest/meta-data/", net, address).decode().split("\n")
    for entry in ("instance-id", "hostname", "local-hostname", "local-ipv4", "public-ipv4", "placement/",
                  "public-keys/"):
        assert entry in listing
    assert get(world, "latest/meta-data/public-keys/", net, address) == b"0=default"
    assert get(world, "latest/meta-data/public-keys/0/", net, address) == b"openssh-key"
    assert get(world, "latest/meta-data/placement/availability-zone", net, address) == b"zone-a"
    assert get(world, "latest/meta-data/hostname", net, address) == b"vm-host"
    assert get(world, "latest/meta-data/local-hostname", net, address) == b"vm-host"
    meta = json.loads(get(world, "openstack/latest/meta_data.json", net, address))
    assert (meta["name"], meta["hostname"], meta["project_id"], meta["availability_zone"]) == \
        ("vm", "vm-host", "p1", "zone-a")
    assert meta["uuid"] == uuid_


def test_documents_are_the_config_drives(world):
    """The service serves exactly what the config drive holds for the same server."""
    from overcast.compute.agent import instance_spec
    from overcast.metadata.documents import documents

    from overcast.metadata.service import READER

    uuid_, address = world.boot("vm", user_data=b"data", key="ssh-rsa AAAA key")
    served = world.metadata.instance_documents(world.net["id"], address)
    row = world.compute.servers.show(READER, uuid_)
    row.net_vifs = world.compute.network_api.vifs(uuid_)
    assert served == documents(instance_spec(world.compute.spec_payload(row)))
    network_data = json.loads(served["openstack/latest/network_data.json"])
    assert network_data["networks"][0]["network_id"] == world.net["id"]
    assert network_data["links"][0]["vif_id"] == world.network.ports.list_by_device(uuid_)[0]["id"]


def test_password_is_posted_once_and_shown_to_compute(world):
    from overcast.metadata.service import READER

    uuid_, address = world.boot("vm")
    net = world.net["id"]
    signed = sign(SECRET, net, address)
    assert "password" in get(world, "openstack/latest", net, address).decode().split("\n")
    assert get(world, "openstack/latest/password", net, address) == b""
    with pytest.raises(MetadataForbidden):
        world.metadata.save_password("openstack/latest/password", net, address, "forged", b"pw")
    with pytest.raises(BadRequest):
        world.metadata.save_password("openstack/latest/password", net, address, signed, b"x" * 257)
    with pytest.raises(MetadataNotFound):  # before 2013-04-04 there was no password, and only it is posted
        world.metadata.save_password("openstack/2012-08-10/password", net, address, signed, b"pw")
    with pytest.raises(MetadataNotFound):
        world.metadata.save_password("openstack/latest/meta_data.json", net, address, signed, b"pw")
    world.metadata.save_password("openstack/2013-04-04/password", net, address, signed, b"encrypted")
    assert get(world, "openstack/latest/password", net, address) == b"encrypted"
    assert world.compute.servers.show(READER, uuid_).system_metadata["password"] == "encrypted"
    with pytest.raises(Conflict):
        world.metadata.save_password("openstack/latest/password", net, address, signed, b"other")
