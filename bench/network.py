"""Network benchmark: ports and IPAM, on a private `overcast up` (and in-process).

    .venv/bin/python bench/network.py [--quick] [--ports 10000] [--pairs 300] [--concurrency 1,16]
                                      [--database-url postgresql://...]

Starts overcast on a temp data dir and a free loopback port, lifts the admin project's
port quota, makes a network with a /16 subnet, then measures:

1. port churn: POST a port then DELETE it, ``--pairs`` times at each concurrency (1 and
   16); create and delete latencies (p50/p99), pairs per second, server CPU per pair;
2. allocation as the subnet fills: POST latency of the 10th port (p50 of 20, each deleted
   again) and of the 10,000th, the subnet filled in between by bulk POSTs of 500 ports
   (target: the 10,000th within 1.5x the 10th, i.e. no scan of the allocations), each
   once the server is idle again; and the 10,000th right after the fill, while the network
   agent still works through the fill's 10,000 port events;
3. the same in-process, without HTTP: ``Ipam.allocate`` alone (its own transaction, on a
   SQLite file) at the 10th and at the 10,000th address, p50 of 200.

Prints a table and writes bench/results/network-<time>.json (and network-latest.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import procs  # noqa: E402
from compute_cloud import HOST, start_cloud  # noqa: E402
from identity import RESULTS, log, save_results  # noqa: E402

NET = "/network/v2.0"


def _ms(values: list[float], q: float) -> float:
    return loadgen.percentile(values, q) * 1000 if values else 0.0


async def _churn(cloud, network_id: str, pairs: int, concurrency: int) -> dict:
    todo = iter(range(pairs))
    creates: list[float] = []
    deletes: list[float] = []
    errors: list[str] = []
    post = cloud.raw("POST", f"{NET}/ports", {"port": {"network_id": network_id}})

    async def worker() -> None:
        conn = loadgen.Connection(HOST, cloud.port)
        try:
            for _ in todo:
                t0 = time.perf_counter()
                status, body = await conn.fetch(post)
                t1 = time.perf_counter()
                if status != 201:
                    errors.append(f"POST {status}: {body[:200]!r}")
                    continue
                creates.append(t1 - t0)
                port_id = json.loads(body)["port"]["id"]
                status, body = await conn.fetch(cloud.raw("DELETE", f"{NET}/ports/{port_id}"))
                deletes.append(time.perf_counter() - t1)
                if status != 204:
                    errors.append(f"DELETE {status}: {body[:200]!r}")
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"creates": creates, "deletes": deletes, "errors": errors}


def churn(cloud, network_id: str, pairs: int, concurrency: int) -> dict:
    cpu0, t0, busy0 = cloud.server.cpu_seconds(), time.perf_counter(), procs.machine_busy_seconds()
    out = asyncio.run(_churn(cloud, network_id, pairs, concurrency))
    wall = time.perf_counter() - t0
    cpu = cloud.server.cpu_seconds() - cpu0
    done = len(out["deletes"])
    return {"concurrency": concurrency, "pairs": done, "wall_s": wall, "pairs_per_s": done / wall,
            "create_p50_ms": _ms(out["creates"], 50), "create_p99_ms": _ms(out["creates"], 99),
            "delete_p50_ms": _ms(out["deletes"], 50), "delete_p99_ms": _ms(out["deletes"], 99),
            "server_cpu_ms_per_pair": cpu / max(done, 1) * 1000,
            "other_cores": max(0.0, (procs.machine_busy_seconds() - busy0 - cpu) / wall),
            "errors": out["errors"][:5], "error_count": len(out["errors"])}


def nth_port_latency(cloud, network_id: str, reps: int = 20) -> dict:
    """POST one more port ``reps`` times (each deleted again): the next port's latency."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        port = cloud.call("POST", f"{NET}/ports", {"port": {"network_id": network_id}}, expect=(201,))["port"]
        times.append(time.perf_counter() - t0)
        cloud.call("DELETE", f"{NET}/ports/{port['id']}", expect=(204,))
    return {"p50_ms": _ms(times, 50), "p90_ms": _ms(times, 90), "reps": reps}


