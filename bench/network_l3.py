"""Floating IP benchmark: associate and disassociate latency, on a private `overcast up`.

    .venv/bin/python bench/network_l3.py [--quick] [--fips 200]

Starts overcast on a temp data dir and a free loopback port, makes the seed guide's
external network (172.24.0.0/16 here, so many floating IPs fit), a project network with a
/16 subnet, a router with its gateway on the external network and an interface on the
subnet, ``--fips`` ports and as many floating IPs. Then measures, one request at a time:

1. floating IP allocate (POST) and free (DELETE) latencies, ``--fips`` each;
2. associate (PUT port_id) and disassociate (PUT port_id null) latencies: each floating
   IP to its own port and back, ``--fips`` times each, the router tables getting the
   floating IPs' rows as they go.

Prints a table and writes bench/results/network-l3-<time>.json (and network-l3-latest.json).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
from compute_cloud import start_cloud  # noqa: E402
from identity import RESULTS, log, save_results  # noqa: E402

NET = "/network/v2.0"


def _figures(times: list[float]) -> dict:
    ms = lambda q: loadgen.percentile(times, q) * 1000 if times else 0.0  # noqa: E731
    return {"count": len(times), "p50_ms": ms(50), "p90_ms": ms(90), "p99_ms": ms(99)}


def timed(cloud, method: str, path: str, body=None, expect=(200,)) -> tuple[float, dict]:
    t0 = time.perf_counter()
    answer = cloud.call(method, path, body, expect=expect)
    return time.perf_counter() - t0, answer


def setup(cloud, fips: int) -> dict:
    for resource in ("port", "floatingip", "router"):
        cloud.call("PUT", f"{NET}/quotas/{cloud.project_id}", {"quota": {resource: -1}})
    public = cloud.call("POST", f"{NET}/networks", {"network": {
        "name": "public", "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": "public"}}, expect=(201,))["network"]
    cloud.call("POST", f"{NET}/subnets", {"subnet": {"network_id": public["id"], "ip_version": 4,
                                                     "cidr": "172.24.0.0/16", "enable_dhcp": False}}, expect=(201,))
    net = cloud.call("POST", f"{NET}/networks", {"network": {"name": "bench"}}, expect=(201,))["network"]
    subnet = cloud.call("POST", f"{NET}/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                              "cidr": "10.128.0.0/16"}}, expect=(201,))["subnet"]
    router = cloud.call("POST", f"{NET}/routers", {"router": {
        "name": "bench", "external_gateway_info": {"network_id": public["id"]}}}, expect=(201,))["router"]
    cloud.call("PUT", f"{NET}/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    ports = []
    for start in range(0, fips, 500):
        size = min(500, fips - start)
        ports += cloud.call("POST", f"{NET}/ports", {"ports": [{"network_id": net["id"]}] * size},
                            expect=(201,))["ports"]
    return {"public": public["id"], "router": router["id"], "ports": [port["id"] for port in ports]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: 30 floating IPs")
    parser.add_argument("--fips", type=int, default=None, help="floating IPs and ports (default 200)")
    args = parser.parse_args(argv)
    fips = args.fips or (30 if args.quick else 200)
    began = time.perf_counter()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    logs = RESULTS / f"network-l3-{stamp}"
    logs.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-network-l3-"))
    report: dict = {"fips": fips}
    cloud, report["cloud"] = start_cloud("network-l3", work, logs, {})
    try:
        log(f"setting up: external network, router, {fips} ports ...")
        world = setup(cloud, fips)
        log(f"allocating {fips} floating IPs ...")
        allocate, ids = [], []
        for _ in range(fips):
            took, answer = timed(cloud, "POST", f"{NET}/floatingips",
                                 {"floatingip": {"floating_network_id": world["public"]}}, expect=(201,))
            allocate.append(took)
            ids.append(answer["floatingip"]["id"])
        log("associating and disassociating ...")
        associate, disassociate = [], []
        for fip_id, port_id in zip(ids, world["ports"]):
            took, answer = timed(cloud, "PUT", f"{NET}/floatingips/{fip_id}", {"floatingip": {"port_id": port_id}})
            assert answer["floatingip"]["router_id"] == world["router"], answer
            associate.append(took)
        for fip_id in ids:
            took, _ = timed(cloud, "PUT", f"{NET}/floatingips/{fip_id}", {"floatingip": {"port_id": None}})
            disassociate.append(took)
        free = [timed(cloud, "DELETE", f"{NET}/floatingips/{fip_id}", expect=(204,))[0] for fip_id in ids]
        report.update(allocate=_figures(allocate), associate=_figures(associate),
                      disassociate=_figures(disassociate), free=_figures(free))
    finally:
        cloud.stop()
    print(f"\nfloating IPs ({fips}, one request at a time)")
    print(f"{'operation':>14} {'p50':>9} {'p90':>9} {'p99':>9}")
    for name in ("allocate", "associate", "disassociate", "free"):
        fig = report[name]
        print(f"{name:>14} {fig['p50_ms']:>7.1f}ms {fig['p90_ms']:>7.1f}ms {fig['p99_ms']:>7.1f}ms")
    save_results("network-l3", report, stamp, began, logs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
