"""The network agent's CPU per port event as a network fills (no cloud, no HTTP).

    .venv/bin/python bench/network_agent.py [--ports 10,2000,10000] [--events 30]

For each size: one network with a /16 and that many ports bound to another host, kept in
memory in the shape the network service returns them (read by id through a dict, so the
source costs the same at every size); the agent (fake driver, this host serving the
network's DHCP) re-syncs, then hears one ``port_update`` per new port, ``--events`` times.
Prints the CPU time (``time.process_time``) per event, p50 and p90: it should not grow
with the ports (before the agent kept reservations per network it was 1.2 ms at 10
ports and 48 ms at 10,000). The Linux driver's own work (dnsmasq's hosts file, rewritten
whole as Neutron's DHCP agent does) is not in it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from overcast.network.agent import NetworkAgent  # noqa: E402
from overcast.network.agent_specs import narrow  # noqa: E402
from overcast.network.drivers.fake import FakeNetworkDriver  # noqa: E402

HOST = "bench-host"


class MemorySource:
    """The agent's reads and writes over dicts (what ServiceSource answers)."""

    def __init__(self):
        self.network = {"id": str(uuid.uuid4()), "project_id": "bench", "provider:network_type": "vxlan",
                        "provider:segmentation_id": 7, "provider:physical_network": None, "mtu": 1450}
        self.subnet = {"id": str(uuid.uuid4()), "network_id": self.network["id"], "cidr": "10.128.0.0/16",
                       "ip_version": 4, "gateway_ip": "10.128.0.1", "enable_dhcp": True}
        self.by_id: dict[str, dict] = {}

    def add(self, number: int, **values) -> dict:
        port = {"id": str(uuid.uuid4()), "network_id": self.network["id"], "mac_address":
                f"fa:16:3e:{number >> 16 & 255:02x}:{number >> 8 & 255:02x}:{number & 255:02x}",
                "device_owner": "compute:nova", "device_id": "", "binding:host_id": "elsewhere",
                "security_groups": [], "allowed_address_pairs": [], "status": "DOWN",
                "fixed_ips": [{"subnet_id": self.subnet["id"],
                               "ip_address": f"10.128.{(number + 2) >> 8 & 255}.{(number + 2) & 255}"}], **values}
        self.by_id[port["id"]] = port
        return port

    def ports(self, **filters):
        if list(filters) == ["id"]:
            return [dict(self.by_id[i]) for i in filters["id"] if i in self.by_id]
        return [dict(p) for p in narrow(list(self.by_id.values()), {k: list(v) for k, v in filters.items()})]

    def networks(self, **filters):
        return narrow([self.network], filters)

    def subnets(self, **filters):
        return narrow([self.subnet], filters)

    def create_port(self, values):
        return self.add(len(self.by_id) + 60000, **{k: v for k, v in values.items() if k != "fixed_ips"})

    def port_status(self, port_id, status):
        self.by_id[port_id]["status"] = status

    def security_groups(self):
        return []

    def routers(self, **filters):
        return []

    def floatingips(self, **filters):
        return []

    def dhcp_choice(self, network_id, host):
        return True

    def agent_sync(self, host):
        return {"networks": [self.network["id"]], "routers": []}


def per_event(ports: int, events: int) -> list[float]:
    source = MemorySource()
    for number in range(ports):
        source.add(number)
    agent = NetworkAgent(None, FakeNetworkDriver(), HOST, source)
    asyncio.run(agent.resync())
    times = []
    for number in range(ports, ports + events):
        port = source.add(number)
        began = time.process_time()
        asyncio.run(agent.on_port_update({"port_id": port["id"]}))
        times.append(time.process_time() - began)
    return sorted(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ports", default="10,2000,10000")
    parser.add_argument("--events", type=int, default=30)
    args = parser.parse_args(argv)
    print(f"{'ports':>7} {'CPU/event p50':>14} {'p90':>8}")
    for ports in (int(n) for n in args.ports.split(",")):
        times = per_event(ports, args.events)
        p50, p90 = times[len(times) // 2], times[int(len(times) * 0.9)]
        print(f"{ports:7d} {p50 * 1000:11.2f} ms {p90 * 1000:5.2f} ms", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
