"""Ports through the service: the internal interface (minimal dicts, create_in/delete_in
in a caller's transaction, list_by_device, bind, set_status), security groups and port
security, address pairs, DHCP options, visibility, and what deleting leaves behind."""

from __future__ import annotations

import pytest

from overcast.network import errors
from overcast.network.models import IPAllocation, Port, PortSecurityGroup
from tests.unit.network.conftest import context

CTX = context("project-a")
OTHER = context("project-b")
ADMIN = context("admin-project", admin=True)


@pytest.fixture
def net(network):
    made = network.networks.create(CTX, [{"name": "net", "project_id": CTX.project_id}])[0]
    subnet = network.subnets.create(CTX, [{"network_id": made["id"], "ip_version": 4, "cidr": "10.0.0.0/24",
                                           "project_id": CTX.project_id}])[0]
    return {**made, "subnet": subnet}


def test_minimal_dict_gets_every_default(network, net):
    (port,) = network.ports.create(CTX, [{"network_id": net["id"]}])
    assert port["fixed_ips"] == [{"subnet_id": net["subnet"]["id"], "ip_address": "10.0.0.2"}]
    assert port["status"] == "DOWN" and port["admin_state_up"] is True and port["device_owner"] == ""
    assert port["binding:vif_type"] == "unbound" and port["binding:vnic_type"] == "normal"
    assert port["port_security_enabled"] is True and len(port["security_groups"]) == 1
    assert port["project_id"] == "project-a" and port["_policy"] == {"network:project_id": "project-a"}
    assert network.agents.sent[-1] == ("port_update", {"port_id": port["id"], "host": ""})


def test_network_owned_ports_get_no_default_group(network, net):
    (port,) = network.ports.create(ADMIN, [{"network_id": net["id"], "project_id": "project-a",
                                            "device_owner": "network:dhcp", "device_id": "dhcp-1",
                                            "fixed_ips": [{"subnet_id": net["subnet"]["id"]}]}])
    assert port["security_groups"] == [] and port["device_owner"] == "network:dhcp"
    assert [p["id"] for p in network.ports.list_by_device("dhcp-1")] == [port["id"]]


def test_create_in_and_delete_in_follow_the_callers_transaction(network, net):
    with pytest.raises(RuntimeError):
        with network.db.session() as session:
            row = network.ports.create_in(session, ADMIN, {"network_id": net["id"], "project_id": "project-a",
                                                           "device_owner": "network:router_interface",
                                                           "fixed_ips": [{"ip_address": "10.0.0.1"}]})
            assert network.ports.port_dict(session, row)["fixed_ips"][0]["ip_address"] == "10.0.0.1"
            raise RuntimeError("the caller fails later")
    with network.db.session() as session:
        assert session.query(Port).count() == 0 and session.query(IPAllocation).count() == 0
        row = network.ports.create_in(session, ADMIN, {"network_id": net["id"],
                                                       "device_owner": "network:router_gateway"})
        port_id = row.id
    with network.db.session() as session:
        gone = network.ports.delete_in(session, port_id)
        assert gone["id"] == port_id and network.ports.delete_in(session, "nope") is None
    with network.db.session() as session:
        assert session.query(Port).count() == 0 and session.query(IPAllocation).count() == 0


def test_bind_and_set_status(network, net):
    (port,) = network.ports.create(CTX, [{"network_id": net["id"]}])
    bound = network.ports.bind(port["id"], "host-1")
    assert bound["binding:host_id"] == "host-1" and bound["binding:vif_type"] == "bridge"
    assert bound["binding:vif_details"] == {"port_filter": True}
    network.ports.set_status(port["id"], "ACTIVE")
    assert network.ports.get(CTX, port["id"])["status"] == "ACTIVE"
    network.ports.set_status("gone", "ACTIVE")  # a port deleted meanwhile: nothing to do
    with pytest.raises(errors.InvalidInput):
        network.ports.set_status(port["id"], "HAPPY")
    unbound = network.ports.update(ADMIN, port["id"], {"binding:host_id": ""})
    assert unbound["binding:vif_type"] == "unbound" and unbound["binding:vif_details"] == {}


def test_port_security_rules(network, net):
    (port,) = network.ports.create(CTX, [{"network_id": net["id"]}])
    with pytest.raises(errors.PortSecurityAndIPRequiredForSecurityGroups):
        network.ports.create(CTX, [{"network_id": net["id"], "port_security_enabled": False,
                                    "security_groups": port["security_groups"]}])
    with pytest.raises(errors.PortSecurityPortHasSecurityGroup):
        network.ports.update(CTX, port["id"], {"port_security_enabled": False})
    with pytest.raises(errors.AddressPairAndPortSecurityRequired):
        network.ports.create(CTX, [{"network_id": net["id"], "port_security_enabled": False,
                                    "allowed_address_pairs": [{"ip_address": "10.0.0.200"}]}])
    off = network.ports.update(CTX, port["id"], {"port_security_enabled": False, "security_groups": []})
    assert off["port_security_enabled"] is False and off["security_groups"] == []
    (bare,) = network.ports.create(CTX, [{"network_id": net["id"], "port_security_enabled": False}])
    assert bare["security_groups"] == []
    with pytest.raises(errors.SecurityGroupNotFound):
        network.ports.update(CTX, port["id"], {"port_security_enabled": True, "security_groups": ["nope"]})


