"""The network agent over the fake driver, with an in-memory source of Neutron dicts
(the shape the network service returns) and a memory bus."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import pytest_asyncio

from overcast.common.bus import Bus, make_transport
from overcast.network.agent import BINARIES, NetworkAgent
from overcast.network.agent_specs import narrow
from overcast.network.drivers.fake import FakeNetworkDriver

HOST = "node1"


def new_id() -> str:
    return str(uuid.uuid4())


class Source:
    """What ServiceSource offers, from lists the test edits."""

    def __init__(self):
        self.nets, self.subs, self.prts, self.groups, self.rtrs, self.fips = [], [], [], [], [], []
        self.up: list[str] = []
        self.not_served: set[str] = set()
        self.peers: dict[str, str] = {}  # host -> its tunnel endpoint

    def tunnel_peers(self, host):
        return sorted(ip for other, ip in self.peers.items() if other != host)

    def networks(self, **filters):
        return narrow(self.nets, filters)

    def subnets(self, **filters):
        return narrow(self.subs, filters)

    def ports(self, **filters):
        return narrow(self.prts, filters)

    def port(self, port_id):
        return next(p for p in self.prts if p["id"] == port_id)

    def security_groups(self):
        return list(self.groups)

    def routers(self, **filters):
        return narrow(self.rtrs, filters)

    def floatingips(self, **filters):
        return narrow(self.fips, filters)

    def dhcp_choice(self, network_id, host):
        return network_id not in self.not_served

    def l3_choice(self, router_id, host):
        return router_id not in self.not_served

    def agent_sync(self, host):
        return {"networks": [n["id"] for n in self.nets if n["id"] not in self.not_served],
                "routers": [r["id"] for r in self.rtrs if r["id"] not in self.not_served]}

    def port_status(self, port_id, status):
        self.up.append((port_id, status))
        self.port(port_id)["status"] = status

    def bind_port(self, port_id, host):
        self.port(port_id)["binding:host_id"] = host

    def create_port(self, values):
        subnet = next(s for s in self.subs if s["id"] == values["fixed_ips"][0]["subnet_id"])
        ip = subnet["cidr"].replace("0/24", "2")
        return self.add_port(**{**values, "fixed_ips": fixed(subnet, ip)})

    def update_port(self, port_id, values):
        for ip in values.get("fixed_ips", []):
            if "ip_address" not in ip:
                cidr = next(s["cidr"] for s in self.subs if s["id"] == ip["subnet_id"])
                ip["ip_address"] = cidr.replace("0/24", "2")
        self.port(port_id).update(values)

    def delete_port(self, port_id):
        self.prts.remove(self.port(port_id))

    # builders
    def network(self, cidr="10.0.0.0/24", external=False, dhcp=True):
        net = {"id": new_id(), "project_id": "p1", "provider:network_type": "flat" if external else "vxlan",
               "provider:segmentation_id": None if external else 7, "provider:physical_network": None, "mtu": 1450}
        sub = {"id": new_id(), "network_id": net["id"], "cidr": cidr, "ip_version": 4,
               "gateway_ip": cidr.replace("0/24", "1"), "enable_dhcp": dhcp}
        self.nets.append(net)
        self.subs.append(sub)
        return net, sub

    def add_port(self, **values):
        port = {"id": new_id(), "mac_address": f"fa:16:3e:00:00:{len(self.prts) + 1:02x}", "device_owner": "",
                "device_id": "", "binding:host_id": HOST, "security_groups": [], "port_security_enabled": True,
                "allowed_address_pairs": [], **values}
        self.prts.append(port)
        return port


def fixed(sub, ip):
    return [{"subnet_id": sub["id"], "ip_address": ip}]


@pytest.fixture
def world():
    source = Source()
    driver = FakeNetworkDriver()
    agent = NetworkAgent(None, driver, HOST, source, metadata_upstream="http://127.0.0.1:8600")
    return source, driver, agent


def test_resync_plugs_local_ports_serves_dhcp_and_runs_routers(world):
    source, driver, agent = world
    net, sub = source.network()
    ext, ext_sub = source.network("172.24.4.0/24", external=True, dhcp=False)
    vm = source.add_port(network_id=net["id"], device_owner="compute:nova", fixed_ips=fixed(sub, "10.0.0.5"))
    source.add_port(network_id=net["id"], device_owner="compute:nova", fixed_ips=fixed(sub, "10.0.0.6"),
                **{"binding:host_id": "elsewhere"})
    source.add_port(network_id=net["id"], device_owner="network:dhcp", fixed_ips=fixed(sub, "10.0.0.2"),
                    device_id=f"dhcp-{HOST}-{net['id']}")
    router = {"id": new_id(), "admin_state_up": True, "routes": [], "external_gateway_info": {"enable_snat": True}}
    source.rtrs.append(router)
    source.add_port(network_id=net["id"], device_owner="network:router_interface", device_id=router["id"],
                fixed_ips=fixed(sub, "10.0.0.1"))
    source.add_port(network_id=ext["id"], device_owner="network:router_gateway", device_id=router["id"],
                fixed_ips=fixed(ext_sub, "172.24.4.10"))
    source.fips.append({"router_id": router["id"], "port_id": vm["id"], "fixed_ip_address": "10.0.0.5",
                        "floating_ip_address": "172.24.4.20"})
    from overcast.network.drivers import PortSpec, Segment
    driver.plug_port(PortSpec(id=new_id(), segment=Segment(new_id()), mac="fa:16:3e:ff:ff:ff"))  # left by a last run
    asyncio.run(agent.resync())
    assert driver.list_ports() == [vm["id"]]
    assert driver.list_dhcp() == [net["id"]]  # the external network has no DHCP subnet
    assert driver.dhcp[net["id"]]["hosts"]["fa:16:3e:00:00:02"] == ["10.0.0.6"]
    dhcp_port = next(p for p in source.prts if p["device_owner"] == "network:dhcp")
    assert dhcp_port["status"] == "ACTIVE" and vm["status"] == "ACTIVE"
    assert {p["status"] for p in source.prts if p["device_id"] == router["id"]} == {"ACTIVE"}
    assert driver.list_routers() == [router["id"]]
    assert driver.nat(router["id"]) == {"172.24.4.20": "10.0.0.5"}
    assert driver.routers[router["id"]].gateway_ip == "172.24.4.1"
    assert driver.list_metadata() == [net["id"]]


def test_security_group_rules_reach_the_port_filter_with_remote_groups_resolved(world):
    source, driver, agent = world
    net, sub = source.network()
    web, ssh = new_id(), new_id()
    source.groups += [
        {"id": web, "stateful": True, "security_group_rules": [
            {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 80,
             "port_range_max": 80, "remote_ip_prefix": None, "remote_group_id": None},
            {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22,
             "port_range_max": 22, "remote_ip_prefix": None, "remote_group_id": ssh}]},
        {"id": ssh, "stateful": True, "security_group_rules": []}]
    server = source.add_port(network_id=net["id"], device_owner="compute:nova", fixed_ips=fixed(sub, "10.0.0.5"),
                         security_groups=[web])
    asyncio.run(agent.resync())
    assert driver.allows(server["id"], "ingress", "192.0.2.9", "tcp", 80)
    assert not driver.allows(server["id"], "ingress", "10.0.0.7", "tcp", 22)  # nobody in 'ssh' yet
    source.add_port(network_id=net["id"], device_owner="compute:nova", fixed_ips=fixed(sub, "10.0.0.7"),
                security_groups=[ssh], **{"binding:host_id": "elsewhere"})
    asyncio.run(agent.on_security_groups_update({"security_group_ids": [ssh]}))
    assert driver.allows(server["id"], "ingress", "10.0.0.7", "tcp", 22)
    assert not driver.allows(server["id"], "ingress", "10.0.0.8", "tcp", 22)


def test_port_moved_to_another_host_is_unplugged_and_dhcp_follows(world):
    source, driver, agent = world
    net, sub = source.network()
    source.add_port(network_id=net["id"], device_owner="network:dhcp", fixed_ips=fixed(sub, "10.0.0.2"),
                    device_id=f"dhcp-{HOST}-{net['id']}")
    vm = source.add_port(network_id=net["id"], device_owner="compute:nova", fixed_ips=fixed(sub, "10.0.0.5"))
    asyncio.run(agent.resync())
    vm["binding:host_id"] = "elsewhere"
    vm["fixed_ips"] = fixed(sub, "10.0.0.9")
    asyncio.run(agent.on_port_update({"port_id": vm["id"], "host": "elsewhere"}))
    assert driver.list_ports() == []
    assert driver.dhcp[net["id"]]["hosts"][vm["mac_address"]] == ["10.0.0.9"]
    source.prts.remove(vm)
    asyncio.run(agent.on_port_delete({"port_id": vm["id"], "network_id": net["id"]}))
    assert vm["mac_address"] not in driver.dhcp[net["id"]]["hosts"]


def test_router_down_keeps_its_legs_and_deleted_is_removed(world):
    source, driver, agent = world
    net, sub = source.network()
    router = {"id": new_id(), "admin_state_up": True, "routes": [], "external_gateway_info": None}
    source.rtrs.append(router)
    source.add_port(network_id=net["id"], device_owner="network:router_interface", device_id=router["id"],
                fixed_ips=fixed(sub, "10.0.0.1"))
    asyncio.run(agent.on_router_update({"router_id": router["id"]}))
    assert driver.list_routers() == [router["id"]]
    assert driver.forwards(router["id"])
    router["admin_state_up"] = False
    asyncio.run(agent.on_router_update({"router_id": router["id"]}))
    assert driver.list_routers() == [router["id"]] and not driver.forwards(router["id"])
    assert {p["status"] for p in source.prts if p["device_id"] == router["id"]} == {"ACTIVE"}
    source.rtrs.clear()
    asyncio.run(agent.on_router_delete({"router_id": router["id"]}))
    assert driver.list_routers() == [] and driver.bridges == {}


def test_dhcp_port_made_moved_to_new_subnets_and_dropped(world):
    source, driver, agent = world
    net, sub = source.network()
    asyncio.run(agent.on_network_update({"network_id": net["id"]}))
    (port,) = [p for p in source.prts if p["device_owner"] == "network:dhcp"]
    assert port["fixed_ips"] == fixed(sub, "10.0.0.2") and port["binding:host_id"] == HOST
    assert driver.dhcp[net["id"]]["server"] == ["10.0.0.2"] and port["status"] == "ACTIVE"
    second = {"id": new_id(), "network_id": net["id"], "cidr": "10.1.0.0/24", "ip_version": 4,
              "gateway_ip": "10.1.0.1", "enable_dhcp": True}
    source.subs.append(second)
    asyncio.run(agent.on_network_update({"network_id": net["id"]}))
    assert [ip["subnet_id"] for ip in port["fixed_ips"]] == [sub["id"], second["id"]]
    asyncio.run(agent.on_network_update({"network_id": net["id"]}))  # nothing more to ask
    for subnet in source.subs:
        subnet["enable_dhcp"] = False
    asyncio.run(agent.on_network_update({"network_id": net["id"]}))
    assert not [p for p in source.prts if p["device_owner"] == "network:dhcp"] and driver.list_dhcp() == []


def test_network_deleted_stops_dhcp_and_metadata(world):
    source, driver, agent = world
    net, sub = source.network()
    source.add_port(network_id=net["id"], device_owner="network:dhcp", fixed_ips=fixed(sub, "10.0.0.2"),
                    device_id=f"dhcp-{HOST}-{net['id']}")
    asyncio.run(agent.resync())
    assert driver.list_dhcp() == [net["id"]]
    source.nets.clear()
    asyncio.run(agent.on_network_delete({"network_id": net["id"]}))
    assert driver.list_dhcp() == [] and driver.list_metadata() == []


def test_network_removed_from_this_dhcp_agent_is_not_served(world):
    source, driver, agent = world
    net, sub = source.network()
    asyncio.run(agent.on_network_update({"network_id": net["id"]}))
    assert driver.list_dhcp() == [net["id"]]
    source.not_served.add(net["id"])
    asyncio.run(agent.on_network_update({"network_id": net["id"]}))
    assert driver.list_dhcp() == [] and not [p for p in source.prts if p["device_owner"] == "network:dhcp"]
    source.not_served.clear()
    asyncio.run(agent.on_network_update({"network_id": net["id"]}))
    assert driver.list_dhcp() == [net["id"]]


def test_a_router_scheduled_elsewhere_is_dropped_and_not_resynced(world):
    source, driver, agent = world
    net, sub = source.network()
    router = {"id": new_id(), "admin_state_up": True, "routes": [], "external_gateway_info": None}
    source.rtrs.append(router)
    source.add_port(network_id=net["id"], device_owner="network:router_interface", device_id=router["id"],
                    fixed_ips=fixed(sub, "10.0.0.1"))
    asyncio.run(agent.on_router_update({"router_id": router["id"]}))
    assert driver.list_routers() == [router["id"]]
    source.not_served.update({router["id"], net["id"]})  # both scheduled to another host's agents
    asyncio.run(agent.on_router_update({"router_id": router["id"]}))
    assert driver.list_routers() == []
    asyncio.run(agent.resync())
    assert driver.list_routers() == [] and driver.list_dhcp() == [] and driver.list_metadata() == []
    source.not_served.clear()  # moved back here: the re-sync takes both again
    asyncio.run(agent.resync())
    assert driver.list_routers() == [router["id"]] and driver.list_dhcp() == [net["id"]]


def test_each_host_keeps_its_own_dhcp_port(world):
    source, driver, agent = world
    net, sub = source.network()
    other = source.add_port(network_id=net["id"], device_owner="network:dhcp", fixed_ips=fixed(sub, "10.0.0.3"),
                            device_id=f"dhcp-node2-{net['id']}", **{"binding:host_id": "node2"})
    asyncio.run(agent.on_network_update({"network_id": net["id"]}))
    mine = [p for p in source.prts if p["device_owner"] == "network:dhcp" and p["id"] != other["id"]]
    assert len(mine) == 1 and mine[0]["binding:host_id"] == HOST and other["binding:host_id"] == "node2"
    assert driver.dhcp[net["id"]]["server"] == ["10.0.0.2"]


@pytest_asyncio.fixture
async def bus():
    bus = Bus(make_transport(f"memory://agent-{uuid.uuid4().hex[:8]}"), HOST, stop_timeout=0.2)
    await bus.start()
    yield bus
    await bus.stop()


async def test_plug_port_call_over_the_bus_returns_the_vif_and_heartbeats_go_out(bus):
    source, driver = Source(), FakeNetworkDriver()
    net, sub = source.network()
    vm = source.add_port(network_id=net["id"], device_owner="compute:nova", fixed_ips=fixed(sub, "10.0.0.5"),
                     **{"binding:host_id": ""})
    beats: list[str] = []

    async def on_beat(payload):
        beats.append(payload["binary"])

    await bus.serve("heartbeat", {"heartbeat": on_beat})
    agent = NetworkAgent(bus, driver, HOST, source)
    await agent.start()
    try:
        vif = await bus.call(f"network.{HOST}", "plug_port", {"port_id": vm["id"]}, timeout=5)
        assert vif["id"] == vm["id"] and vif["mac"] == vm["mac_address"] and vif["mtu"] == 1450
        assert vif["devname"].startswith("tap") and vif["bridge"].startswith("brq")
        assert (vm["id"], "ACTIVE") in source.up and vm["id"] in driver.filters
        await bus.call(f"network.{HOST}", "unplug_port", {"port_id": vm["id"]}, timeout=5)
        assert driver.list_ports() == [] and vm["status"] == "DOWN"
        await bus.fanout("network", "network_update", {"network_id": net["id"]})
        deadline = time.monotonic() + 2
        while set(beats) != set(BINARIES) or "sync_dhcp" not in driver.calls[-3:]:
            assert time.monotonic() < deadline, (beats, driver.calls)
            await asyncio.sleep(0.01)
    finally:
        await agent.stop()


def test_an_event_sets_only_the_filters_that_changed(world):
    """A rule of one group, or one port's event, rewrites the filters of the ports it
    changes, not of every port on the host (50 ports took 2-3 s per port event)."""
    source, driver, agent = world
    net, sub = source.network()
    web, other = new_id(), new_id()
    source.groups += [{"id": web, "stateful": True, "security_group_rules": []},
                      {"id": other, "stateful": True, "security_group_rules": []}]
    webs = [source.add_port(network_id=net["id"], device_owner="compute:nova", security_groups=[web],
                            fixed_ips=fixed(sub, f"10.0.0.{10 + n}")) for n in range(3)]
    lone = source.add_port(network_id=net["id"], device_owner="compute:nova", security_groups=[other],
                           fixed_ips=fixed(sub, "10.0.0.20"))
    asyncio.run(agent.resync())
    assert driver.calls.count("set_port_filter") == 4
    driver.calls.clear()
    source.groups[0]["security_group_rules"].append(
        {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80,
         "remote_ip_prefix": None, "remote_group_id": None})
    asyncio.run(agent.on_security_groups_update({"security_group_ids": [web]}))
    assert driver.calls.count("set_port_filter") == 3
    assert all(driver.allows(port["id"], "ingress", "192.0.2.9", "tcp", 80) for port in webs)
    assert not driver.allows(lone["id"], "ingress", "192.0.2.9", "tcp", 80)
    driver.calls.clear()
    asyncio.run(agent.on_port_update({"port_id": lone["id"]}))  # nothing of any filter changed
    assert driver.calls.count("set_port_filter") == 1  # the port itself, plugged again, gets its filter again
    driver.calls.clear()
    source.prts.remove(webs[0])
    asyncio.run(agent.on_port_delete({"port_id": webs[0]["id"], "network_id": net["id"]}))
    assert driver.list_ports() == sorted(p["id"] for p in [*webs[1:], lone])
    assert driver.calls.count("set_port_filter") == 0
    driver.filters.pop(lone["id"])  # lost on the host: a restart's re-sync sets every filter again
    asyncio.run(agent.resync())
    assert lone["id"] in driver.filters


async def test_a_tunnel_endpoint_is_reported_and_the_peers_followed(bus, monkeypatch):
    from overcast.network import agent as agent_module

    monkeypatch.setattr(agent_module, "PEERS_INTERVAL", 0.02)
    source, driver = Source(), FakeNetworkDriver(local_ip="192.0.2.1")
    source.peers = {HOST: "192.0.2.1", "node2": "192.0.2.2"}
    beats: dict[str, dict] = {}

    async def on_beat(payload):
        beats[payload["binary"]] = payload

    await bus.serve("heartbeat", {"heartbeat": on_beat})
    agent = NetworkAgent(bus, driver, HOST, source, ports_only=True)  # a compute host's agent too
    await agent.start()
    try:
        assert driver.tunnel_peers() == ["192.0.2.2"]  # before anything is plugged
        source.peers["node3"] = "192.0.2.3"
        deadline = time.monotonic() + 2
        while driver.tunnel_peers() != ["192.0.2.2", "192.0.2.3"] or "neutron-linuxbridge-agent" not in beats:
            assert time.monotonic() < deadline, driver.tunnel_peers()
            await asyncio.sleep(0.01)
        assert beats["neutron-linuxbridge-agent"]["configurations"] == {"tunneling_ip": "192.0.2.1",
                                                                        "tunnel_types": ["vxlan"]}
        await asyncio.sleep(0.1)  # several rounds, nothing changed: the driver is not asked again
        assert driver.calls.count("set_tunnel_peers") == 2
    finally:
        await agent.stop()



def test_an_l2_agent_plugs_and_filters_its_ports_and_nothing_else():
    """``network.l2_only`` (a compute host's agent): ports and their filters, followed
    through the fanout; DHCP, routers and metadata stay with the other hosts."""
    source, driver = Source(), FakeNetworkDriver()
    agent = NetworkAgent(None, driver, HOST, source, metadata_upstream="http://127.0.0.1:8600", ports_only=True,
                         follow_events=True)
    net, sub = source.network()
    vm = source.add_port(network_id=net["id"], device_owner="compute:nova", fixed_ips=fixed(sub, "10.0.0.5"))
    router = {"id": new_id(), "admin_state_up": True, "routes": [], "external_gateway_info": {}}
    source.rtrs.append(router)
    source.add_port(network_id=net["id"], device_owner="network:router_interface", device_id=router["id"],
                    fixed_ips=fixed(sub, "10.0.0.1"))
    asyncio.run(agent.resync())
    assert driver.list_ports() == [vm["id"]] and vm["id"] in driver.filters
    assert driver.list_dhcp() == [] and driver.list_routers() == [] and driver.list_metadata() == []
    assert not [p for p in source.prts if p["device_owner"] == "network:dhcp"]  # no DHCP port asked for
    source.groups.append({"id": "g", "security_group_rules": [
        {"direction": "ingress", "ethertype": "IPv4", "protocol": "icmp", "port_range_min": None,
         "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": None}]})
    vm["security_groups"] = ["g"]
    asyncio.run(agent.on_port_update({"port_id": vm["id"]}))
    asyncio.run(agent.on_router_update({"router_id": router["id"]}))
    assert [rule.protocol for rule in driver.filters[vm["id"]].rules] == ["icmp"]
    assert driver.list_dhcp() == [] and driver.list_routers() == []


def test_a_port_event_reads_that_port_only_and_dhcp_follows_it(world):
    source, driver, agent = world
    net, sub = source.network()
    for last in range(10, 60):
        source.add_port(network_id=net["id"], device_owner="compute:nova", fixed_ips=fixed(sub, f"10.0.0.{last}"),
                        **{"binding:host_id": "elsewhere"})
    asyncio.run(agent.resync())
    reads = []
    listing = source.ports
    source.ports = lambda **filters: reads.append(sorted(filters)) or [dict(p) for p in listing(**filters)]
    new = source.add_port(network_id=net["id"], device_owner="compute:nova", fixed_ips=fixed(sub, "10.0.0.99"),
                          security_groups=[], **{"binding:host_id": "elsewhere"})
    asyncio.run(agent.on_port_update({"port_id": new["id"], "host": "elsewhere"}))
    assert driver.dhcp[net["id"]]["hosts"][new["mac_address"]] == ["10.0.0.99"]
    assert len(driver.dhcp[net["id"]]["hosts"]) == 51
    new["fixed_ips"] = fixed(sub, "10.0.0.98")  # the service's row changed; the agent's copy did not
    asyncio.run(agent.on_port_update({"port_id": new["id"], "host": "elsewhere"}))
    assert driver.dhcp[net["id"]]["hosts"][new["mac_address"]] == ["10.0.0.98"]
    source.prts.remove(new)
    asyncio.run(agent.on_port_delete({"port_id": new["id"], "network_id": net["id"]}))
    assert new["mac_address"] not in driver.dhcp[net["id"]]["hosts"]
    assert reads == [["id"], ["id"], ["id"]]  # never the network's 50 other ports, nor the cloud's
    asyncio.run(agent.on_network_update({"network_id": net["id"]}))  # a network event reads it whole
    assert reads[-1] == ["network_id"] and len(driver.dhcp[net["id"]]["hosts"]) == 50


def test_port_events_waiting_together_are_read_at_once_and_each_network_synced_once(world):
    source, driver, agent = world
    net, sub = source.network()
    other, other_sub = source.network(cidr="10.1.0.0/24")
    asyncio.run(agent.resync())
    reads, syncs = [], []
    listing, sync = source.ports, driver.sync_dhcp
    source.ports = lambda **filters: reads.append(sorted(filters.get("id", []))) or listing(**filters)
    driver.sync_dhcp = lambda spec: syncs.append(spec.segment.network_id) or sync(spec)
    new = [source.add_port(network_id=n["id"], device_owner="compute:nova", fixed_ips=fixed(s, f"10.{i}.0.{20 + k}"),
                           **{"binding:host_id": "elsewhere"})
           for k, (i, n, s) in enumerate([(0, net, sub), (0, net, sub), (0, net, sub), (1, other, other_sub)])]

    async def burst():  # as the bus delivers them: concurrently (up to its prefetch)
        await asyncio.gather(*(agent.on_port_update({"port_id": port["id"]}) for port in new))

    asyncio.run(burst())
    # the first is handled alone; the three that came while the agent worked on it, together
    assert reads == [[new[0]["id"]], sorted(port["id"] for port in new[1:])]
    assert syncs[0] == net["id"] and sorted(syncs[1:]) == sorted([net["id"], other["id"]])
    assert sorted(driver.dhcp[net["id"]]["hosts"]) == sorted(port["mac_address"] for port in new[:3])
    assert list(driver.dhcp[other["id"]]["hosts"]) == [new[3]["mac_address"]]
