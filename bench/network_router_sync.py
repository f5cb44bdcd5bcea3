"""Linux router sync benchmark: how long ``sync_router`` takes with port forwardings and an
IPv6 leg advertising its prefix (root).

    .venv/bin/python bench/network_router_sync.py [--forwardings 0,50,200] [--rounds 5]

For each count: a router (random prefix and mapped bridge, addresses in 10.250.x.0/24 and
fd.. prefixes no host route covers) with one IPv4 leg, one SLAAC IPv6 leg and a gateway;
times its first sync (namespace, legs, tables, the RA daemon), ``--rounds`` syncs of the
same spec (nothing changes), and ``--rounds`` syncs that move one forwarding (the tables
rewritten). Prints medians; removes everything it made.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from overcast.network.drivers import ForwardingSpec, RouterLeg, RouterSpec, Segment, make_driver  # noqa: E402


def spec_with(count: int, shift: int, legs: list[RouterLeg], gateway: RouterLeg, router_id: str) -> RouterSpec:
    forwardings = [ForwardingSpec("10.250.1.20", "tcp", 1000 + n, f"10.250.2.{5 + (n + shift) % 200}", 80)
                   for n in range(count)]
    return RouterSpec(id=router_id, legs=legs, gateway=gateway, gateway_ip="10.250.1.1", port_forwardings=forwardings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forwardings", default="0,50,200")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as state:
        driver = make_driver("linux", state_dir=state, prefix=f"b{tag}", bridge_mappings=f"public:brb{tag}")
        driver.init_host("bench")
        try:
            print(f"{'forwardings':>11} {'first sync':>11} {'same again':>11} {'one moved':>10}")
            for count in (int(n) for n in args.forwardings.split(",")):
                tenant, outside = Segment(str(uuid.uuid4())), Segment(str(uuid.uuid4()), "flat",
                                                                     physical_network="public")
                port = str(uuid.uuid4())
                legs = [RouterLeg(port, "fa:16:3e:00:09:01", tenant, "s4", "10.250.2.1", "10.250.2.0/24"),
                        RouterLeg(port, "fa:16:3e:00:09:01", tenant, "s6", f"fd{tag[:2]}:{tag[2:]}::1",
                                  f"fd{tag[:2]}:{tag[2:]}::/64", "slaac")]
                gateway = RouterLeg(str(uuid.uuid4()), "fa:16:3e:00:09:02", outside, "sx", "10.250.1.10",
                                    "10.250.1.0/24")
                router_id = str(uuid.uuid4())
                start = time.perf_counter()
                driver.sync_router(spec_with(count, 0, legs, gateway, router_id))
                first = time.perf_counter() - start
                same, moved = [], []
                for n in range(args.rounds):
                    start = time.perf_counter()
                    driver.sync_router(spec_with(count, n, legs, gateway, router_id))
                    same.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    driver.sync_router(spec_with(count, n + 1, legs, gateway, router_id))
                    moved.append(time.perf_counter() - start)
                driver.remove_router(router_id)
                print(f"{count:>11} {first * 1000:>9.0f}ms {statistics.median(same) * 1000:>9.0f}ms "
                      f"{statistics.median(moved) * 1000:>8.0f}ms")
        finally:
            for router_id in driver.list_routers():
                driver.remove_router(router_id)
            driver.firewall.clear()
            driver.host.run("ip", "link", "del", f"brb{tag}", check=False)


if __name__ == "__main__":
    main()
