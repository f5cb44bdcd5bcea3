"""The iptables lines the Linux driver writes for a port's filter (no root needed)."""

from __future__ import annotations

import pytest

from overcast.network.drivers import FilterRule, PortFilter
from overcast.network.drivers.linux.firewall_rules import (chain, conntrack_deletions, egress_lines, ingress_lines,
                                                           link_local, mac_lines, protocol_number, rule_lines,
                                                           spoof_lines)

PORT = "0123456789abcdef"
MAC = "fa:16:3e:12:34:56"


def test_chain_names_carry_the_prefix_and_ten_characters_of_the_port():
    assert chain("oc", "i", PORT) == "oc-i0123456789"
    assert len(chain("t123456", "s", PORT)) <= 28  # iptables' limit


def test_protocols_by_name_or_number_and_icmp_in_ipv6_rules():
    assert protocol_number("tcp", 4) == 6 and protocol_number("17", 4) == 17
    assert protocol_number(None, 4) is None and protocol_number("any", 6) is None
    assert protocol_number("icmp", 6) == 58 and protocol_number("ipv6-icmp", 6) == 58
    with pytest.raises(ValueError):
        protocol_number("nonsense", 4)


def test_rule_lines_match_ports_icmp_types_and_remote_prefixes():
    tcp = FilterRule("ingress", protocol="tcp", port_range_min=80, port_range_max=90,
                     remote_ip_prefixes=("10.0.0.0/24", "2001:db8::/64"))
    assert rule_lines("c", tcp, 4) == ["-A c -s 10.0.0.0/24 -p 6 -m tcp --dport 80:90 -j RETURN"]
    assert rule_lines("c", tcp, 6) == []  # an IPv4 rule
    ping = FilterRule("egress", protocol="icmp", port_range_min=8, port_range_max=0, remote_ip_prefixes=("1.2.3.4",))
    assert rule_lines("c", ping, 4) == ["-A c -d 1.2.3.4 -p 1 -m icmp --icmp-type 8/0 -j RETURN"]
    v6 = FilterRule("ingress", ethertype="IPv6", protocol="icmp", port_range_min=128)
    assert rule_lines("c", v6, 6) == ["-A c -p 58 -m icmp6 --icmpv6-type 128 -j RETURN"]
    sctp = FilterRule("ingress", protocol="sctp", port_range_min=5000)
    assert rule_lines("c", sctp, 4) == ["-A c -p 132 -m multiport --dports 5000 -j RETURN"]
    assert rule_lines("c", FilterRule("egress"), 4) == ["-A c -j RETURN"]


def test_ingress_is_stateful_and_ends_in_drop():
    lines = ingress_lines("oc", PORT, PortFilter(PORT, rules=[FilterRule("ingress", protocol="tcp")]), 4)
    assert any("ESTABLISHED" in line for line in lines) and any("INVALID -j DROP" in line for line in lines)
    assert "-A oc-i0123456789 -p 6 -j RETURN" in lines
    assert lines[-1] == "-A oc-i0123456789 -j DROP"
    stateless = ingress_lines("oc", PORT, PortFilter(PORT, stateful=False), 4)
    assert not any("conntrack" in line for line in stateless)


def test_egress_lets_dhcp_out_before_the_spoofing_check_and_drops_dhcp_servers():
    lines = egress_lines("oc", PORT, MAC, PortFilter(PORT), 4)
    spoof = lines.index("-A oc-o0123456789 -j oc-s0123456789")
    assert "--sport 68 --dport 67" in lines[0] and "0.0.0.0/32" in lines[0] and spoof == 1
    assert any("--sport 67 --dport 68 -j DROP" in line for line in lines)
    v6 = egress_lines("oc", PORT, MAC, PortFilter(PORT), 6)
    advert = v6.index("-A oc-o0123456789 -p 58 -m icmp6 --icmpv6-type 134 -j DROP")
    assert advert < v6.index("-A oc-o0123456789 -p 58 -m icmp6 --icmpv6-type 135 -j RETURN")