def test_address_pairs_and_dhcp_options_merge(network, net):
    (port,) = network.ports.create(CTX, [{"network_id": net["id"], "allowed_address_pairs": [
        {"ip_address": "10.0.0.0/28"}, {"ip_address": "10.0.0.99", "mac_address": "fa:16:3e:00:00:09"}],
        "extra_dhcp_opts": [{"opt_name": "mtu", "opt_value": "1400"}, {"opt_name": "ntp-server",
                                                                     "opt_value": "10.0.0.3"}]}])
    assert port["allowed_address_pairs"][0] == {"ip_address": "10.0.0.0/28", "mac_address": port["mac_address"]}
    with pytest.raises(errors.DuplicateAddressPairInRequest):
        network.ports.update(CTX, port["id"], {"allowed_address_pairs": [{"ip_address": "10.0.0.5"}] * 2})
    updated = network.ports.update(CTX, port["id"], {"extra_dhcp_opts": [
        {"opt_name": "mtu", "opt_value": "1300"}, {"opt_name": "ntp-server", "opt_value": None}]})
    assert updated["extra_dhcp_opts"] == [{"opt_name": "mtu", "opt_value": "1300", "ip_version": 4}]


def test_mac_addresses(network, net):
    (port,) = network.ports.create(CTX, [{"network_id": net["id"], "mac_address": "FA:16:3E:AA:BB:CC"}])
    assert port["mac_address"] == "fa:16:3e:aa:bb:cc"
    with pytest.raises(errors.MacAddressInUse):
        network.ports.create(CTX, [{"network_id": net["id"], "mac_address": "fa:16:3e:aa:bb:cc"}])
    with pytest.raises(errors.InvalidInput):
        network.ports.create(CTX, [{"network_id": net["id"], "mac_address": "01:00:5e:00:00:01"}])  # multicast


def test_visibility_and_service_ports(network, net):
    (port,) = network.ports.create(CTX, [{"network_id": net["id"]}])
    with pytest.raises(errors.PortNotFound):
        network.ports.get(OTHER, port["id"])
    with pytest.raises(errors.NetworkNotFound):
        network.ports.create(OTHER, [{"network_id": net["id"]}])
    assert network.ports.list(OTHER, {}) == [] and len(network.ports.list(ADMIN, {})) == 1
    from overcast.network.models import Router
    with network.db.session() as session:
        router = Router(project_id="project-a", name="r")
        session.add(router)
        session.flush()
        router_id = router.id
    (interface,) = network.ports.create(CTX, [{"network_id": net["id"], "device_owner": "network:router_interface",
                                               "device_id": router_id}])
    with pytest.raises(errors.ServicePortInUse):
        network.ports.delete(CTX, interface["id"])


def test_bulk_create_is_all_or_nothing(network, net):
    with pytest.raises(errors.IpAddressAlreadyAllocated):
        network.ports.create(CTX, [{"network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.0.7"}]},
                                   {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.0.7"}]}])
    with network.db.session() as session:
        assert session.query(Port).count() == 0 and session.query(PortSecurityGroup).count() == 0


def test_network_delete_takes_dhcp_ports_and_addresses(network, net):
    network.ports.create(ADMIN, [{"network_id": net["id"], "device_owner": "network:dhcp"}])
    (port,) = network.ports.create(CTX, [{"network_id": net["id"]}])
    with pytest.raises(errors.NetworkInUse):
        network.networks.delete(CTX, net["id"])
    network.ports.delete(CTX, port["id"])
    network.networks.delete(CTX, net["id"])
    with network.db.session() as session:
        assert session.query(Port).count() == 0 and session.query(IPAllocation).count() == 0


def test_list_narrows_by_fixed_ip_in_sql(network, net):
    first, second = network.ports.create(CTX, [{"network_id": net["id"]}, {"network_id": net["id"]}])
    address = second["fixed_ips"][0]["ip_address"]
    assert [p["id"] for p in network.ports.list(CTX, {"fixed_ips": [f"ip_address={address}"]})] == [second["id"]]
    by_subnet = network.ports.list(CTX, {"fixed_ips": [f"subnet_id={net['subnet']['id']}"]})
    assert {p["id"] for p in by_subnet} == {first["id"], second["id"]}
    assert len(network.ports.list(CTX, {"fixed_ips": ["ip_address_substr=10.0"]})) == 2  # left to the listing


def test_updating_fixed_ips_keeps_slaac_addresses(network, net):
    slaac = network.subnets.create(CTX, [{"network_id": net["id"], "ip_version": 6, "cidr": "2001:db8:7::/64",
                                          "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac",
                                          "project_id": CTX.project_id}])[0]
    (port,) = network.ports.create(CTX, [{"network_id": net["id"]}])
    assert {ip["subnet_id"] for ip in port["fixed_ips"]} == {net["subnet"]["id"], slaac["id"]}
    updated = network.ports.update(CTX, port["id"], {"fixed_ips": [{"ip_address": "10.0.0.50"}]})
    assert sorted(ip["ip_address"] for ip in updated["fixed_ips"]) == sorted(
        ["10.0.0.50", next(ip["ip_address"] for ip in port["fixed_ips"] if ip["subnet_id"] == slaac["id"])])


def test_deadlocked_work_is_done_again():
    from sqlalchemy.exc import OperationalError

    from overcast.network.service.retries import retrying

    class Deadlock(Exception):
        args = (1213, "Deadlock found when trying to get lock; try restarting transaction")

    calls = []

    def work():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("INSERT ...", {}, Deadlock())
        return "done"

    assert retrying(work) == "done" and len(calls) == 3
    with pytest.raises(OperationalError):
        retrying(lambda: (_ for _ in ()).throw(OperationalError("x", {}, ValueError("other"))))
