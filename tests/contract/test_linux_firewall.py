"""Security groups on the Linux driver (root): the contract's filter tests, and real
traffic between namespaces plugged as guest ports (see ``linux_guests``) and to a QEMU
test guest (see ``linux_qemu_guest``), through the driver's iptables and ebtables
chains. Each test's driver has a random prefix; its chains, links and namespaces are
gone afterwards (checked). The tests that change what the host must not see (its
FORWARD policy, a real guest) run in a network namespace of their own."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from contract.linux_guests import Guest, echoes, now, wait_for
from contract.test_linux_network_driver import linux_driver, missing  # noqa: F401 - the fixture
from contract.test_network_driver import NetworkDriverContract
from overcast.network import agent_specs as specs
from overcast.network.drivers import FilterRule, PortFilter, Segment

pytestmark = pytest.mark.skipif(bool(missing()), reason=missing() or "runs")

ICMP_IN = FilterRule("ingress", protocol="icmp")
ALL_OUT = FilterRule("egress")


def has(tool: str) -> bool:
    return shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") is not None


def saved(prefix: str) -> list[str]:
    """Every iptables and ip6tables line naming one of the prefix's chains."""
    text = subprocess.run("iptables-save; ip6tables-save", shell=True, capture_output=True, text=True).stdout
    return [line for line in text.splitlines() if f"{prefix}-" in line]


@pytest.fixture
def driver(linux_driver):  # noqa: F811 - the imported fixture
    yield linux_driver
    linux_driver.firewall.clear()
    assert saved(linux_driver.host.prefix) == []


@pytest.fixture
def guests(driver):
    """``guests(segment, ip)`` makes a guest; all are removed afterwards."""
    made: list[Guest] = []

    def make(segment: Segment, ip: str) -> Guest:
        guest = Guest(driver, segment, ip)
        made.append(guest)
        return guest

    yield make
    failures = []
    for guest in made:
        try:
            guest.remove()
        except Exception as error:  # noqa: BLE001 - the others still go; the first is raised
            failures.append(error)
    if failures:
        raise failures[0]


@pytest.fixture
def net():
    """A random network segment and /24 (only ever on the test's own bridge)."""
    return Segment(network_id=str(uuid.uuid4()), network_type="local", mtu=1500), f"10.{random.randrange(200, 250)}." \
        f"{random.randrange(256)}"


def filter_of(guest: Guest, rules: list[FilterRule], extra: list[str] = (), **options) -> PortFilter:
    addresses = [{"ip_address": guest.ip, "mac_address": guest.mac}] + [{"ip_address": ip} for ip in extra]
    return PortFilter(port_id=guest.port_id, rules=rules, allowed_addresses=addresses, **options)


class TestLinuxFilterContract:
    """The contract suite's filter tests, on the Linux driver."""

    test_filter_needs_a_plugged_port = NetworkDriverContract.test_filter_needs_a_plugged_port
    test_filter_is_replaced_and_dropped_with_the_port = \
        NetworkDriverContract.test_filter_is_replaced_and_dropped_with_the_port


def test_ping_needs_an_icmp_rule_and_applies_within_a_second(driver, guests, net):
    segment, base = net
    client, server = guests(segment, f"{base}.5"), guests(segment, f"{base}.6")
    driver.firewall.set(filter_of(client, [ALL_OUT]), client.vif)
    driver.firewall.set(filter_of(server, [ALL_OUT]), server.vif)
    assert client.ping(server.ip, within=0.5) is None  # no ingress rule: dropped

    pinging = client.start_ping(server.ip, within=5)
    started = now()
    driver.firewall.set(filter_of(server, [ALL_OUT, ICMP_IN]), server.vif)
    replied = wait_for(pinging)
    assert replied is not None
    assert replied - started < 1.0, f"first reply {replied - started:.3f} s after set"

    driver.firewall.set(filter_of(server, [ALL_OUT]), server.vif)
    assert client.ping(server.ip, within=0.5) is None


