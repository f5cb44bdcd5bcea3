"""Linux network driver benchmark: how long security group filters take to apply (root).

    .venv/bin/python bench/network_linux.py [--ports 50] [--rules 10]

Plugs ``--ports`` guest ports (taps) on one network with a random prefix, then times
``set_port_filter`` for each (a filter of ``--rules`` ingress rules, an egress rule and
two addresses), then a second round changing every filter (the usual update), then the
removals. Prints the totals and per-call p50/max; removes everything it made.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from overcast.network.drivers import FilterRule, PortFilter, PortSpec, Segment, make_driver  # noqa: E402


def port_filter(port: PortSpec, rules: int, shift: int) -> PortFilter:
    wanted = [FilterRule("ingress", protocol="tcp", port_range_min=1000 + shift + n, port_range_max=1000 + shift + n,
                         remote_ip_prefixes=(f"10.{n}.0.0/16",)) for n in range(rules)]
    wanted.append(FilterRule("egress"))
    return PortFilter(port_id=port.id, rules=wanted, allowed_addresses=[
        {"ip_address": port.fixed_ips[0]["ip_address"], "mac_address": port.mac}, {"ip_address": "2001:db8::5"}])


def timed(calls) -> list[float]:
    spent = []
    for call in calls:
        start = time.perf_counter()
        call()
        spent.append(time.perf_counter() - start)
    return spent


def show(label: str, spent: list[float]) -> None:
    print(f"{label:<28} total {sum(spent):7.3f} s   p50 {statistics.median(spent) * 1000:6.1f} ms"
          f"   max {max(spent) * 1000:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=50)
    parser.add_argument("--rules", type=int, default=10)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (it makes taps and iptables chains)")
    tag = uuid.uuid4().hex[:6]
    driver = make_driver("linux", state_dir=tempfile.mkdtemp(prefix="bench-fw-"), prefix=f"b{tag}",
                         bridge_mappings=f"public:brb{tag}")
    driver.init_host("bench")
    segment = Segment(network_id=str(uuid.uuid4()), network_type="local")
    ports = [PortSpec(id=str(uuid.uuid4()), segment=segment, mac=f"fa:16:3e:00:{n // 256:02x}:{n % 256:02x}",
                      fixed_ips=[{"subnet_id": "s", "ip_address": f"10.99.{n // 250}.{n % 250 + 2}"}])
             for n in range(args.ports)]
    try:
        for port in ports:
            driver.plug_port(port)
        show(f"set, {args.ports} new filters", timed(
            [lambda p=port: driver.set_port_filter(port_filter(p, args.rules, 0)) for port in ports]))
        show(f"set, {args.ports} changed", timed(
            [lambda p=port: driver.set_port_filter(port_filter(p, args.rules, 1)) for port in ports]))
        show(f"remove, {args.ports} filters", timed(
            [lambda p=port: driver.firewall.remove(p.id) for port in ports]))
    finally:
        for port in ports:
            driver.unplug_port(port.id)
        driver.firewall.clear()
        driver.host.run("ip", "link", "del", f"brb{tag}", check=False)


if __name__ == "__main__":
    main()
