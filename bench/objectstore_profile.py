"""py-spy profiles of overcast for bench/objectstore.py --profile: the cases that missed a target.

A case is a cell name (``put-4k-c16``, ``get-1m-c1``, ...), ``put-<N>m`` / ``get-<N>m`` for the
large object, or ``list``. Each is run again on overcast alone (not counted in the table)
while image_profile.profile samples it: shares of busy thread samples by function, package
and thread; raw stacks in bench/results/objectstore-<time>/pyspy-<case>.txt.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import identity
import loadgen
from identity import HOST, log
from image_bound import make_source, read_through
from image_profile import profile
from image_transfer import get_file, put_file
from objectstore_large import CONTAINER as LARGE
from objectstore_listing import list_once
from objectstore_ops import KIB, MB, MIB, Cells
from objectstore_servers import Target


def _size(label: str) -> int:
    return int(label[:-1]) * (MIB if label.endswith("m") else KIB)


def run_profiles(cases: list[str], oc: Target, cells: Cells, work: Path, duration: float, large_size: int,
                 objects: int, out: Path) -> dict:
    pyspy = identity.find_pyspy()
    if pyspy is None:
        return {c: {"error": "py-spy not found (see bench/README.md)"} for c in cases}
    profiles = {}
    src = None
    for case in cases:
        parts = case.split("-")
        if case == "list":
            def work_fn():
                t_end, walls = time.perf_counter() + max(duration, 3.0), []
                while time.perf_counter() < t_end:
                    walls.append(list_once(oc, objects)["wall_s"])
                return f"{len(walls)} listings, p50 {statistics.median(walls) * 1000:.1f} ms while sampled"
        elif len(parts) == 3:
            op, size, conc = parts[0].upper(), _size(parts[1]), int(parts[2][1:])

            def work_fn(op=op, size=size, conc=conc):
                stream = (cells.put_stream if op == "PUT" else cells.get_stream)(oc, size, conc)
                r = loadgen.run_stream(HOST, oc.port, stream, conc, duration, 201 if op == "PUT" else 200)
                return (f"{r.rps:.0f} ops/s ({len(r.latencies) * size / r.elapsed / MB:.0f} MB/s), "
                        f"{r.errors} errors while sampled")
        else:
            if src is None:
                src = work / "profile.bin"
                make_source(src, large_size)
                read_through(src)
            op = parts[0]

            def work_fn(op=op):
                walls = []
                for i in range(2):
                    path = f"/{LARGE}/profile-{i}"
                    r = put_file(oc, path, src, large_size) if op == "put" else get_file(oc, f"/{LARGE}/big-0")
                    walls.append(r["wall_s"])
                return f"2 {op.upper()}s, {statistics.median(large_size / w / MB for w in walls):.0f} MB/s while sampled"
        log(f"profiling overcast: {case} ...")
        profiles[case] = profile(pyspy, oc, case, work_fn, out)
    if src is not None:
        src.unlink()
    return profiles