def test_spoofing_allows_the_addresses_with_their_macs_and_the_link_local():
    port_filter = PortFilter(PORT, allowed_addresses=[{"ip_address": "10.0.0.5", "mac_address": MAC},
                                                      {"ip_address": "10.0.0.0/28"},
                                                      {"ip_address": "2001:db8::5", "mac_address": MAC}])
    assert spoof_lines("oc", PORT, MAC, port_filter, 4) == [
        f"-A oc-s0123456789 -s 10.0.0.5 -m mac --mac-source {MAC} -j RETURN",
        f"-A oc-s0123456789 -s 10.0.0.0/28 -m mac --mac-source {MAC} -j RETURN",
        "-A oc-s0123456789 -j DROP"]
    v6 = spoof_lines("oc", PORT, MAC, port_filter, 6)
    assert f"-A oc-s0123456789 -s {link_local(MAC)} -m mac --mac-source {MAC} -j RETURN" in v6
    assert link_local(MAC) == "fe80::f816:3eff:fe12:3456"


def test_frames_and_arp_only_from_the_ports_macs_and_addresses():
    other = "fa:16:3e:00:00:99"
    port_filter = PortFilter(PORT, allowed_addresses=[{"ip_address": "10.0.0.5", "mac_address": MAC},
                                                      {"ip_address": "10.0.0.9", "mac_address": other},
                                                      {"ip_address": "2001:db8::5", "mac_address": MAC}])
    assert mac_lines("oc", PORT, MAC, port_filter) == [
        f"-A oc-a0123456789 -p ARP -s {MAC} --arp-mac-src {MAC} --arp-ip-src 10.0.0.5 -j RETURN",
        f"-A oc-a0123456789 -p ARP -s {other} --arp-mac-src {other} --arp-ip-src 10.0.0.9 -j RETURN",
        f"-A oc-a0123456789 -p ARP -s {MAC} --arp-mac-src {MAC} --arp-ip-src 0.0.0.0 -j RETURN",
        "-A oc-a0123456789 -p ARP -j DROP",
        f"-A oc-a0123456789 -s {MAC} -j RETURN",
        f"-A oc-a0123456789 -s {other} -j RETURN",
        "-A oc-a0123456789 -j DROP"]


def test_conntrack_ends_only_what_removed_rules_let_through():
    ssh = FilterRule("ingress", protocol="tcp", port_range_min=22, port_range_max=22,
                     remote_ip_prefixes=("10.1.0.0/16",))
    web = FilterRule("ingress", protocol="tcp", port_range_min=80, port_range_max=80)
    out = FilterRule("egress", ethertype="IPv6")
    assert conntrack_deletions([ssh, web], [web], ["10.0.0.5", "2001:db8::5"], 4100) == [
        ["conntrack", "-D", "-f", "ipv4", "-w", "4100", "-p", "6", "--dport", "22", "-d", "10.0.0.5",
         "-s", "10.1.0.0/16"]]
    assert conntrack_deletions([web, out], [web], ["10.0.0.5", "2001:db8::5"], 0) == [
        ["conntrack", "-D", "-f", "ipv6", "-w", "0", "-s", "2001:db8::5"]]
    assert conntrack_deletions([web], [web], ["10.0.0.5"], 0) == []


def test_conntrack_ends_only_the_members_a_remote_group_lost():
    before = FilterRule("ingress", protocol="icmp", remote_ip_prefixes=("10.0.0.7/32", "10.0.0.8/32"))
    after = FilterRule("ingress", protocol="icmp", remote_ip_prefixes=("10.0.0.8/32", "10.0.0.9/32"))
    assert conntrack_deletions([before], [after], ["10.0.0.5"], 4100) == [
        ["conntrack", "-D", "-f", "ipv4", "-w", "4100", "-p", "1", "-d", "10.0.0.5", "-s", "10.0.0.7/32"]]
