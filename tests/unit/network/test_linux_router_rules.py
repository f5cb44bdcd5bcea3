"""The iptables text of a Linux router namespace (no root needed: only the text)."""

from __future__ import annotations

from overcast.network.drivers import FloatingSpec, ForwardingSpec, RouterLeg, RouterSpec, Segment
from overcast.network.drivers.linux.router_rules import tables

INSIDE = RouterLeg("p-in", "fa:16:3e:00:00:01", Segment("n1"), "s1", "10.0.0.1", "10.0.0.0/24")
V6 = RouterLeg("p-in", "fa:16:3e:00:00:01", Segment("n1"), "s6", "fd00::1", "fd00::/64")
GATEWAY = RouterLeg("p-gw", "fa:16:3e:00:00:02", Segment("ext", "flat", physical_network="public"), "s2",
                    "172.24.4.10", "172.24.4.0/24")
FLOATING = FloatingSpec("172.24.4.20", "10.0.0.5", "p-vm")
DEVICES = {"p-in": "qr-p-in", "p-gw": "qg-p-gw"}


def spec(**changes) -> RouterSpec:
    values = {"id": "r1", "legs": [INSIDE, V6], "gateway": GATEWAY, "gateway_ip": "172.24.4.1",
              "floating_ips": [FLOATING]}
    return RouterSpec(**{**values, **changes})


def test_floating_nat_comes_before_the_routers_snat_and_ipv6_has_none():
    text = tables(spec(), "qg-p-gw", DEVICES)
    dnat = "-A PREROUTING -d 172.24.4.20/32 -j DNAT --to-destination 10.0.0.5"
    floating_snat = "-A POSTROUTING -s 10.0.0.5/32 -o qg-p-gw -j SNAT --to-source 172.24.4.20"
    snat = "-A POSTROUTING -s 10.0.0.0/24 -o qg-p-gw -j SNAT --to-source 172.24.4.10"
    hairpin = ("-A POSTROUTING -s 10.0.0.0/24 -o qr-p-in -m conntrack --ctstate DNAT "
               "-j SNAT --to-source 10.0.0.1")
    assert dnat in text and hairpin in text
    assert text.index(floating_snat) < text.index(snat)
    assert "fd00" not in text
    assert text.count("COMMIT") == 2 and text.endswith("COMMIT\n")


def test_without_snat_or_floating_ips_only_the_checks_remain():
    text = tables(spec(snat=False, floating_ips=[]), "qg-p-gw", DEVICES)
    assert "-j SNAT" not in text and "-j DNAT" not in text
    checks = [line for line in text.splitlines() if line.startswith("-A nat-check")]
    assert checks == ["-A nat-check -j DROP"]  # nothing NATed any more: old NATed connections stop


def test_nat_check_lets_through_current_pairs_and_the_gateway_only():
    checks = [line for line in tables(spec(), "qg-p-gw", DEVICES).splitlines() if "nat-check" in line and line.startswith("-A")]
    assert checks == ["-A FORWARD -m conntrack --ctstate DNAT,SNAT -j nat-check",
                      "-A nat-check -m conntrack --ctorigdst 172.24.4.20 --ctreplsrc 10.0.0.5 -j RETURN",
                      "-A nat-check -m conntrack --ctorigsrc 10.0.0.5 --ctrepldst 172.24.4.20 -j RETURN",
                      "-A nat-check -m conntrack --ctrepldst 172.24.4.10 -j RETURN",
                      "-A nat-check -j DROP"]


def test_a_router_that_is_down_forwards_nothing():
    assert ":FORWARD DROP [0:0]" in tables(spec(admin_state_up=False), "qg-p-gw", DEVICES)
    assert ":FORWARD ACCEPT [0:0]" in tables(spec(), "qg-p-gw", DEVICES)


def test_no_gateway_no_nat():
    text = tables(spec(gateway=None, gateway_ip=None, floating_ips=[]), None, {"p-in": "qr-p-in"})
    assert "-j SNAT" not in text and "-j DNAT" not in text


def test_port_forwardings_are_dnat_per_protocol_port_with_their_checks_and_hairpin():
    forwardings = [ForwardingSpec("172.24.4.30", "tcp", 8080, "10.0.0.7", 80),
                   ForwardingSpec("172.24.4.30", "udp", 5353, "10.0.0.7", 53),
                   ForwardingSpec("172.24.4.30", "udplite", 9, "10.0.0.7", 9)]  # iptables cannot: left out
    text = tables(spec(floating_ips=[], port_forwardings=forwardings), "qg-p-gw", DEVICES)
    for chain in ("PREROUTING", "OUTPUT"):
        assert (f"-A {chain} -d 172.24.4.30/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.7:80"
                in text)
        assert (f"-A {chain} -d 172.24.4.30/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.0.0.7:53"
                in text)
    assert "udplite" not in text
    assert ("-A nat-check -p tcp -m conntrack --ctorigdst 172.24.4.30 --ctreplsrc 10.0.0.7 --ctorigdstport 8080 "
            "--ctreplsrcport 80 -j RETURN") in text
    assert "-A POSTROUTING -s 10.0.0.0/24 -o qr-p-in -m conntrack --ctstate DNAT -j SNAT --to-source 10.0.0.1" in text
    assert "--to-source 172.24.4.30" not in text  # the address goes out with the router's SNAT, as any other


def test_the_same_spec_gives_the_same_text():
    forwardings = [ForwardingSpec("172.24.4.30", "udp", 5353, "10.0.0.7", 53),
                   ForwardingSpec("172.24.4.30", "tcp", 8080, "10.0.0.7", 80)]
    one = tables(spec(port_forwardings=forwardings), "qg-p-gw", DEVICES)
    assert one == tables(spec(port_forwardings=forwardings[::-1]), "qg-p-gw", DEVICES)
