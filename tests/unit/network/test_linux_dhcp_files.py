"""What the Linux driver's DHCP writes for dnsmasq (no root needed: pure functions)."""

from __future__ import annotations

from pathlib import Path

from overcast.network.drivers import DhcpHost, DhcpSpec, PortSpec, Reservations, Segment, SubnetSpec
from overcast.network.drivers.linux import dhcp

SEG = Segment(network_id="net-1", mtu=1450)
V4 = SubnetSpec(id="s4", cidr="10.0.0.0/24", gateway_ip="10.0.0.1", host_routes=[
    {"destination": "192.168.0.0/24", "nexthop": "10.0.0.9"}])
V6 = SubnetSpec(id="s6", cidr="fd00:1::/64", ip_version=6)
OFF = SubnetSpec(id="off", cidr="10.9.0.0/24", gateway_ip="10.9.0.1", enable_dhcp=False)
PORT = PortSpec(id="dhcp-port", segment=SEG, mac="fa:16:3e:00:00:02", device_owner="network:dhcp",
                fixed_ips=[{"subnet_id": "s4", "ip_address": "10.0.0.2"},
                           {"subnet_id": "s6", "ip_address": "fd00:1::2"},
                           {"subnet_id": "off", "ip_address": "10.9.0.2"}])
HOSTS = [DhcpHost("p1", "fa:16:3e:00:00:05", "10.0.0.5", "host-10-0-0-5"),
         DhcpHost("p1", "fa:16:3e:00:00:05", "fd00:1::5"),
         DhcpHost("p2", "fa:16:3e:00:00:06", "10.9.0.6")]


def spec(**changes) -> DhcpSpec:
    values = {"segment": SEG, "subnets": [V4, V6, OFF], "hosts": HOSTS, "dhcp_port": PORT,
              "dns_domain": "example.org.", **changes}
    return DhcpSpec(**values)


def test_only_dhcp_enabled_subnets_with_a_server_address_are_served():
    assert [s.id for s in dhcp.served_subnets(spec())] == ["s4", "s6"]
    assert dhcp.served_subnets(spec(dhcp_port=None)) == []
    bare = PortSpec(**{**PORT.__dict__, "fixed_ips": [{"subnet_id": "off", "ip_address": "10.9.0.2"}]})
    assert dhcp.served_subnets(spec(dhcp_port=bare)) == []


def test_reservations_by_mac_only_in_served_subnets():
    assert dhcp.hosts_file(spec()) == ("fa:16:3e:00:00:05,host-10-0-0-5,10.0.0.5\n"
                                       "fa:16:3e:00:00:05,host-fd00-1--5,[fd00:1::5]\n")
    assert "10.0.0.5 host-10-0-0-5.example.org host-10-0-0-5\n" in dhcp.names_file(spec())


def test_reservations_grouped_by_port_write_the_same_files_as_a_list():
    grouped = spec(hosts=Reservations(([HOSTS[0], HOSTS[1]], [], [HOSTS[2]])))
    assert len(grouped.hosts) == 3 and grouped.hosts[2] == HOSTS[2]
    assert dhcp.hosts_file(grouped) == dhcp.hosts_file(spec()) and dhcp.names_file(grouped) == dhcp.names_file(spec())


def test_options_router_dns_mtu_and_routes_with_metadata_and_default():
    opts = dhcp.opts_file(spec()).splitlines()
    assert "tag:subnet-s4,option:router,10.0.0.1" in opts
    assert "tag:subnet-s4,option:dns-server,10.0.0.2" in opts
    assert "tag:subnet-s4,option:mtu,1450" in opts
    assert ("tag:subnet-s4,option:classless-static-route,169.254.169.254/32,10.0.0.2,"
            "192.168.0.0/24,10.0.0.9,0.0.0.0/0,10.0.0.1") in opts
    assert "tag:subnet-s6,option6:dns-server,[fd00:1::2]" in opts
    assert not any("subnet-off" in line for line in opts)


def test_no_gateway_means_no_router_and_no_default_route_and_own_dns_servers_win():
    lonely = SubnetSpec(id="s4", cidr="10.0.0.0/24", gateway_ip=None, dns_nameservers=["192.0.2.53", "192.0.2.54"])
    opts = dhcp.opts_file(spec(subnets=[lonely])).splitlines()
    assert "tag:subnet-s4,option:router" in opts
    assert "tag:subnet-s4,option:dns-server,192.0.2.53,192.0.2.54" in opts
    assert "tag:subnet-s4,option:classless-static-route,169.254.169.254/32,10.0.0.2" in opts


def test_a_default_host_route_replaces_the_gateway_default():
    routed = SubnetSpec(id="s4", cidr="10.0.0.0/24", gateway_ip="10.0.0.1",
                        host_routes=[{"destination": "0.0.0.0/0", "nexthop": "10.0.0.254"}])
    line = next(line for line in dhcp.opts_file(spec(subnets=[routed])).splitlines() if "classless" in line)
    assert line.endswith("0.0.0.0/0,10.0.0.254") and "10.0.0.1" not in line


def test_command_has_a_static_range_per_subnet_and_the_domain_without_its_dot():
    argv = dhcp.command(spec(), Path("/state/dhcp/net-1"), "ns-dhcp-port")
    assert "--dhcp-range=set:subnet-s4,10.0.0.0,static,255.255.255.0,86400s" in argv
    assert "--dhcp-range=set:subnet-s6,fd00:1::,static,64,86400s" in argv
    assert "--domain=example.org" in argv and "--interface=ns-dhcp-port" in argv
    assert "--pid-file=/state/dhcp/net-1/pid" in argv
    assert dhcp.addresses(spec()) == ["10.0.0.2/24", "fd00:1::2/64", "169.254.169.254/32"]
