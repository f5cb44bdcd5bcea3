"""One behaviour suite for every NetworkDriver: the fake now, Linux bridge later (issue 9).

``NetworkDriverContract`` holds the behaviours, observed through the contract's own
methods (``vif``, ``list_*``); each implementation subclasses it with a ``driver``
fixture (``init_host`` called, everything removed afterwards). Optional behaviours skip
when the capability flag is False. Fake-only checks (what a filter lets through, the NAT
table, failure knobs) are at the bottom.
"""

from __future__ import annotations

import uuid

import pytest

from overcast.common.errors import OvercastError
from overcast.network.drivers import (Capabilities, DhcpHost, DhcpSpec, FilterRule, FloatingSpec, NetworkDriver,
                                      PortFilter, PortSpec, RouterLeg, RouterSpec, Segment, SubnetSpec,
                                      UnknownNetworkDriver, make_driver, resolve_driver)
from overcast.network.drivers.errors import (DriverCapabilityError, NetworkDriverError, PlugFailed, PortNotPlugged,
                                             UnsupportedNetworkType)
from overcast.network.drivers.fake import FakeNetworkDriver


def new_id() -> str:
    return str(uuid.uuid4())


def segment(network_id: str | None = None, kind: str = "vxlan", mtu: int = 1450) -> Segment:
    return Segment(network_id=network_id or new_id(), network_type=kind,
                   segmentation_id=100 if kind == "vxlan" else None,
                   physical_network="public" if kind == "flat" else None, mtu=mtu)


def port(seg: Segment, mac: str = "fa:16:3e:00:00:01", ip: str = "10.0.0.5", owner: str = "compute:nova",
         port_id: str | None = None) -> PortSpec:
    return PortSpec(id=port_id or new_id(), segment=seg, mac=mac, fixed_ips=[{"subnet_id": "s1", "ip_address": ip}],
                    device_owner=owner)


def leg(seg: Segment, ip: str, cidr: str, mac: str = "fa:16:3e:00:01:01") -> RouterLeg:
    return RouterLeg(port_id=new_id(), mac=mac, segment=seg, subnet_id=new_id(), ip_address=ip, cidr=cidr)


