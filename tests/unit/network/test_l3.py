"""Router interfaces, gateways, routes and floating IPs on real ports and IPAM: the checks
and answers Neutron gives."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from overcast.network import errors
from overcast.network.models import Port
from tests.unit.network.conftest import context

ALICE, BOB, ADMIN = context("alice"), context("bob"), context("admin", admin=True)


def network(l3, ctx=ALICE, external=False):
    return l3.networks.create(ctx, [{"name": "n", "project_id": ctx.project_id, "admin_state_up": True,
                                     "router:external": external}])[0]["id"]


def router(l3, ctx=ALICE, **values):
    return l3.routers.create(ctx, [{"name": "r", "project_id": ctx.project_id, "admin_state_up": True,
                                    "availability_zone_hints": [], "external_gateway_info": None, **values}])[0]


@pytest.fixture
def world(l3):
    public = network(l3, ADMIN, external=True)
    public_subnet = l3.make_subnet(public, "172.24.4.0/24", "admin")
    private = network(l3)
    subnet = l3.make_subnet(private, "10.0.0.0/24", "alice")
    return {"public": public, "public_subnet": public_subnet, "private": private, "subnet": subnet}


def port(l3, network_id, project="alice"):
    with l3.db.session() as session:
        return l3.ports.create_in(session, ALICE, {"network_id": network_id, "project_id": project}).id


def test_interface_by_subnet_takes_the_gateway_address(l3, world):
    r = router(l3)
    info = l3.routers.add_interface(ALICE, r["id"], {"subnet_id": world["subnet"]})
    assert info["subnet_id"] == world["subnet"] and info["subnet_ids"] == [world["subnet"]]
    assert info["id"] == r["id"] and info["network_id"] == world["private"] and info["project_id"] == "alice"
    with l3.db.session() as session:
        row = session.get(Port, info["port_id"])
        assert (row.device_owner, row.device_id) == ("network:router_interface", r["id"])
    with pytest.raises(errors.BadRouterRequest, match="already has a port"):
        l3.routers.add_interface(ALICE, r["id"], {"subnet_id": world["subnet"]})
    with pytest.raises(errors.RouterInUse):
        l3.routers.delete(ALICE, r["id"])
    removed = l3.routers.remove_interface(ALICE, r["id"], {"subnet_id": world["subnet"]})
    assert removed["port_id"] == info["port_id"]
    with pytest.raises(errors.RouterInterfaceNotFoundForSubnet):
        l3.routers.remove_interface(ALICE, r["id"], {"subnet_id": world["subnet"]})
    l3.routers.delete(ALICE, r["id"])


def test_interface_errors(l3, world):
    r = router(l3)
    other = network(l3)
    overlapping = l3.make_subnet(other, "10.0.0.0/25", "alice")
    no_gateway = l3.make_subnet(other, "10.9.0.0/24", "alice", gateway=None)
    l3.routers.add_interface(ALICE, r["id"], {"subnet_id": world["subnet"]})
    with pytest.raises(errors.BadRouterRequest, match="overlaps"):
        l3.routers.add_interface(ALICE, r["id"], {"subnet_id": overlapping})
    with pytest.raises(errors.BadRouterRequest, match="must have a gateway IP"):
        l3.routers.add_interface(ALICE, r["id"], {"subnet_id": no_gateway})
    with pytest.raises(errors.BadRouterRequest, match="Either"):
        l3.routers.add_interface(ALICE, r["id"], {})
    with pytest.raises(errors.BadRouterRequest, match="both"):
        l3.routers.add_interface(ALICE, r["id"], {"subnet_id": no_gateway, "port_id": "x"})
    with pytest.raises(errors.RouterNotFound):
        l3.routers.add_interface(BOB, r["id"], {"subnet_id": world["subnet"]})


def test_interface_by_port(l3, world):
    r, r2 = router(l3), router(l3)
    pid = port(l3, world["private"])
    info = l3.routers.add_interface(ALICE, r["id"], {"port_id": pid})
    assert info["port_id"] == pid and info["subnet_id"] == world["subnet"]
    with pytest.raises(errors.PortInUse):
        l3.routers.add_interface(ALICE, r2["id"], {"port_id": pid})
    with pytest.raises(errors.RouterInterfaceNotFound):
        l3.routers.remove_interface(ALICE, r2["id"], {"port_id": pid})
    l3.routers.remove_interface(ALICE, r["id"], {"port_id": pid})
    with l3.db.session() as session:
        assert session.get(Port, pid) is None  # Neutron deletes the port on removal


def test_gateway_set_clear_and_snat(l3, world):
    r = router(l3, external_gateway_info={"network_id": world["public"]})
    gateway = r["external_gateway_info"]
    assert gateway["enable_snat"] is True and gateway["external_fixed_ips"][0]["subnet_id"] == world["public_subnet"]
    updated = l3.routers.update(ALICE, r["id"], {"external_gateway_info": {"network_id": world["public"],
                                                                            "enable_snat": False}})
    assert updated["external_gateway_info"]["enable_snat"] is False
    assert updated["external_gateway_info"]["external_fixed_ips"] == gateway["external_fixed_ips"]
    fixed = l3.routers.update(ADMIN, r["id"], {"external_gateway_info": {
        "network_id": world["public"], "external_fixed_ips": [{"ip_address": "172.24.4.77",
                                                               "subnet_id": world["public_subnet"]}]}})
    assert fixed["external_gateway_info"]["external_fixed_ips"][0]["ip_address"] == "172.24.4.77"
    cleared = l3.routers.update(ALICE, r["id"], {"external_gateway_info": None})
    assert cleared["external_gateway_info"] is None
    with l3.db.session() as session:
        assert not session.scalars(select(Port).where(Port.device_id == r["id"])).all()
    l3.routers.update(ALICE, r["id"], {"external_gateway_info": {"network_id": world["public"]}})
    l3.routers.delete(ALICE, r["id"])
    with l3.db.session() as session:
        assert not session.scalars(select(Port).where(Port.device_id == r["id"])).all()


def test_routes_need_a_connected_nexthop(l3, world):
    r = router(l3)
    l3.routers.add_interface(ALICE, r["id"], {"subnet_id": world["subnet"]})
    with pytest.raises(errors.InvalidRoutes, match="used by router"):
        l3.routers.update(ALICE, r["id"], {"routes": [{"destination": "10.5.0.0/16", "nexthop": "10.0.0.1"}]})
    routes = [{"destination": "10.5.0.0/16", "nexthop": "10.0.0.9"}]
    assert l3.routers.update(ALICE, r["id"], {"routes": routes})["routes"] == routes
    more = l3.routers.change_routes(ALICE, r["id"], [{"destination": "10.6.0.0/16", "nexthop": "10.0.0.8"}], True)
    assert len(more["routes"]) == 2
    with pytest.raises(errors.RouterInterfaceInUseByRoute):
        l3.routers.remove_interface(ALICE, r["id"], {"subnet_id": world["subnet"]})
    assert l3.routers.change_routes(ALICE, r["id"], more["routes"], False)["routes"] == []


def fip(l3, world, ctx=ALICE, **values):
    return l3.floatingips.create(ctx, [{"floating_network_id": world["public"], "project_id": ctx.project_id,
                                        "description": "", "port_id": None, **values}])[0]


def test_floating_ip_lifecycle(l3, world):
    r = router(l3, external_gateway_info={"network_id": world["public"]})
    pid = port(l3, world["private"])
    with pytest.raises(errors.ExternalGatewayForFloatingIPNotFound):
        fip(l3, world, port_id=pid)
    l3.routers.add_interface(ALICE, r["id"], {"subnet_id": world["subnet"]})
    one = fip(l3, world)
    assert one["status"] == "DOWN" and one["router_id"] is None and one["floating_ip_address"].startswith("172.24.4.")
    bound = l3.floatingips.update(ALICE, one["id"], {"port_id": pid})
    assert bound["router_id"] == r["id"] and bound["status"] == "ACTIVE" and bound["fixed_ip_address"] == "10.0.0.2"
    with pytest.raises(errors.FloatingIPPortAlreadyAssociated):
        fip(l3, world, port_id=pid)
    with pytest.raises(errors.RouterInterfaceInUseByFloatingIP):
        l3.routers.remove_interface(ALICE, r["id"], {"subnet_id": world["subnet"]})
    with pytest.raises(errors.RouterExternalGatewayInUseByFloatingIp):
        l3.routers.update(ALICE, r["id"], {"external_gateway_info": None})
    with pytest.raises(errors.FloatingIPNotFound):
        l3.floatingips.get(BOB, one["id"])
    loose = l3.floatingips.update(ALICE, one["id"], {"port_id": None})
    assert loose["port_id"] is None and loose["router_id"] is None and loose["status"] == "DOWN"
    l3.floatingips.update(ALICE, one["id"], {"port_id": pid})
    with l3.db.session() as session:
        assert l3.floatingips.port_deleted_in(session, pid) == [r["id"]]
    assert l3.floatingips.get(ALICE, one["id"])["port_id"] is None
    l3.floatingips.delete(ALICE, one["id"])
    with l3.db.session() as session:
        assert session.get(Port, one["id"]) is None
        assert not session.scalars(select(Port).where(Port.device_id == one["id"])).all()


def test_floating_ip_address_and_quota(l3, world):
    chosen = fip(l3, world, ADMIN, floating_ip_address="172.24.4.50")
    assert chosen["floating_ip_address"] == "172.24.4.50"
    with pytest.raises(errors.IpAddressAlreadyAllocated):
        fip(l3, world, ADMIN, floating_ip_address="172.24.4.50")
    l3.quotas.update("alice", {"floatingip": 1})
    fip(l3, world)
    with pytest.raises(errors.OverQuota):
        fip(l3, world)


def test_external_network_deletion_frees_floating_ips(l3, world):
    one = fip(l3, world, ADMIN)
    r = router(l3, external_gateway_info={"network_id": world["public"]})
    with pytest.raises(errors.NetworkInUse):  # the router's gateway keeps it, and the floating IP with it
        l3.networks.delete(ADMIN, world["public"])
    assert l3.floatingips.get(ADMIN, one["id"])["floating_network_id"] == world["public"]
    l3.routers.delete(ALICE, r["id"])
    l3.networks.delete(ADMIN, world["public"])
    with pytest.raises(errors.FloatingIPNotFound):
        l3.floatingips.get(ADMIN, one["id"])


def test_port_forwardings(l3, world):
    r = router(l3, external_gateway_info={"network_id": world["public"]})
    pid = port(l3, world["private"])
    one = fip(l3, world)
    values = {"protocol": "tcp", "external_port": 2222, "internal_port": 22, "internal_ip_address": "10.0.0.2",
              "internal_port_id": pid, "description": ""}
    with pytest.raises(errors.ExternalGatewayForFloatingIPNotFound):
        l3.port_forwardings.create(ALICE, one["id"], values)
    l3.routers.add_interface(ALICE, r["id"], {"subnet_id": world["subnet"]})
    with pytest.raises(errors.PortForwardingConflict, match="not an address"):
        l3.port_forwardings.create(ALICE, one["id"], {**values, "internal_ip_address": "10.0.0.99"})
    made = l3.port_forwardings.create(ALICE, one["id"], values)
    assert l3.floatingips.get(ALICE, one["id"])["router_id"] == r["id"]
    with pytest.raises(errors.PortForwardingExists):
        l3.port_forwardings.create(ALICE, one["id"], {**values, "internal_port": 23})
    udp = l3.port_forwardings.create(ALICE, one["id"], {**values, "protocol": "udp"})
    with pytest.raises(errors.FipInUseByPortForwarding):
        l3.floatingips.update(ALICE, one["id"], {"port_id": pid})
    with pytest.raises(errors.FloatingIPNotFound):
        l3.port_forwardings.list(BOB, one["id"])
    changed = l3.port_forwardings.update(ALICE, one["id"], made["id"], {"external_port": 2200})
    assert changed["external_port"] == 2200 and changed["internal_port"] == 22
    assert sorted(p["protocol"] for p in l3.port_forwardings.list(ALICE, one["id"])) == ["tcp", "udp"]
    l3.port_forwardings.delete(ALICE, one["id"], udp["id"])
    with l3.db.session() as session:  # the internal port goes: its forwardings and the router link with it
        assert l3.floatingips.port_deleted_in(session, pid) == [r["id"]]
    after = l3.floatingips.get(ALICE, one["id"])
    assert after["router_id"] is None and after["status"] == "DOWN"
    assert l3.port_forwardings.list(ALICE, one["id"]) == []
