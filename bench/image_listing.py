"""Image listing for bench/image.py: create the images to list, then time listing them.

``create_images`` makes ``count`` images with loadgen (``concurrency`` at a time), making up
any failed creations one by one; ``measure_listing`` times one request with a limit and
paging at the default page size, interleaved between the servers.
"""

from __future__ import annotations

import json
import statistics
import time

import loadgen
from image_servers import HOST, Target


def create_images(target: Target, count: int, concurrency: int) -> dict:
    raws = []
    headers = {"Content-Type": "application/json", **target.headers}
    for i in range(count):
        body = json.dumps({"name": f"bench-list-{i:05d}", "disk_format": "raw", "container_format": "bare",
                           "tags": ["bench"], "bench_index": str(i)}).encode()
        raws.append(loadgen.build_request("POST", HOST, target.port, target.prefix + "/v2/images", headers, body))
    cpu0 = target.server.cpu_seconds()
    result = loadgen.run_each(HOST, target.port, raws, concurrency, expect=201)
    cpu = target.server.cpu_seconds() - cpu0
    # Glance on SQLite answers some concurrent writes with 500 (database is locked): make up the
    # difference one at a time, so both servers list exactly ``count`` images; the failures are reported
    made = sum(len(page) for page in _pages(target))
    extra = 0
    while made < count:
        target.create_image(f"bench-list-retry-{extra:05d}")
        made, extra = made + 1, extra + 1
    if made > count:  # a failed create that still left a row behind
        for page in _pages(target):
            for image in page[: made - count]:
                target.delete_image(image["id"])
                made -= 1
            if made == count:
                break
    return {"count": count, "concurrency": concurrency, "elapsed_s": result.elapsed, "per_s": count / result.elapsed,
            "server_cpu_ms_each": cpu / count * 1000, "p50_ms": loadgen.percentile(result.latencies, 50) * 1000,
            "client_cpu_s": result.client_cpu, "connects": result.connects, "failed": result.errors,
            "statuses": result.statuses, "made_up_one_by_one": extra}


def _pages(target: Target):
    """All images, 1000 at a time."""
    path = "/v2/images?limit=1000"
    while path:
        body = target.call("GET", path)
        yield body["images"]
        path = body.get("next")


def list_once(target: Target, limit: int | None) -> dict:
    """One listing: a single request with ``limit``, or (None) default-size pages following ``next``."""
    t0 = time.perf_counter()
    bodies, path = [], "/v2/images" + (f"?limit={limit}" if limit else "")
    while path:
        status, _, data = target.raw_call("GET", path)
        if status != 200:
            raise RuntimeError(f"{target.name}: GET {path} answered {status}: {data[:300]!r}")
        bodies.append(data)
        if limit:
            break
        nxt = json.loads(data).get("next")  # part of the paging a client does, so inside the timing
        path = nxt
    wall = time.perf_counter() - t0
    images = sum(len(json.loads(b)["images"]) for b in bodies)
    return {"wall_s": wall, "requests": len(bodies), "images": images, "bytes": sum(len(b) for b in bodies)}


def measure_listing(targets: list[Target], count: int, reps: int) -> dict:
    out = {t.name: {"single": [], "paged": []} for t in targets}
    cpu = {t.name: {"single": 0.0, "paged": 0.0} for t in targets}
    for t in targets:  # warm-up
        list_once(t, count)
        list_once(t, None)
    for rep in range(reps):
        order = targets if rep % 2 == 0 else targets[::-1]
        for t in order:
            for kind, limit in (("single", count), ("paged", None)):
                c0 = t.server.cpu_seconds()
                r = list_once(t, limit)
                cpu[t.name][kind] += t.server.cpu_seconds() - c0
                if r["images"] < count:
                    raise RuntimeError(f"{t.name}: listing found {r['images']} images, expected {count}")
                out[t.name][kind].append(r)
    summary = {}
    for t in targets:
        summary[t.name] = {}
        for kind, runs in out[t.name].items():
            summary[t.name][kind] = {
                "median_ms": statistics.median(r["wall_s"] for r in runs) * 1000,
                "runs_ms": [round(r["wall_s"] * 1000, 2) for r in runs],
                "requests": runs[0]["requests"], "images": runs[0]["images"], "bytes": runs[0]["bytes"],
                "server_cpu_ms": cpu[t.name][kind] / len(runs) * 1000,
            }
    return summary

