"""Boots for bench/compute.py: create-to-ACTIVE latency.

``boot_latency`` boots ``count`` servers, ``concurrency`` at a time: each worker POSTs one
server, then GETs it every ``poll`` seconds until its status is no longer BUILD. POST latency
is the POST's own round trip; ACTIVE latency runs from sending the POST to the answer of
the first GET that shows ACTIVE (so it includes the POST and the last GET). Workers keep
one connection each (loadgen's raw client, so the client costs little CPU).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import loadgen
import procs
from compute_cloud import COMPUTE, HOST, Cloud


def _boot_body(name: str, image: str, flavor: str, count: int = 1) -> dict:
    body = {"server": {"name": name, "imageRef": image, "flavorRef": flavor, "networks": "none"}}
    if count > 1:
        body["server"].update(min_count=1, max_count=count)
    return body


async def _boot_one(conn: loadgen.Connection, cloud: Cloud, post: bytes, poll: float, timeout: float) -> dict:
    clock = time.perf_counter
    t0 = clock()
    status, body = await conn.fetch(post)
    t_post = clock()
    if status != 202:
        return {"error": f"POST {status}: {body[:200]!r}", "post_s": t_post - t0}
    uuid = json.loads(body)["server"]["id"]
    get = cloud.raw("GET", f"{COMPUTE}/servers/{uuid}")
    polls = 0
    while True:
        status, body = await conn.fetch(get)
        polls += 1
        now = clock()
        server = json.loads(body)["server"] if status == 200 else {}
        state = server.get("status", f"HTTP {status}")
        if state != "BUILD":
            out = {"uuid": uuid, "post_s": t_post - t0, "active_s": now - t0, "status": state, "polls": polls}
            if state == "ERROR":
                out["fault"] = (server.get("fault") or {}).get("message", "")
            return out
        if now - t0 > timeout:
            return {"uuid": uuid, "post_s": t_post - t0, "error": f"still BUILD after {timeout:.0f}s", "polls": polls}
        await asyncio.sleep(poll)


async def _boot_many(cloud: Cloud, count: int, concurrency: int, image: str, flavor: str, poll: float,
                     prefix: str, timeout: float) -> list[dict]:
    todo = iter(range(count))
    results: list[dict] = []

    async def worker() -> None:
        conn = loadgen.Connection(HOST, cloud.port)
        try:
            for i in todo:
                post = cloud.raw("POST", f"{COMPUTE}/servers", _boot_body(f"{prefix}-{i:04d}", image, flavor),
                                 version="2.37")
                results.append(await _boot_one(conn, cloud, post, poll, timeout))
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    return results


def _ms(values: list[float], q: float) -> float:
    return loadgen.percentile(values, q) * 1000


def boot_latency(cloud: Cloud, count: int, concurrency: int, image: str, flavor: str, poll: float,
                 prefix: str, timeout: float = 120.0) -> dict:
    cpu0, cpu_client0, t0 = cloud.server.cpu_seconds(), time.process_time(), time.perf_counter()
    busy0 = procs.machine_busy_seconds()
    results = asyncio.run(_boot_many(cloud, count, concurrency, image, flavor, poll, prefix, timeout))
    wall = time.perf_counter() - t0
    server_cpu, client_cpu = cloud.server.cpu_seconds() - cpu0, time.process_time() - cpu_client0
    others = procs.machine_busy_seconds() - busy0 - server_cpu - client_cpu
    ok = [r for r in results if r.get("status") == "ACTIVE"]
    post = [r["post_s"] for r in results if "post_s" in r]
    active = [r["active_s"] for r in ok]
    polls = [r["polls"] for r in results if "polls" in r]
    return {
        "count": count, "concurrency": concurrency, "poll_ms": poll * 1000, "wall_s": wall,
        "boots_per_s": len(ok) / wall if wall else 0.0, "active": len(ok),
        "outcomes": dict(Counter(r.get("status", "error") for r in results)),
        "errors": [r.get("error") or r.get("fault") for r in results if r.get("status") != "ACTIVE"][:5],
        "post_p50_ms": _ms(post, 50), "post_p99_ms": _ms(post, 99), "post_max_ms": _ms(post, 100),
        "active_p50_ms": _ms(active, 50), "active_p99_ms": _ms(active, 99), "active_max_ms": _ms(active, 100),
        "polls_mean": sum(polls) / len(polls) if polls else 0.0,
        "server_cpu_ms_per_boot": server_cpu / count * 1000, "server_cores": server_cpu / wall if wall else 0.0,
        "client_cpu_ms_per_boot": client_cpu / count * 1000,
        "other_cores": max(0.0, others / wall) if wall else 0.0,  # CPU the rest of the machine used meanwhile
    }


def request_cpu(cloud: Cloud, raw: bytes, seconds: float = 2.0) -> dict:
    """One request driven alone (concurrency 1) for ``seconds``: p50 latency and server CPU per request."""
    c0 = cloud.server.cpu_seconds()
    result = loadgen.run(HOST, cloud.port, raw, 1, seconds)
    cpu = cloud.server.cpu_seconds() - c0
    return {"p50_ms": _ms(result.latencies, 50), "server_cpu_ms": cpu / max(result.requests, 1) * 1000,
            "requests": result.requests, "statuses": result.statuses}