def test_tcp_passes_only_to_the_allowed_port(driver, guests, net):
    segment, base = net
    client, server = guests(segment, f"{base}.5"), guests(segment, f"{base}.6")
    server.listen(22, 2222)
    driver.firewall.set(filter_of(client, [ALL_OUT]), client.vif)
    driver.firewall.set(filter_of(server, [ALL_OUT]), server.vif)
    assert not client.connects(server.ip, 22, timeout=0.5)
    ssh = FilterRule("ingress", protocol="tcp", port_range_min=22, port_range_max=22)
    driver.firewall.set(filter_of(server, [ALL_OUT, ssh]), server.vif)
    assert client.connects(server.ip, 22)
    assert not client.connects(server.ip, 2222, timeout=0.5)
    from_elsewhere = FilterRule("ingress", protocol="6", port_range_min=2222, port_range_max=2222,
                                remote_ip_prefixes=(f"{base}.128/25",))
    driver.firewall.set(filter_of(server, [ALL_OUT, from_elsewhere]), server.vif)
    assert not client.connects(server.ip, 2222, timeout=0.5)  # the client is in the lower half


def test_egress_needs_a_rule_but_replies_pass(driver, guests, net):
    segment, base = net
    client, server = guests(segment, f"{base}.5"), guests(segment, f"{base}.6")
    driver.firewall.set(filter_of(client, []), client.vif)
    driver.firewall.set(filter_of(server, [ICMP_IN]), server.vif)  # the server sends replies only
    assert client.ping(server.ip, within=0.5) is None  # the client may not send
    driver.firewall.set(filter_of(client, [FilterRule("egress", protocol="icmp")]), client.vif)
    assert client.ping(server.ip) is not None  # the reply is ESTABLISHED at both ends


def test_spoofed_source_is_dropped_until_it_is_an_allowed_address(driver, guests, net):
    segment, base = net
    client, server = guests(segment, f"{base}.5"), guests(segment, f"{base}.6")
    extra = f"{base}.99"
    client.run("ip", "addr", "add", f"{extra}/32", "dev", client.device)
    driver.firewall.set(filter_of(client, [ALL_OUT]), client.vif)
    driver.firewall.set(filter_of(server, [ALL_OUT, ICMP_IN]), server.vif)
    assert client.ping(server.ip) is not None
    assert client.ping(server.ip, within=0.5, source=extra) is None
    driver.firewall.set(filter_of(client, [ALL_OUT], extra=[extra]), client.vif)  # an allowed address pair
    assert client.ping(server.ip, source=extra) is not None


def test_spoofed_mac_is_dropped(driver, guests, net):
    segment, base = net
    client, server = guests(segment, f"{base}.5"), guests(segment, f"{base}.6")
    driver.firewall.set(filter_of(client, [ALL_OUT]), client.vif)
    driver.firewall.set(filter_of(server, [ALL_OUT, ICMP_IN]), server.vif)
    client.run("ip", "link", "set", client.device, "address", "fa:16:3e:aa:bb:cc")
    assert client.ping(server.ip, within=0.5) is None


def test_no_port_security_means_no_filter(driver, guests, net):
    segment, base = net
    client, server = guests(segment, f"{base}.5"), guests(segment, f"{base}.6")
    driver.firewall.set(filter_of(client, [ALL_OUT]), client.vif)
    driver.firewall.set(filter_of(server, []), server.vif)
    assert client.ping(server.ip, within=0.5) is None
    driver.firewall.set(filter_of(server, [], port_security_enabled=False), server.vif)
    assert not any(f"-{kind}{server.port_id[:10]}" in line for line in saved(driver.host.prefix) for kind in "ios")
    assert client.ping(server.ip) is not None
    assert driver.firewall.filtered() == {client.port_id: True, server.port_id: False}


def test_remove_leaves_no_rule_and_state_is_read_back(driver, guests, net):
    segment, base = net
    guest = guests(segment, f"{base}.5")
    before = saved(driver.host.prefix)
    driver.firewall.set(filter_of(guest, [ALL_OUT, ICMP_IN], extra=["2001:db8::5"]), guest.vif)
    assert len(saved(driver.host.prefix)) > len(before)
    driver.firewall._ports = None  # a new agent run: what is held comes from the kernel
    assert driver.firewall.filtered() == {guest.port_id: True}
    driver.init_host("linuxhost")  # idempotent: one jump from FORWARD, the filter kept
    forward = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True).stdout
    assert forward.count(f"-j {driver.host.prefix}-FWD") == 1
    assert driver.firewall.filtered() == {guest.port_id: True}
    driver.firewall.remove(guest.port_id)
    driver.firewall.remove(guest.port_id)  # not there: no-op
    assert saved(driver.host.prefix) == before


