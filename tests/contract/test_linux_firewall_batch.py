"""The Linux driver's ``set_port_filters`` (root): many ports' filters in one transaction,
as the agent applies one rule of a group to all its members. The rules it writes are
the ones ``set`` writes port by port, traffic obeys them, a port not plugged fails the
whole call before anything changes, and 50 ports take well under a second."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest

from contract.test_linux_firewall import (ALL_OUT, ICMP_IN, driver, filter_of, guests, net,  # noqa: F401 - fixtures
                                          saved)
from contract.test_linux_network_driver import linux_driver, missing  # noqa: F401 - the fixture
from overcast.network.drivers import FilterRule, PortFilter, PortSpec, Segment
from overcast.network.drivers.errors import PortNotPlugged

pytestmark = pytest.mark.skipif(bool(missing()), reason=missing() or "runs")


def test_filters_set_together_are_the_ones_set_one_by_one(driver, guests, net):  # noqa: F811
    segment, base = net
    client, first, second = (guests(segment, f"{base}.{n}") for n in (5, 6, 7))
    driver.firewall.set(filter_of(client, [ALL_OUT]), client.vif)
    baseline = saved(driver.host.prefix)
    for server in (first, second):
        driver.firewall.set(filter_of(server, [ALL_OUT, ICMP_IN]), server.vif)
    one_by_one = Counter(saved(driver.host.prefix))
    for server in (first, second):
        driver.firewall.remove(server.port_id)
    assert saved(driver.host.prefix) == baseline

    driver.firewall.set_many([(filter_of(server, [ALL_OUT, ICMP_IN]), server.vif) for server in (first, second)])
    assert Counter(saved(driver.host.prefix)) == one_by_one
    assert client.ping(first.ip) is not None and client.ping(second.ip) is not None
    driver.firewall.set_many([(filter_of(server, [ALL_OUT]), server.vif) for server in (first, second)])
    assert client.ping(first.ip, within=0.5) is None and client.ping(second.ip, within=0.5) is None

    before = saved(driver.host.prefix)
    with pytest.raises(PortNotPlugged):
        driver.firewall.set_many([(filter_of(first, [ALL_OUT, ICMP_IN]), first.vif),
                                  (PortFilter(port_id=str(uuid.uuid4())), None)])
    assert saved(driver.host.prefix) == before  # nothing of the call was applied


def test_one_rule_reaches_fifty_ports_in_well_under_a_second(driver):  # noqa: F811
    segment = Segment(network_id=str(uuid.uuid4()), network_type="local")
    ports = [PortSpec(id=str(uuid.uuid4()), segment=segment, mac=f"fa:16:3e:00:01:{n:02x}",
                      fixed_ips=[{"subnet_id": "s", "ip_address": f"10.98.0.{n + 2}"}]) for n in range(50)]

    def filters(*tcp: int) -> list[PortFilter]:
        rules = [FilterRule("ingress", protocol="tcp", port_range_min=port, port_range_max=port) for port in tcp]
        return [PortFilter(port_id=spec.id, rules=[ALL_OUT, *rules], allowed_addresses=[
            {"ip_address": spec.fixed_ips[0]["ip_address"], "mac_address": spec.mac}]) for spec in ports]
    try:
        for spec in ports:
            driver.plug_port(spec)
        driver.set_port_filters(filters(4000))
        started = time.monotonic()
        driver.set_port_filters(filters(4000, 4001))  # a rule added
        took = time.monotonic() - started
        assert sum("--dport 4001" in line for line in saved(driver.host.prefix)) == 50
        assert took < 1.0, f"50 filters took {took:.2f} s"

        ran, run = [], driver.host.run
        driver.host.run = lambda *args, **options: ran.append(args) or run(*args, **options)
        started = time.monotonic()
        driver.set_port_filters(filters(4000))  # the rule removed: no port has a connection to end
        took = time.monotonic() - started
        driver.host.run = run
        assert sum("--dport 4001" in line for line in saved(driver.host.prefix)) == 0
        assert not [args for args in ran if args[:2] == ("conntrack", "-D")]
        assert took < 1.0, f"50 filters took {took:.2f} s"
    finally:
        for spec in ports:
            driver.unplug_port(spec.id)