class NetworkDriverContract:
    @pytest.fixture
    def driver(self) -> NetworkDriver:  # pragma: no cover - each implementation gives its own
        raise NotImplementedError

    # -- ports ------------------------------------------------------------------

    def test_plug_returns_the_compute_contract_vif(self, driver):
        seg = segment(mtu=1400)
        spec = port(seg)
        vif = driver.plug_port(spec)
        assert vif["id"] == spec.id and vif["mac"] == spec.mac and vif["mtu"] == 1400
        assert vif["devname"] and len(vif["devname"]) <= 15
        assert vif["bridge"] and len(vif["bridge"]) <= 15
        assert driver.list_ports() == [spec.id]
        assert driver.vif(spec.id) == vif

    def test_plug_twice_is_idempotent_and_updates_the_mac(self, driver):
        seg = segment()
        spec = port(seg)
        first = driver.plug_port(spec)
        again = driver.plug_port(PortSpec(**{**spec.__dict__, "mac": "fa:16:3e:00:00:99"}))
        assert again["devname"] == first["devname"] and again["mac"] == "fa:16:3e:00:00:99"
        assert driver.list_ports() == [spec.id]

    def test_ports_of_one_network_share_a_bridge_and_others_do_not(self, driver):
        seg, other = segment(), segment()
        a = driver.plug_port(port(seg, mac="fa:16:3e:00:00:01"))
        b = driver.plug_port(port(seg, mac="fa:16:3e:00:00:02"))
        c = driver.plug_port(port(other, mac="fa:16:3e:00:00:01"))
        assert a["bridge"] == b["bridge"] != c["bridge"]
        assert len({a["devname"], b["devname"], c["devname"]}) == 3

    def test_flat_and_local_networks_plug(self, driver):
        for kind in ("flat", "local"):
            spec = port(segment(kind=kind))
            assert driver.plug_port(spec)["id"] == spec.id

    def test_unsupported_network_type_leaves_nothing(self, driver):
        spec = port(segment(kind="gre"))
        with pytest.raises(UnsupportedNetworkType):
            driver.plug_port(spec)
        assert driver.list_ports() == [] and driver.vif(spec.id) is None

    def test_unplug_removes_and_is_idempotent(self, driver):
        spec = port(segment())
        driver.plug_port(spec)
        driver.unplug_port(spec.id)
        driver.unplug_port(spec.id)
        driver.unplug_port(new_id())
        assert driver.list_ports() == [] and driver.vif(spec.id) is None

    # -- security groups ----------------------------------------------------------

    def test_filter_needs_a_plugged_port(self, driver):
        if not driver.capabilities.supports_security_groups:
            pytest.skip("no security groups")
        with pytest.raises(PortNotPlugged):
            driver.set_port_filter(PortFilter(port_id=new_id()))

    def test_filter_is_replaced_and_dropped_with_the_port(self, driver):
        if not driver.capabilities.supports_security_groups:
            pytest.skip("no security groups")
        spec = port(segment())
        driver.plug_port(spec)
        rules = [FilterRule("ingress", protocol="tcp", port_range_min=22, port_range_max=22)]
        driver.set_port_filter(PortFilter(port_id=spec.id, rules=rules))
        driver.set_port_filter(PortFilter(port_id=spec.id, rules=rules))  # idempotent
        driver.set_port_filter(PortFilter(port_id=spec.id, rules=[]))
        driver.unplug_port(spec.id)
        with pytest.raises(PortNotPlugged):
            driver.set_port_filter(PortFilter(port_id=spec.id))

    def test_filters_of_several_ports_are_set_together(self, driver):
        if not driver.capabilities.supports_security_groups:
            pytest.skip("no security groups")
        seg = segment()
        specs = [port(seg), port(seg, mac="fa:16:3e:00:00:02", ip="10.0.0.6")]
        for spec in specs:
            driver.plug_port(spec)
        rules = [FilterRule("ingress", protocol="icmp")]
        try:
            driver.set_port_filters([PortFilter(port_id=spec.id, rules=rules) for spec in specs])
            driver.set_port_filters([PortFilter(port_id=spec.id, rules=rules) for spec in specs])  # idempotent
            driver.set_port_filters([])
            with pytest.raises(PortNotPlugged):
                driver.set_port_filters([PortFilter(port_id=specs[0].id), PortFilter(port_id=new_id())])
        finally:
            for spec in specs:
                driver.unplug_port(spec.id)

    # -- DHCP ----------------------------------------------------------------------

    def dhcp_spec(self, seg: Segment, enable: bool = True, with_port: bool = True) -> DhcpSpec:
        subnet = SubnetSpec(id=new_id(), cidr="10.0.0.0/24", gateway_ip="10.0.0.1", enable_dhcp=enable)
        server = port(seg, mac="fa:16:3e:00:00:02", ip="10.0.0.2", owner="network:dhcp") if with_port else None
        return DhcpSpec(segment=seg, subnets=[subnet], dhcp_port=server,
                        hosts=[DhcpHost(new_id(), "fa:16:3e:00:00:05", "10.0.0.5", "host-10-0-0-5")])

    def test_dhcp_sync_is_idempotent_and_removal_too(self, driver):
        if not driver.capabilities.supports_dhcp:
            pytest.skip("no DHCP")
        seg = segment()
        spec = self.dhcp_spec(seg)
        driver.sync_dhcp(spec)
        driver.sync_dhcp(spec)
        assert driver.list_dhcp() == [seg.network_id]
        driver.remove_dhcp(seg.network_id)
        driver.remove_dhcp(seg.network_id)
        assert driver.list_dhcp() == []

    def test_dhcp_without_enabled_subnet_or_port_is_not_served(self, driver):
        if not driver.capabilities.supports_dhcp:
            pytest.skip("no DHCP")
        seg = segment()
        driver.sync_dhcp(self.dhcp_spec(seg))
        driver.sync_dhcp(self.dhcp_spec(seg, enable=False))
        assert driver.list_dhcp() == []
        driver.sync_dhcp(self.dhcp_spec(seg, with_port=False))
        assert driver.list_dhcp() == []

    # -- routers ------------------------------------------------------------------

    def router(self, floating: bool = True, gateway: bool = True) -> RouterSpec:
        inside, outside = segment(), segment(kind="flat")
        internal = leg(inside, "10.0.0.1", "10.0.0.0/24")
        gw = leg(outside, "172.24.4.10", "172.24.4.0/24", mac="fa:16:3e:00:01:02") if gateway else None
        fips = [FloatingSpec("172.24.4.20", "10.0.0.5", new_id())] if floating else []
        return RouterSpec(id=new_id(), legs=[internal], gateway=gw, gateway_ip="172.24.4.1" if gateway else None,
                          routes=[{"destination": "192.168.0.0/24", "nexthop": "10.0.0.9"}], floating_ips=fips)

    def test_router_sync_is_idempotent_and_removal_too(self, driver):
        if not driver.capabilities.supports_routers:
            pytest.skip("no routers")
        spec = self.router(floating=driver.capabilities.supports_floating_ips)
        driver.sync_router(spec)
        driver.sync_router(spec)
        assert driver.list_routers() == [spec.id]
        driver.remove_router(spec.id)
        driver.remove_router(spec.id)
        assert driver.list_routers() == []

    def test_floating_ip_needs_a_gateway_and_a_leg(self, driver):
        if not driver.capabilities.supports_floating_ips:
            pytest.skip("no floating IPs")
        no_gateway = self.router(gateway=False)
        with pytest.raises(NetworkDriverError):
            driver.sync_router(no_gateway)
        assert driver.list_routers() == []
        spec = self.router()
        stray = RouterSpec(**{**spec.__dict__, "floating_ips": [FloatingSpec("172.24.4.21", "10.9.9.9", new_id())]})
        with pytest.raises(NetworkDriverError):
            driver.sync_router(stray)
        assert driver.list_routers() == []

    # -- metadata -------------------------------------------------------------------

    def test_metadata_serve_and_stop(self, driver):
        if not driver.capabilities.supports_metadata:
            pytest.skip("no metadata")
        seg = segment()  # served where the network's DHCP is (the agent serves both together)
        network_id = seg.network_id
        if driver.capabilities.supports_dhcp:
            driver.sync_dhcp(self.dhcp_spec(seg))
        driver.serve_metadata(network_id, "http://127.0.0.1:8600/metadata")
        driver.serve_metadata(network_id, "http://127.0.0.1:8600/metadata")
        assert driver.list_metadata() == [network_id]
        driver.stop_metadata(network_id)
        driver.stop_metadata(network_id)
        assert driver.list_metadata() == []

    # -- capabilities ----------------------------------------------------------------

    def test_capability_flags_are_honest(self, driver):
        checks = {
            "supports_dhcp": lambda: driver.remove_dhcp(new_id()),
            "supports_routers": lambda: driver.remove_router(new_id()),
            "supports_metadata": lambda: driver.stop_metadata(new_id()),
        }
        for flag, call in checks.items():
            if getattr(driver.capabilities, flag):
                call()
            else:
                with pytest.raises(DriverCapabilityError):
                    call()

    def test_report_is_a_dict(self, driver):
        assert isinstance(driver.report(), dict)

    # -- tunnels ----------------------------------------------------------------------

    def test_tunnel_peers_are_replaced_and_setting_them_is_idempotent(self, driver):
        own = driver.tunnel_endpoint()
        driver.set_tunnel_peers(["192.0.2.7", "192.0.2.3", *([own] if own else [])])
        assert driver.tunnel_peers() == ["192.0.2.3", "192.0.2.7"]
        driver.set_tunnel_peers(["192.0.2.3"])
        driver.set_tunnel_peers(["192.0.2.3"])
        assert driver.tunnel_peers() == ["192.0.2.3"]
        vif = driver.plug_port(port(segment()))  # a vxlan network plugged meanwhile works as before
        assert vif["mtu"] == 1450
        driver.set_tunnel_peers([])
        assert driver.tunnel_peers() == []
        driver.unplug_port(vif["id"])


