"""py-spy profiles of overcast for bench/image.py --profile: uploads, downloads and listings.

Shares of busy thread samples by function, package and thread; ``C_LEAVES`` says what the
time of a Python frame that calls straight into C is.
"""

from __future__ import annotations

import signal
import statistics
import subprocess
import time
from collections import Counter
from pathlib import Path

import identity
from identity import log
from image_bound import MB
from image_listing import list_once
from image_servers import Target
from image_transfer import get_file, put_file


#: what the time of a Python frame that calls straight into C is (py-spy counts C time to its caller)
C_LEAVES = {
    "asyncio/runners.py:Runner.run": "inside uvloop (C): socket reads/writes, the loop, callbacks",
    "concurrent/futures/thread.py:_WorkItem.run": "a C function run directly by a worker thread (upload: md5.update)",
    "overcast/image/upload.py:receive.<locals>.hash_and_write": "sha512.update (C, GIL released)",
    "overcast/image/drivers/file.py:_FileWriter.write": "write(2) into the temp file",
    "overcast/image/drivers/file.py:_FileChunks.__next__": "read(2) from the image file",
    "uvicorn/protocols/http/httptools_impl.py:RequestResponseCycle.send": "transport.write: send(2) on the socket",
    "concurrent/futures/thread.py:ThreadPoolExecutor.submit": "handing work to a thread: queue, lock, wake-up",
    "anyio/_backends/_asyncio.py:WorkerThread.run": "anyio worker thread: waiting for/handing back results",
    "sqlalchemy/engine/cursor.py:CursorFetchStrategy.fetchall": "sqlite3 fetchall (C): reading the rows",
    "sqlalchemy/engine/default.py:DefaultDialect.do_execute": "sqlite3 execute (C): running the query",
    "json/encoder.py:JSONEncoder.iterencode": "json C encoder",
}


def profile(pyspy: str, target: Target, label: str, work, out: Path) -> dict:
    """py-spy ``target`` while ``work()`` runs; shares of busy thread samples by function and package.

    Non-blocking sampling (the server is not paused), Python frames only: time in C is
    counted to the Python function that called it (see C_LEAVES).
    """
    raw_file = out / f"pyspy-{label}.txt"
    spy = subprocess.Popen([pyspy, "record", "--pid", str(target.server.pid), "--rate", "250", "--format", "raw",
                            "--nolineno", "--threads", "--nonblocking", "--output", str(raw_file)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # let py-spy attach
    c0, t0 = target.server.cpu_seconds(), time.perf_counter()
    note = work()
    wall, cpu = time.perf_counter() - t0, target.server.cpu_seconds() - c0
    time.sleep(0.2)
    spy.send_signal(signal.SIGINT)
    try:
        _, err = spy.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        spy.kill()
        _, err = spy.communicate()
    if not raw_file.exists():
        return {"error": err.decode(errors="replace")[-500:]}
    self_t, incl, pkg, threads = Counter(), Counter(), Counter(), Counter()
    total = idle = 0
    for line in raw_file.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        frames = stack.split(";")
        thread = frames.pop(0) if frames and frames[0].startswith("thread (") else "?"
        if not frames:
            continue
        frames = [identity._short(f) for f in frames]
        if frames[-1] in identity.IDLE_LEAVES or frames[-1].endswith(("EpollSelector.select", "_UnixSelectorEventLoop")):
            idle += n
            continue
        total += n
        self_t[frames[-1]] += n
        pkg[identity._package(frames[-1])] += n
        tname = thread.partition(": ")[2]
        threads["event loop (MainThread)" if tname == "MainThread" else
                "AnyIO workers (sync handlers, DB)" if tname.startswith("AnyIO") else
                "loop executor (run_in_executor)" if tname.startswith(("uvloop", "asyncio", "ThreadPool")) else
                tname or "?"] += n
        for f in set(frames):
            if not f.startswith(("overcast/cli.py", "overcast/__main__", "<frozen", "threading.py",
                                 "concurrent/futures/thread.py")) and ":<module>" not in f:
                incl[f] += n
    share = lambda c, k=15: [(f, round(100 * v / max(total, 1), 1)) for f, v in c.most_common(k)]  # noqa: E731
    return {"busy_samples": total, "idle_samples": idle, "file": str(raw_file), "wall_s": wall, "server_cpu_s": cpu,
            "note": note, "self": share(self_t, 20), "self_by_package": share(pkg, 12),
            "inclusive": share(incl, 25), "threads": share(threads, 4)}


def run_profiles(pyspy: str, oc: Target, src: Path, size: int, digests: dict, count: int, out: Path) -> dict:
    profiles = {}
    ids = [oc.create_image(f"bench-profile-{i}") for i in range(2)]

    def uploads():
        rs = [put_file(oc, f"/v2/images/{i}/file", src, size) for i in ids]
        return f"{len(rs)} uploads, {statistics.median(size / r['wall_s'] / MB for r in rs):.0f} MB/s while sampled"

    log("profiling overcast: upload ...")
    profiles["upload"] = profile(pyspy, oc, "upload", uploads, out)

    def downloads():
        rs = [get_file(oc, f"/v2/images/{ids[k % 2]}/file") for k in range(6)]
        return f"{len(rs)} downloads, {statistics.median(size / r['wall_s'] / MB for r in rs):.0f} MB/s while sampled"

    log("profiling overcast: download ...")
    profiles["download"] = profile(pyspy, oc, "download", downloads, out)
    for i in ids:
        oc.delete_image(i)

    def lists(limit):
        def work():
            t_end, n, walls = time.perf_counter() + 3.0, 0, []
            while time.perf_counter() < t_end:
                walls.append(list_once(oc, limit)["wall_s"])
                n += 1
            return f"{n} listings, median {statistics.median(walls) * 1000:.1f} ms while sampled"
        return work

    log("profiling overcast: list (one request) ...")
    profiles["list"] = profile(pyspy, oc, "list", lists(count), out)
    log("profiling overcast: list (paged) ...")
    profiles["list_paged"] = profile(pyspy, oc, "list_paged", lists(None), out)
    return profiles


def print_targets_and_profiles(report: dict, width: int, top_self: int, top_inclusive: int) -> None:
    """The targets (PASS/FAIL) and each py-spy profile, as every benchmark's report ends."""
    print("targets:")
    for t in report["targets"]:
        status = "n/a " if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
        print(f"  [{status}] {t['name']:<{width}} {t['detail']}")
    print()
    for label, prof in report.get("profiles", {}).items():
        if "error" in prof:
            print(f"py-spy, overcast, {label}: error: {prof['error']}")
            continue
        print(f"py-spy, overcast, {label}: {prof['note']}; {prof['busy_samples']} busy thread samples "
              f"({prof['idle_samples']} waiting dropped), server CPU {prof['server_cpu_s']:.2f}s in "
              f"{prof['wall_s']:.2f}s; % of busy samples; raw stacks in {prof['file']}")
        print("  by thread:  " + ",  ".join(f"{p} {s:.1f}%" for p, s in prof["threads"]))
        print("  self time by package:  " + ",  ".join(f"{p} {s:.1f}%" for p, s in prof["self_by_package"][:9]))
        print("  self time, top functions:")
        for f, s in prof["self"][:top_self]:
            print(f"    {s:5.1f}%  {f}" + (f"  [{C_LEAVES[f]}]" if f in C_LEAVES else ""))
        print("  inclusive time:")
        for f, s in prof["inclusive"][:top_inclusive]:
            print(f"    {s:5.1f}%  {f}")
        print()