def test_networks_with_the_same_addresses_get_their_own_conntrack_zones(driver, guests, net):
    (first, base), second = net, Segment(network_id=str(uuid.uuid4()), network_type="local", mtu=1500)
    pairs = [(guests(segment, f"{base}.5"), guests(segment, f"{base}.6")) for segment in (first, second)]
    for client, server in pairs:
        driver.firewall.set(filter_of(client, [ALL_OUT]), client.vif)
        driver.firewall.set(filter_of(server, [ALL_OUT, ICMP_IN]), server.vif)
    zones = [line for line in saved(driver.host.prefix) if "--zone" in line and line.startswith("-A")]
    assert len({line.split("--zone")[1] for line in zones}) == 2  # one per bridge (same in v4 and v6)
    for client, server in pairs:
        assert client.ping(server.ip) is not None
        server.listen(22)
    (client, server), (other_client, other_server) = pairs
    driver.firewall.set(filter_of(server, [ALL_OUT, FilterRule("ingress", protocol="tcp")]), server.vif)
    held = client.hold(server.ip, 22, source_port=40022)
    assert held and echoes(held)
    # the very same connection (addresses and ports) in the other network, whose server
    # allows no TCP: a conntrack entry shared across networks would pass it as ESTABLISHED
    assert other_client.hold(other_server.ip, 22, source_port=40022) is None


