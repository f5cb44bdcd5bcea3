"""overcast's small-object request paths alone: CPU per request, split user / system.

    .venv/bin/python bench/objectstore_paths.py [--concurrency 1,16] [--duration 3] [--reps 1]

Starts overcast (as bench/objectstore.py does), writes 64 objects of 4 KiB into a private
container and into a public one (``X-Container-Read: .r:*``), then drives with loadgen, for
each concurrency: PUTs of new 4 KiB objects, GETs and HEADs with the token, and GETs without
one (what static web's check costs anonymous readers). Prints requests/s, the server's user
and system CPU per request (/proc, process tree), p50 latency and what the rest of the
machine used meanwhile. No Swift here: bench/objectstore.py compares with it.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import procs  # noqa: E402
from identity import HOST  # noqa: E402
from objectstore_servers import start_overcast  # noqa: E402

GET_SET = 64


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of the process tree."""
    user = system = 0
    for p in procs.process_tree(pid):
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        user, system = user + int(fields[11]), system + int(fields[12])
    tick = os.sysconf("SC_CLK_TCK")
    return user / tick, system / tick


def streams(t, body: bytes):
    """op -> (request factory, expected status)."""
    names = itertools.count()
    token = f"X-Auth-Token: {t.headers['X-Auth-Token']}\r\n".encode()
    put = lambda: t.request("PUT", f"/paths/p-{next(names):08d}", body,  # noqa: E731
                            {"Content-Type": "application/octet-stream"})
    cycles = {
        "GET": [t.request("GET", f"/paths/g-{i:03d}") for i in range(GET_SET)],
        "HEAD": [t.request("HEAD", f"/paths/g-{i:03d}") for i in range(GET_SET)],
        "GET anonymous": [t.request("GET", f"/public/g-{i:03d}").replace(token, b"") for i in range(GET_SET)],
    }
    out = {"PUT": (put, 201)}
    for op, raws in cycles.items():
        ring = itertools.cycle(raws)
        out[op] = (lambda ring=ring: next(ring), 200)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", default="1,16")
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--overcast-log-level", default="WARNING")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="overcast-objectstore-paths-"))
    (work / "logs").mkdir()
    t, _ = start_overcast(args, work, work / "logs")
    try:
        body = os.urandom(4096)
        t.create_container("paths")
        t.create_container("public")
        t.call("POST", "/public", b"", {"X-Container-Read": ".r:*"}, expect=(204,))
        for container in ("paths", "public"):
            for i in range(GET_SET):
                t.call("PUT", f"/{container}/g-{i:03d}", body, {"Content-Type": "application/octet-stream"},
                       expect=(201,))
        ops = streams(t, body)
        for _ in range(args.reps):
            for concurrency in [int(c) for c in args.concurrency.split(",") if c]:
                for op, (next_request, expect) in ops.items():
                    (user0, sys0), busy0 = cpu_split(t.server.pid), procs.machine_busy_seconds()
                    r = loadgen.run_stream(HOST, t.port, next_request, concurrency, args.duration, expect)
                    (user1, sys1), busy1 = cpu_split(t.server.pid), procs.machine_busy_seconds()
                    done = max(len(r.latencies), 1)
                    others = (busy1 - busy0 - (user1 - user0) - (sys1 - sys0) - r.client_cpu) / r.elapsed
                    print(f"{op:<14} c={concurrency:<3} {r.rps:8.1f}/s  CPU user {(user1 - user0) / done * 1000:.2f} "
                          f"sys {(sys1 - sys0) / done * 1000:.2f} ms/op  p50 "
                          f"{loadgen.percentile(r.latencies, 50) * 1000:.2f} ms  errors {r.errors}  "
                          f"others {others:.2f} cores", flush=True)
    finally:
        t.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
