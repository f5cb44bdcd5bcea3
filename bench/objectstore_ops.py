"""Object PUT and GET runs for bench/objectstore.py, driven by loadgen: 4 KiB and 1 MiB objects.

A *cell* is (operation, object size, concurrency), on a container of its own per server.
PUTs write a new object name every request; GETs cycle through ``GET_SET`` objects written
beforehand in the same container. Each run is ``duration`` seconds of closed-loop load,
with the server's CPU (process tree, /proc), the load generator's CPU, and the CPU the rest
of the machine used meanwhile; runs alternate which server goes first.
"""

from __future__ import annotations

import itertools
import os

import identity
import loadgen
import procs
from identity import HOST
from objectstore_servers import Target

KIB, MIB = 1 << 10, 1 << 20
MB = 1e6  # MB/s are 10^6 bytes
GET_SET = 64  # objects each GET cell cycles through


def container_of(size: int, concurrency: int) -> str:
    """PUT and GET of one size and concurrency share a container (the PUTs' names are all new)."""
    return f"bench-{_label(size)}-c{concurrency}"


def _label(size: int) -> str:
    return f"{size // MIB}m" if size >= MIB else f"{size // KIB}k"


def cell_name(op: str, size: int, concurrency: int) -> str:
    return f"{op.lower()}-{_label(size)}-c{concurrency}"


class Cells:
    """The requests of each cell on each server, and the runs' results."""

    def __init__(self, targets: list[Target], sizes: dict[int, list[int]]):
        self.targets, self.sizes = targets, sizes  # {object size: [concurrency, ...]}
        self.bodies = {size: os.urandom(size) for size in sizes}
        self.counter = itertools.count()
        self.runs: dict[str, dict[str, list[dict]]] = {}

    def prepare(self) -> None:
        """Each cell's container, and the objects its GETs read (written one request at a time, checked)."""
        for t in self.targets:
            for size, levels in self.sizes.items():
                for c in levels:
                    container = container_of(size, c)
                    t.create_container(container)
                    raws = [t.request("PUT", f"/{container}/get-{i:04d}", self.bodies[size],
                                      {"Content-Type": "application/octet-stream"}) for i in range(GET_SET)]
                    r = loadgen.run_each(HOST, t.port, raws, 4, expect=201)
                    if r.errors:
                        raise RuntimeError(f"{t.name}: writing {container}'s GET objects: {r.statuses}")

    def put_stream(self, t: Target, size: int, concurrency: int):
        container, body = container_of(size, concurrency), self.bodies[size]
        headers = {"Content-Type": "application/octet-stream"}
        return lambda: t.request("PUT", f"/{container}/put-{next(self.counter):08d}", body, headers)

    def get_stream(self, t: Target, size: int, concurrency: int):
        container = container_of(size, concurrency)
        raws = itertools.cycle([t.request("GET", f"/{container}/get-{i:04d}") for i in range(GET_SET)])
        return lambda: next(raws)

    def run(self, t: Target, op: str, size: int, concurrency: int, duration: float) -> dict:
        stream = (self.put_stream if op == "PUT" else self.get_stream)(t, size, concurrency)
        expect = 201 if op == "PUT" else 200
        r = measure(t, lambda: loadgen.run_stream(HOST, t.port, stream, concurrency, duration, expect))
        if op == "GET" and r["ok"] and r["body_bytes"] != r["ok"] * size:
            raise RuntimeError(f"{t.name}: GETs of {size}-byte objects returned {r['body_bytes']} bytes "
                               f"for {r['ok']} requests")
        r["mbps"] = r["ok"] * size / r["elapsed"] / MB if r["elapsed"] else 0.0
        self.runs.setdefault(cell_name(op, size, concurrency), {}).setdefault(t.name, []).append(r)
        return r

    def run_all(self, duration: float, reps: int, say) -> None:
        """Every cell, ``reps`` runs per server, alternating which server goes first."""
        for size, levels in self.sizes.items():
            for c in levels:
                for op in ("PUT", "GET"):
                    for rep in range(reps):
                        order = self.targets if rep % 2 == 0 else self.targets[::-1]
                        for t in order:
                            r = self.run(t, op, size, c, duration)
                            say(f"  {cell_name(op, size, c):<12} {t.name:<9} {r['rps']:8.1f} ops/s "
                                f"{r['mbps']:8.1f} MB/s  p50 {loadgen.percentile(r['latencies'], 50) * 1000:7.2f} ms  "
                                f"server CPU {r['server_cpu'] / max(r['ok'] + r['errors'], 1) * 1000:.2f} ms/op  "
                                f"errors {r['errors']}  others {r['other_cores']:.2f} cores")

    def summary(self) -> dict:
        out = {}
        for cell, by_server in self.runs.items():
            out[cell] = {}
            for name, runs in by_server.items():
                s = identity.summarize(runs)
                elapsed = sum(r["elapsed"] for r in runs)
                s["mbps"] = sum(r["mbps"] * r["elapsed"] for r in runs) / elapsed if elapsed else 0.0
                s["mbps_runs"] = [round(r["mbps"], 1) for r in runs]
                out[cell][name] = s
        return out


def measure(t: Target, drive) -> dict:
    """Run ``drive()`` (a loadgen call) with the server's CPU and the machine's other load around it."""
    busy0, cpu0 = procs.machine_busy_seconds(), t.server.cpu_seconds()
    result = drive()
    cpu = t.server.cpu_seconds() - cpu0
    other = max(0.0, procs.machine_busy_seconds() - busy0 - cpu - result.client_cpu)
    return {"ok": len(result.latencies), "errors": result.errors, "statuses": result.statuses,
            "elapsed": result.elapsed, "rps": result.rps, "server_cpu": cpu, "client_cpu": result.client_cpu,
            "client_core_share": result.client_core_share, "connects": result.connects,
            "latencies": result.latencies, "body_bytes": result.body_bytes,
            "other_cores": other / result.elapsed if result.elapsed else 0.0}