class TestFakeNetworkDriver(NetworkDriverContract):
    @pytest.fixture
    def driver(self):
        driver = FakeNetworkDriver()
        driver.init_host("fakehost")
        yield driver
        for port_id in driver.list_ports():
            driver.unplug_port(port_id)
        for network_id in driver.list_dhcp():
            driver.remove_dhcp(network_id)
        for router_id in driver.list_routers():
            driver.remove_router(router_id)
        assert driver.bridges == {}, "a bridge outlived its last user"

    def test_failed_plug_leaves_no_bridge(self):
        spec = port(segment())
        driver = FakeNetworkDriver(fail_plug_on={spec.id})
        with pytest.raises(PlugFailed):
            driver.plug_port(spec)
        assert driver.bridges == {} and driver.list_ports() == []

    def test_duplicate_mac_on_a_network_fails(self, driver):
        seg = segment()
        driver.plug_port(port(seg))
        with pytest.raises(PlugFailed):
            driver.plug_port(port(seg))
        assert len(driver.list_ports()) == 1

    def test_filter_decides_what_passes(self, driver):
        spec = port(segment())
        driver.plug_port(spec)
        assert not driver.allows(spec.id, "ingress", "192.0.2.1", "tcp", 22)  # fail closed before any filter
        rules = [FilterRule("ingress", protocol="tcp", port_range_min=22, port_range_max=22),
                 FilterRule("ingress", protocol="icmp", remote_ip_prefixes=("10.0.0.0/24",)),
                 FilterRule("egress")]
        driver.set_port_filter(PortFilter(port_id=spec.id, rules=rules))
        assert driver.allows(spec.id, "ingress", "192.0.2.1", "tcp", 22)
        assert not driver.allows(spec.id, "ingress", "192.0.2.1", "tcp", 23)
        assert driver.allows(spec.id, "ingress", "10.0.0.7", "icmp", 8)
        assert not driver.allows(spec.id, "ingress", "192.0.2.1", "icmp", 8)
        assert driver.allows(spec.id, "egress", "198.51.100.1", "udp", 53)
        assert not driver.allows(spec.id, "ingress", "2001:db8::1", "tcp", 22)  # IPv4 rules only
        driver.set_port_filter(PortFilter(port_id=spec.id, port_security_enabled=False))
        assert driver.allows(spec.id, "ingress", "192.0.2.1", "udp", 9)

    def test_dhcp_keeps_only_reservations_in_dhcp_subnets(self, driver):
        seg = segment()
        spec = self.dhcp_spec(seg)
        outside = DhcpHost(new_id(), "fa:16:3e:00:00:06", "10.9.0.5")
        driver.sync_dhcp(DhcpSpec(**{**spec.__dict__, "hosts": [*spec.hosts, outside]}))
        assert driver.dhcp[seg.network_id]["hosts"] == {"fa:16:3e:00:00:05": ["10.0.0.5"]}
        assert driver.dhcp[seg.network_id]["server"] == ["10.0.0.2"]

    def test_router_nat_and_failed_sync_keeps_the_old_state(self, driver):
        spec = self.router()
        driver.sync_router(spec)
        assert driver.nat(spec.id) == {"172.24.4.20": "10.0.0.5"}
        driver.fail_router_on.add(spec.id)
        with pytest.raises(NetworkDriverError):
            driver.sync_router(RouterSpec(**{**spec.__dict__, "floating_ips": []}))
        assert driver.nat(spec.id) == {"172.24.4.20": "10.0.0.5"}
        driver.fail_router_on.clear()

    def test_metadata_upstream_must_be_http(self, driver):
        with pytest.raises(NetworkDriverError):
            driver.serve_metadata(new_id(), "ftp://nowhere")


def test_drivers_resolve_by_alias_with_a_suggestion():
    assert resolve_driver("fake") is FakeNetworkDriver
    assert isinstance(make_driver("fake"), FakeNetworkDriver)
    with pytest.raises(UnknownNetworkDriver, match="Did you mean 'fake'"):
        resolve_driver("fak")


def test_base_capabilities_are_all_false():
    assert not any(Capabilities().as_dict().values())
    assert all(Capabilities.all().as_dict().values())
    assert issubclass(DriverCapabilityError, OvercastError)
