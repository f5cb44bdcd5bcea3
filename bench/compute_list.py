"""`openstack server list --long` for bench/compute.py: fill the project, then time the listing.

``fill`` tops the project up to ``total`` servers with multi-create POSTs (max_count=``batch``,
a few in flight), then waits until none is in BUILD. ``measure_listing`` times
GET /servers/detail?limit=1000 (what one page of `server list --long` costs), and the whole
listing a client gets by following the ``next`` links, with server CPU from /proc.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import loadgen
import procs
from compute_cloud import COMPUTE, HOST, Cloud


def fill(cloud: Cloud, total: int, batch: int, concurrency: int, image: str, flavor: str,
         timeout: float = 1800.0) -> dict:
    have = cloud.count("")
    missing = max(0, total - have)
    sizes = [batch] * (missing // batch) + ([missing % batch] if missing % batch else [])
    raws = [cloud.raw("POST", f"{COMPUTE}/servers",
                      {"server": {"name": f"fill-{i:03d}", "imageRef": image, "flavorRef": flavor, "networks": "none",
                                  "min_count": n, "max_count": n}}, version="2.37")
            for i, n in enumerate(sizes)]
    cpu0, t0 = cloud.server.cpu_seconds(), time.perf_counter()
    posted = loadgen.run_each(HOST, cloud.port, raws, concurrency, expect=202, timeout=timeout)
    t_posted = time.perf_counter() - t0
    if posted.errors:
        raise RuntimeError(f"fill: {posted.errors} multi-create POSTs failed: {posted.statuses}")
    settle = cloud.wait_settled(timeout, interval=1.0)
    wall = time.perf_counter() - t0
    cpu = cloud.server.cpu_seconds() - cpu0
    now = cloud.count("")
    errors = cloud.count("status=ERROR")
    if now < total:
        raise RuntimeError(f"fill: the project has {now} servers, wanted {total}")
    return {"had": have, "created": missing, "requests": len(sizes), "batch": batch, "concurrency": concurrency,
            "post_p50_s": loadgen.percentile(posted.latencies, 50),
            "post_max_s": loadgen.percentile(posted.latencies, 100),
            "posted_s": t_posted, "all_settled_s": wall, "settle_after_posts_s": settle,
            "servers_per_s": missing / wall if wall else 0.0, "server_cpu_ms_each": cpu / max(missing, 1) * 1000,
            "total": now, "error_servers": errors}


def _get(cloud: Cloud, path: str, version: str | None) -> tuple[float, bytes]:
    import http.client as httpclient

    conn = cloud.conn or httpclient.HTTPConnection(HOST, cloud.port, timeout=600)
    cloud.conn = conn
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Accept": "application/json", **cloud.headers(version)})
    resp = conn.getresponse()
    data = resp.read()
    wall = time.perf_counter() - t0
    if resp.status != 200:
        raise RuntimeError(f"GET {path} answered {resp.status}: {data[:300]!r}")
    return wall, data


def _summary(walls: list[float], cpus: list[float]) -> dict:
    return {"p50_ms": statistics.median(walls) * 1000, "p90_ms": loadgen.percentile(walls, 90) * 1000,
            "min_ms": min(walls) * 1000, "max_ms": max(walls) * 1000, "runs_ms": [round(w * 1000, 1) for w in walls],
            "server_cpu_ms": statistics.fmean(cpus) * 1000}


def gc_pauses(gc_log: Path | None, start: float, end: float) -> list[float]:
    """Milliseconds of each full collection the GC probe logged between unix times ``start`` and ``end``."""
    if gc_log is None or not gc_log.exists():
        return []
    out = []
    for line in gc_log.read_text().splitlines():
        when, ms, _ = line.split()
        if start <= float(when) <= end:
            out.append(float(ms))
    return out


def measure_listing(cloud: Cloud, reps: int, version: str | None, all_pages_reps: int,
                    gc_log: Path | None = None) -> dict:
    path = f"{COMPUTE}/servers/detail?limit=1000"
    for _ in range(2):  # warm-up
        _get(cloud, path, version)
    walls, cpus, size, count, pauses = [], [], 0, 0, []
    busy0, client0, t_all = procs.machine_busy_seconds(), time.process_time(), time.perf_counter()
    for _ in range(reps):
        c0, u0 = cloud.server.cpu_seconds(), time.time()
        wall, data = _get(cloud, path, version)
        cpus.append(cloud.server.cpu_seconds() - c0)
        walls.append(wall)
        pauses.append(gc_pauses(gc_log, u0, time.time()))
        size, count = len(data), len(json.loads(data)["servers"])
    others = procs.machine_busy_seconds() - busy0 - sum(cpus) - (time.process_time() - client0)
    one_page = {**_summary(walls, cpus), "servers": count, "bytes": size,
                "other_cores": max(0.0, others / (time.perf_counter() - t_all))}
    out = {"version": version or "2.1 (none sent)", "one_page": one_page}
    if gc_log is not None:
        clean = [w for w, p in zip(walls, pauses) if not p]
        out["one_page"]["gc"] = {"listings_with_full_gc": sum(1 for p in pauses if p),
                                 "full_gc_ms": [round(sum(p), 1) for p in pauses],
                                 "p50_ms_without_full_gc": statistics.median(clean) * 1000 if clean else None}
    walls, cpus = [], []
    for _ in range(all_pages_reps):
        c0, t0 = cloud.server.cpu_seconds(), time.perf_counter()
        next_path, pages, listed = path, 0, 0
        while next_path:
            _, data = _get(cloud, next_path, version)
            body = json.loads(data)
            pages, listed = pages + 1, listed + len(body["servers"])
            links = [link["href"] for link in body.get("servers_links", []) if link["rel"] == "next"]
            next_path = links[0].split(f":{cloud.port}", 1)[1] if links else None
        walls.append(time.perf_counter() - t0)
        cpus.append(cloud.server.cpu_seconds() - c0)
    if all_pages_reps:
        out["all_pages"] = {**_summary(walls, cpus), "pages": pages, "servers": listed}
    return out
