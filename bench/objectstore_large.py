"""Large objects for bench/objectstore.py: 256 MiB PUT and GET, and `cp` of the same file for reference.

Uploads reuse bench/image_transfer.py's cheap client: a sized PUT streamed from the file
with sendfile(2), and a GET read into one reused 1 MiB buffer; ``measured`` samples the
server's RSS every 50 ms and reads its CPU per thread. The PUTs and the `cp` runs are
interleaved (the order rotates every rep), each after an ``os.sync()`` so none pays for
another's write-back. ``cp`` is timed with an fsync of the copy, as both stores make an
object durable before they answer 201 (plain `cp`, page cache only, is recorded too).
"""

from __future__ import annotations

import hashlib
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path

from image_bound import make_source, read_through
from image_transfer import get_file, measured, put_file
from objectstore_ops import MB
from objectstore_servers import Target

CONTAINER = "bench-large"


def md5_of(path: Path) -> str:
    h = hashlib.md5()
    buf = bytearray(1 << 20)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(memoryview(buf)[:n])
    return h.hexdigest()


def md5_speed(src: Path, size: int, reps: int = 3) -> dict:
    """md5 over the file's bytes in memory (1 MiB updates), one thread: the ETag both stores
    compute, in order, over every byte; no single-stream PUT can beat it. Median of ``reps``."""
    data = src.read_bytes()
    view = memoryview(data)
    walls = []
    for _ in range(reps):
        h, t0 = hashlib.md5(), time.perf_counter()
        for i in range(0, size, 1 << 20):
            h.update(view[i:i + (1 << 20)])
        walls.append(time.perf_counter() - t0)
    return {"mbps": size / statistics.median(walls) / MB, "runs_s": walls}


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def copy_once(src: Path, dst: Path, size: int) -> dict:
    """`cp src dst`, then fsync of ``dst``: wall seconds of each step and cp's CPU."""
    os.sync()
    time.sleep(0.2)
    c0, t0 = _children_cpu(), time.perf_counter()
    subprocess.run(["cp", str(src), str(dst)], check=True)
    t1 = time.perf_counter()
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    t2 = time.perf_counter()
    return {"wall_s": t2 - t0, "cp_s": t1 - t0, "fsync_s": t2 - t1, "cp_cpu_s": _children_cpu() - c0,
            "mbps": size / (t2 - t0) / MB, "mbps_no_fsync": size / (t1 - t0) / MB}


def put_big(t: Target, name: str, src: Path, size: int, md5: str) -> dict:
    os.sync()  # no write-back left from earlier steps
    time.sleep(0.2)
    r = measured(t, lambda: put_file(t, f"/{CONTAINER}/{name}", src, size))
    if r["status"] != 201:
        raise RuntimeError(f"{t.name}: PUT of {size} bytes answered {r['status']} ({r['error']}): {r['body']}")
    t0 = time.perf_counter()
    os.sync()
    r["sync_after_s"] = time.perf_counter() - t0  # data the server left unwritten
    hdrs, _ = t.call("HEAD", f"/{CONTAINER}/{name}", expect=(200,))
    r["checked"] = hdrs.get("etag", "").strip('"') == md5 and int(hdrs.get("content-length", -1)) == size
    if not r["checked"]:
        raise RuntimeError(f"{t.name}: stored object does not match: {hdrs}")
    r["mbps"] = size / r["wall_s"] / MB
    r.pop("body", None)
    return r


def get_big(t: Target, name: str, size: int) -> dict:
    r = measured(t, lambda: get_file(t, f"/{CONTAINER}/{name}"))
    if r["status"] != 200 or r["bytes"] != size:
        raise RuntimeError(f"{t.name}: GET answered {r['status']} with {r['bytes']} bytes")
    r["mbps"] = size / r["wall_s"] / MB
    return r


def run_large(targets: list[Target], work: Path, size: int, reps: int, say) -> dict:
    """``reps`` PUTs per server interleaved with ``reps`` cp runs, then ``reps`` GETs per server."""
    src = work / "large.bin"
    make_source(src, size)
    read_through(src)  # the PUTs' and cp's source stays page-cached
    md5 = md5_of(src)
    md5_ref = md5_speed(src, size)
    say(f"  md5 of {size >> 20} MiB in one thread: {md5_ref['mbps']:.0f} MB/s")
    for t in targets:
        t.create_container(CONTAINER)
    puts: dict[str, list[dict]] = {t.name: [] for t in targets}
    gets: dict[str, list[dict]] = {t.name: [] for t in targets}
    copies: list[dict] = []
    steps = [*targets, None]  # None: cp
    for rep in range(reps):
        for t in steps[rep % len(steps):] + steps[:rep % len(steps)]:
            if t is None:
                r = copy_once(src, work / f"cp-{rep}.bin", size)  # kept, as a store keeps its objects
                copies.append(r)
                say(f"  cp + fsync {size >> 20} MiB  {r['mbps']:7.1f} MB/s  (cp alone {r['mbps_no_fsync']:.0f} MB/s, "
                    f"fsync {r['fsync_s']:.2f}s, cp CPU {r['cp_cpu_s']:.2f}s)")
                continue
            r = put_big(t, f"big-{rep}", src, size, md5)
            puts[t.name].append(r)
            say(f"  PUT {size >> 20} MiB {t.name:<9} {r['mbps']:7.1f} MB/s  server CPU {r['server_cpu_s']:.2f}s "
                f"(user {r['server_user_s']:.2f} sys {r['server_sys_s']:.2f})  RSS +{r['rss_delta'] / MB:.1f} MB  "
                f"sync after {r['sync_after_s']:.3f}s  others {r['other_cores']:.2f} cores")
    for t in targets:  # the stored objects into the page cache: the GETs measure the server, not the disk
        for rep in range(reps):
            get_file(t, f"/{CONTAINER}/big-{rep}")
    for rep in range(reps):
        for t in (targets if rep % 2 == 0 else targets[::-1]):
            r = get_big(t, f"big-{rep}", size)
            gets[t.name].append(r)
            say(f"  GET {size >> 20} MiB {t.name:<9} {r['mbps']:7.1f} MB/s  server CPU {r['server_cpu_s']:.2f}s  "
                f"client CPU {r['client_cpu_s']:.2f}s  RSS +{r['rss_delta'] / MB:.1f} MB  "
                f"others {r['other_cores']:.2f} cores")
    for rep in range(reps):
        (work / f"cp-{rep}.bin").unlink(missing_ok=True)
    src.unlink()
    med = statistics.median
    return {"size": size, "md5": md5, "md5_mbps": md5_ref["mbps"], "puts": puts, "gets": gets, "cp": {
        "runs": copies, "mbps": med(r["mbps"] for r in copies),
        "mbps_no_fsync": med(r["mbps_no_fsync"] for r in copies)}}