def settle(cloud, quiet: float = 0.1, timeout: float = 120.0) -> float:
    """Wait until the server has used less than ``quiet`` of a core over a second (its
    network agent done with the events of a fill); seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        cpu0 = cloud.server.cpu_seconds()
        time.sleep(1.0)
        if cloud.server.cpu_seconds() - cpu0 < quiet:
            break
    return time.perf_counter() - t0


def fill(cloud, network_id: str, count: int, batch: int = 500) -> float:
    t0 = time.perf_counter()
    while count > 0:
        size = min(batch, count)
        cloud.call("POST", f"{NET}/ports", {"ports": [{"network_id": network_id}] * size}, expect=(201,))
        count -= size
    return time.perf_counter() - t0


def in_process(ports: int, reps: int) -> dict:
    """``Ipam.allocate`` alone at the 10th and the ``ports``-th address of a /16."""
    from overcast.common.config import Config
    from overcast.common.db import Database
    from overcast.common.db.migrate import upgrade
    from overcast.network.models import IPAllocation, Port, Subnet
    from overcast.network.service import NetworkService
    from overcast.network.service.ipam import ip_key

    work = Path(tempfile.mkdtemp(prefix="bench-ipam-"))
    db = Database(f"sqlite:///{work / 'ipam.db'}")
    upgrade(db)
    service = NetworkService(Config(), db)

    class Ctx:
        is_admin, project_id = True, "bench"

    net = service.networks.create(Ctx, [{"name": "n", "project_id": "bench"}])[0]
    subnet = service.subnets.create(Ctx, [{"network_id": net["id"], "ip_version": 4, "cidr": "10.128.0.0/16",
                                           "project_id": "bench"}])[0]
    with db.session() as session:
        holder = Port(network_id=net["id"], project_id="bench", mac_address="fa:16:3e:00:00:01")
        session.add(holder)
    figures = {}
    for label, taken in (("10th", 9), (f"{ports}th", ports - 1)):
        with db.session() as session:
            have = session.query(IPAllocation).count()
            rows = []
            for n in range(have, taken):
                address = f"10.128.{(n + 2) // 256}.{(n + 2) % 256}"
                rows.append(IPAllocation(subnet_id=subnet["id"], ip_key=ip_key(address), ip_address=address,
                                         network_id=net["id"], port_id=holder.id))
            session.add_all(rows)
            session.get(Subnet, subnet["id"]).next_ip_key = ""  # worst case: scan from the pool's start
        times = []
        for _ in range(reps):
            with db.session() as session:
                row = session.get(Subnet, subnet["id"])
                t0 = time.perf_counter()
                address = service.ipam.allocate(session, row, holder.id)
                times.append(time.perf_counter() - t0)
                service.ipam.release_address(session, subnet["id"], address)
        figures[label] = {"p50_ms": _ms(times, 50), "p90_ms": _ms(times, 90), "allocated": taken}
    with db.session() as session:  # the common case: the cursor just past the last address
        row = session.get(Subnet, subnet["id"])
        row.next_ip_key = f"{int(ip_key(f'10.128.{(ports + 1) // 256}.{(ports + 1) % 256}'), 16):032x}"
    times = []
    for _ in range(reps):
        with db.session() as session:
            row = session.get(Subnet, subnet["id"])
            t0 = time.perf_counter()
            address = service.ipam.allocate(session, row, holder.id)
            times.append(time.perf_counter() - t0)
            service.ipam.release_address(session, subnet["id"], address)
    figures[f"{ports}th_with_cursor"] = {"p50_ms": _ms(times, 50), "p90_ms": _ms(times, 90)}
    db.close()
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: 60 pairs, 2,000 ports")
    parser.add_argument("--ports", type=int, default=None, help="ports in the subnet at the end (default 10000)")
    parser.add_argument("--pairs", type=int, default=None, help="create+delete pairs per concurrency (default 300)")
    parser.add_argument("--concurrency", default="1,16")
    parser.add_argument("--database-url", default=None,
                        help="the cloud's database (default: SQLite in its data dir), e.g. postgresql://...")
    args = parser.parse_args(argv)
    ports = args.ports or (2000 if args.quick else 10000)
    pairs = args.pairs or (60 if args.quick else 300)
    began = time.perf_counter()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    logs = RESULTS / f"network-{stamp}"
    logs.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-network-"))
    report: dict = {"ports": ports, "pairs": pairs}
    cloud, report["cloud"] = start_cloud("network", work, logs, {}, database_url=args.database_url)
    report["database"] = (args.database_url or "sqlite").split("://")[0]
    try:
        cloud.call("PUT", f"{NET}/quotas/{cloud.project_id}", {"quota": {"port": -1}})
        net = cloud.call("POST", f"{NET}/networks", {"network": {"name": "bench"}}, expect=(201,))["network"]
        cloud.call("POST", f"{NET}/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                         "cidr": "10.128.0.0/16"}}, expect=(201,))
        report["churn"] = []
        for concurrency in [int(c) for c in args.concurrency.split(",")]:
            log(f"port create+delete, {pairs} pairs at concurrency {concurrency} ...")
            report["churn"].append(churn(cloud, net["id"], pairs, concurrency))
        fill(cloud, net["id"], 9)
        report["tenth_settle_s"] = settle(cloud)
        report["tenth"] = nth_port_latency(cloud, net["id"])
        log(f"filling the /16 to {ports - 1} ports ...")
        report["fill_s"] = fill(cloud, net["id"], ports - 10)
        report["nth_unsettled"] = nth_port_latency(cloud, net["id"])  # the agent still on the fill's events
        report["nth_settle_s"] = settle(cloud)
        report["nth"] = nth_port_latency(cloud, net["id"])
    finally:
        cloud.stop()
    log("IPAM in-process ...")
    report["in_process"] = in_process(ports, 200)
    print_report(report)
    save_results("network", report, stamp, began, logs)
    return 0


def print_report(report: dict) -> None:
    print("\nport create+delete")
    print(f"{'conc':>5} {'pairs/s':>8} {'create p50':>11} {'p99':>8} {'delete p50':>11} {'p99':>8} "
          f"{'cpu/pair':>9} {'errors':>7}")
    for run in report["churn"]:
        print(f"{run['concurrency']:>5} {run['pairs_per_s']:>8.1f} {run['create_p50_ms']:>9.1f}ms "
              f"{run['create_p99_ms']:>6.1f}ms {run['delete_p50_ms']:>9.1f}ms {run['delete_p99_ms']:>6.1f}ms "
              f"{run['server_cpu_ms_per_pair']:>7.1f}ms {run['error_count']:>7}")
    ports = report["ports"]
    print(f"\nport POST in a /16: 10th {report['tenth']['p50_ms']:.1f} ms, {ports}th {report['nth']['p50_ms']:.1f} ms "
          f"(p50 of {report['nth']['reps']}, each once the server is idle; filling took {report['fill_s']:.1f}s)")
    print(f"  right after the fill, while the agent still works through its events: "
          f"{report['nth_unsettled']['p50_ms']:.1f} ms (idle again after {report['nth_settle_s']:.1f}s)")
    ratio = report["nth"]["p50_ms"] / max(report["tenth"]["p50_ms"], 1e-9)
    print(f"target: {ports}th within 1.5x the 10th: {ratio:.2f}x {'MET' if ratio <= 1.5 else 'MISSED'}")
    inner = report["in_process"]
    print("Ipam.allocate alone: " + ", ".join(f"{label} {fig['p50_ms']:.2f} ms" for label, fig in inner.items()))


if __name__ == "__main__":
    sys.exit(main())
