"""Listing one big container for bench/objectstore.py: fill it with ``count`` objects, then time
``GET <container>?format=json&limit=<count>``.

The fill PUTs empty objects with loadgen, ``concurrency`` at a time. Swift's object server
updates the container synchronously but, when that times out, queues the update for an
updater this deployment does not run; so the fill then lists the container and PUTs
again, one at a time, whatever is missing, until every name is listed on both servers.
"""

from __future__ import annotations

import json
import statistics
import time

import loadgen
from identity import HOST
from objectstore_servers import Target

CONTAINER = "bench-list"


def _name(i: int) -> str:
    return f"obj-{i:06d}"


def listed_names(t: Target, limit: int) -> list[str]:
    names, marker = [], ""
    while True:
        _, data = t.call("GET", f"/{CONTAINER}?format=json&limit={limit}{marker}")
        page = [row["name"] for row in json.loads(data)]
        names += page
        if len(page) < limit:
            return names
        marker = f"&marker={page[-1]}"


def fill(t: Target, count: int, concurrency: int) -> dict:
    t.create_container(CONTAINER)
    headers = {"Content-Type": "text/plain"}
    raws = [t.request("PUT", f"/{CONTAINER}/{_name(i)}", b"", headers) for i in range(count)]
    cpu0 = t.server.cpu_seconds()
    result = loadgen.run_each(HOST, t.port, raws, concurrency, expect=201)
    cpu = t.server.cpu_seconds() - cpu0
    redone = 0
    for _ in range(5):
        missing = sorted({_name(i) for i in range(count)} - set(listed_names(t, count)))
        if not missing:
            break
        for name in missing:
            t.call("PUT", f"/{CONTAINER}/{name}", b"", headers, expect=(201,))
        redone += len(missing)
    else:
        raise RuntimeError(f"{t.name}: {len(missing)} objects still missing from the listing")
    return {"count": count, "concurrency": concurrency, "elapsed_s": result.elapsed,
            "per_s": len(result.latencies) / result.elapsed if result.elapsed else 0.0,
            "server_cpu_ms_each": cpu / count * 1000, "p50_ms": loadgen.percentile(result.latencies, 50) * 1000,
            "failed": result.errors, "statuses": result.statuses, "redone_one_by_one": redone}


def list_once(t: Target, count: int) -> dict:
    c0, t0 = t.server.cpu_seconds(), time.perf_counter()
    status, _, data = t.raw_call("GET", f"/{CONTAINER}?format=json&limit={count}")
    wall = time.perf_counter() - t0
    cpu = t.server.cpu_seconds() - c0
    if status != 200:
        raise RuntimeError(f"{t.name}: listing answered {status}: {data[:300]!r}")
    rows = json.loads(data)
    if len(rows) != count:
        raise RuntimeError(f"{t.name}: listing returned {len(rows)} objects, expected {count}")
    return {"wall_s": wall, "server_cpu_s": cpu, "bytes": len(data), "objects": len(rows)}


def measure_listing(targets: list[Target], count: int, reps: int, warmup: int = 2) -> dict:
    runs: dict[str, list[dict]] = {t.name: [] for t in targets}
    for t in targets:
        for _ in range(warmup):
            list_once(t, count)
    for rep in range(reps):
        for t in (targets if rep % 2 == 0 else targets[::-1]):
            runs[t.name].append(list_once(t, count))
    med = statistics.median
    return {t.name: {"p50_ms": med(r["wall_s"] for r in runs[t.name]) * 1000,
                     "runs_ms": [round(r["wall_s"] * 1000, 1) for r in runs[t.name]],
                     "server_cpu_ms": med(r["server_cpu_s"] for r in runs[t.name]) * 1000,
                     "bytes": runs[t.name][0]["bytes"], "objects": count} for t in targets}
