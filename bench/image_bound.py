"""The physical bound for bench/image.py: how fast this machine can copy and hash the image.

An upload has to write the file (and fsync it) and compute its md5 and sha512; the bound is
the slower of the fastest copy (``measure_copy``) and one-thread hashing (``measure_hashing``).
Also the units every image benchmark module reports in.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import threading
import time
from pathlib import Path

CORES = os.cpu_count() or 1
MB = 1e6  # MB/s and RSS in MB are 10^6 bytes
MIB = 1 << 20
CHUNK = 1 << 20  # client read size for downloads, and the bound's copy/hash buffer


def make_source(path: Path, size: int) -> None:
    """``size`` random bytes, fsynced (so later timings do not pay for its write-back)."""
    with open(path, "wb", buffering=0) as f:
        left = size
        while left:
            n = min(left, 8 * MIB)
            f.write(os.urandom(n))
            left -= n
        os.fsync(f.fileno())


def read_through(path: Path) -> None:
    """Read a file once (into the page cache), discarding the bytes."""
    buf = bytearray(CHUNK)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buf):
            pass


def _python_copy(src: Path, dst: Path, block: int) -> None:
    buf = bytearray(block)
    view = memoryview(buf)
    with open(src, "rb", buffering=0) as fin, open(dst, "wb", buffering=0) as fout:
        while True:
            n = fin.readinto(buf)
            if not n:
                break
            fout.write(view[:n])
        os.fsync(fout.fileno())


#: how the bound copies the file: dd at two block sizes, and a Python read/write loop; the bound
#: takes the fastest (the block size can change the kernel's cost of filling the page cache).
COPIES = {
    "dd bs=1M": lambda src, dst: subprocess.run(["dd", f"if={src}", f"of={dst}", "bs=1M", "conv=fsync"], check=True,
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    "dd bs=128K": lambda src, dst: subprocess.run(["dd", f"if={src}", f"of={dst}", "bs=128K", "conv=fsync"],
                                                  check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    "Python 128K": lambda src, dst: _python_copy(src, dst, 128 << 10),
}


def measure_copy(src: Path, size: int, reps: int) -> dict:
    """Copy ``src`` to a new file and fsync it, each way of COPIES ``reps`` times, interleaved.

    Every copy goes to a new file, kept until all are done, as a store keeps its images (a
    copy over a just-deleted file reuses the memory just freed, which can be much cheaper).
    Wall seconds and CPU seconds (user + system, including dd's) per way, medians.
    """
    walls: dict[str, list[float]] = {k: [] for k in COPIES}
    cpus: dict[str, list[float]] = {k: [] for k in COPIES}
    made = []
    try:
        for rep in range(reps):
            for index, (kind, copy) in enumerate(COPIES.items()):
                dst = src.with_name(f"copy-{index}-{rep}")
                made.append(dst)
                os.sync()
                c0 = _rusage_cpu()
                t0 = time.perf_counter()
                copy(src, dst)
                walls[kind].append(time.perf_counter() - t0)
                cpus[kind].append(_rusage_cpu() - c0)
    finally:
        for dst in made:
            dst.unlink(missing_ok=True)
    ways = {kind: {"s": statistics.median(walls[kind]), "mbps": size / statistics.median(walls[kind]) / MB,
                   "runs_s": walls[kind], "cpu_s": statistics.median(cpus[kind])} for kind in COPIES}
    best = max(ways, key=lambda k: ways[k]["mbps"])
    return {"ways": ways, "best": best, "mbps": ways[best]["mbps"], "cpu_s": ways[best]["cpu_s"]}


def _rusage_cpu() -> float:
    """User + system CPU seconds of this process (main thread's work) and its finished children."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure_hashing(src: Path, size: int, reps: int) -> dict:
    """md5 + sha512 over the file's bytes (in memory, 1 MiB updates), one thread and two threads."""
    data = src.read_bytes()
    view = memoryview(data)
    slices = [view[i:i + CHUNK] for i in range(0, len(data), CHUNK)]

    def one(algos):
        hs = [hashlib.new(a) for a in algos]
        for s in slices:
            for h in hs:
                h.update(s)
        return [h.hexdigest() for h in hs]

    single, single_cpu, md5_only, sha_only, parallel = [], [], [], [], []
    digests = {}
    for _ in range(reps):
        c0, t0 = time.thread_time(), time.perf_counter()
        digests["md5"], digests["sha512"] = one(("md5", "sha512"))
        single.append(time.perf_counter() - t0)
        single_cpu.append(time.thread_time() - c0)
        t0 = time.perf_counter()
        one(("md5",))
        md5_only.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        one(("sha512",))
        sha_only.append(time.perf_counter() - t0)
        threads = [threading.Thread(target=one, args=((a,),)) for a in ("md5", "sha512")]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        parallel.append(time.perf_counter() - t0)
    med = statistics.median
    return {"single_s": med(single), "single_mbps": size / med(single) / MB, "single_runs_s": single,
            "single_cpu_s": med(single_cpu),
            "md5_mbps": size / med(md5_only) / MB, "sha512_mbps": size / med(sha_only) / MB,
            "parallel_s": med(parallel), "parallel_mbps": size / med(parallel) / MB, "parallel_runs_s": parallel,
            "md5": digests["md5"], "sha512": digests["sha512"]}