@pytest.mark.skipif(not has("unshare"), reason="needs unshare (util-linux)")
def test_allowed_traffic_passes_a_forward_policy_of_drop(tmp_path):
    """In a network namespace of its own, so the host's FORWARD policy is left alone."""
    tests = Path(__file__).resolve().parents[1]
    code = f"from contract.linux_guests import forward_drop_scenario; forward_drop_scenario({str(tmp_path)!r})"
    done = subprocess.run(["unshare", "--mount", "--net", "sh", "-c", 'mount -t sysfs sysfs /sys && exec "$0" -c "$1"',
                           sys.executable, code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": f"{tests}:{tests.parent}"})
    assert done.returncode == 0 and "forward-drop-ok" in done.stdout, done.stderr[-2000:]


def test_arp_only_for_the_ports_own_addresses(driver, guests, net):
    segment, base = net
    client, server = guests(segment, f"{base}.5"), guests(segment, f"{base}.6")
    driver.firewall.set(filter_of(client, [ALL_OUT]), client.vif)
    driver.firewall.set(filter_of(server, [ALL_OUT]), server.vif)
    client.arp_claim(f"{base}.77", server.ip)  # someone else's address: not heard
    client.arp_claim(client.ip, server.ip)  # its own: heard, so the probe itself works
    deadline = now() + 2
    while not server.neighbour(client.ip) and now() < deadline:
        pass
    assert client.mac in server.neighbour(client.ip)
    assert server.neighbour(f"{base}.77") == ""


@pytest.mark.skipif(not has("conntrack"), reason="needs conntrack (Debian package conntrack)")
def test_removing_a_rule_ends_the_connections_it_let_in(driver, guests, net):
    segment, base = net
    client, server = guests(segment, f"{base}.5"), guests(segment, f"{base}.6")
    server.listen(22, 80)
    ssh = FilterRule("ingress", protocol="tcp", port_range_min=22, port_range_max=22)
    web = FilterRule("ingress", protocol="tcp", port_range_min=80, port_range_max=80)
    driver.firewall.set(filter_of(client, [ALL_OUT]), client.vif)
    driver.firewall.set(filter_of(server, [ALL_OUT, ssh, web]), server.vif)
    shell, page = client.hold(server.ip, 22), client.hold(server.ip, 80)
    assert echoes(shell) and echoes(page)
    driver.firewall.set(filter_of(server, [ALL_OUT, web]), server.vif)
    assert not echoes(shell)  # its rule is gone: the established connection with it
    assert echoes(page)  # still allowed: untouched


def test_ipv6_needs_an_ipv6_rule_and_neighbour_discovery_passes(driver, guests, net):
    segment, base = net
    client, server = guests(segment, f"{base}.5"), guests(segment, f"{base}.6")
    v6 = f"fd00:{random.randrange(0x10000):x}:{random.randrange(0x10000):x}::"
    for guest, host in ((client, 5), (server, 6)):
        guest.run("ip", "addr", "add", f"{v6}{host}/64", "dev", guest.device, "nodad")
    client_v6, server_v6 = f"{v6}5", f"{v6}6"
    driver.firewall.set(filter_of(client, [ALL_OUT, FilterRule("egress", ethertype="IPv6")], extra=[client_v6]),
                        client.vif)
    driver.firewall.set(filter_of(server, [ALL_OUT, ICMP_IN], extra=[server_v6]), server.vif)
    assert client.ping6(server_v6, within=0.5) is None  # an IPv4 ICMP rule only
    icmp6_in = FilterRule("ingress", ethertype="IPv6", protocol="ipv6-icmp")
    driver.firewall.set(filter_of(server, [ALL_OUT, icmp6_in], extra=[server_v6]), server.vif)
    assert client.ping6(server_v6) is not None  # solicitation and advert passed both ways
    driver.firewall.set(filter_of(client, [ALL_OUT, FilterRule("egress", ethertype="IPv6")]), client.vif)
    assert client.ping6(server_v6, within=0.5) is None  # its IPv6 address is no longer its own


def test_init_drops_the_filters_of_ports_whose_device_is_gone(driver, guests, net):
    segment, base = net
    kept, gone = guests(segment, f"{base}.5"), guests(segment, f"{base}.6")
    before = saved(driver.host.prefix)
    driver.firewall.set(filter_of(gone, [ALL_OUT]), gone.vif)
    driver.firewall.set(filter_of(kept, [ALL_OUT]), kept.vif)
    driver.bridges.unplug_leg(gone.port_id)  # behind the firewall's back
    driver.firewall._ports = None  # the next agent run
    driver.init_host("linuxhost")
    assert driver.firewall.filtered() == {kept.port_id: True}
    driver.firewall.remove(kept.port_id)
    assert saved(driver.host.prefix) == before


def test_the_agents_default_group_lets_members_in_and_no_one_else(driver, guests, net):
    """Neutron dicts through the agent's ``port_filter`` (remote groups resolved to member
    addresses), as the network agent hands them to the driver."""
    segment, base = net
    member, other, target = (guests(segment, f"{base}.{n}") for n in (5, 7, 6))
    group = {"id": "default-group", "stateful": True, "security_group_rules": [
        {"direction": direction, "ethertype": ethertype, "protocol": None, "port_range_min": None,
         "port_range_max": None, "remote_ip_prefix": None,
         "remote_group_id": "default-group" if direction == "ingress" else None}
        for direction in ("ingress", "egress") for ethertype in ("IPv4", "IPv6")]}
    sends_only = {"id": "sends-only", "security_group_rules": [  # a group with Neutron's two egress rules
        rule for rule in group["security_group_rules"] if rule["direction"] == "egress"]}
    ports = [{"id": guest.port_id, "mac_address": guest.mac, "fixed_ips": [{"ip_address": guest.ip}],
              "allowed_address_pairs": [], "port_security_enabled": True,
              "security_groups": [sends_only["id"] if guest is other else group["id"]]}
             for guest in (member, other, target)]
    members = specs.group_members(ports)
    for guest, port in zip((member, other, target), ports):
        groups = {group["id"]: group, sends_only["id"]: sends_only}
        driver.firewall.set(specs.port_filter(port, groups, members), guest.vif)
    assert member.ping(target.ip) is not None
    assert other.ping(target.ip, within=0.5) is None


@pytest.mark.skipif(not (has("unshare") and has("dnsmasq")), reason="needs unshare (util-linux) and dnsmasq")
def test_a_qemu_guest_gets_dhcp_and_only_what_its_rules_allow(tmp_path):
    """The test guest booted on a filtered port, in a network namespace of its own (see
    ``linux_qemu_guest``): DHCP with only an egress rule, ping and HTTP each only with
    its rule, the first reply within a second of the rule."""
    import testguest

    guest_dir = testguest.build()
    tests = Path(__file__).resolve().parents[1]
    done = subprocess.run(["unshare", "--mount", "--net", "sh", "-c", 'mount -t sysfs sysfs /sys && exec "$@"', "sh",
                           sys.executable, str(tests / "contract" / "linux_qemu_guest.py"), str(tmp_path),
                           str(guest_dir)], capture_output=True, text=True, timeout=400,
                          env={**os.environ, "PYTHONPATH": f"{tests}:{tests.parent}"})
    assert done.returncode == 0 and "qemu-guest-ok" in done.stdout, done.stderr[-3000:]
