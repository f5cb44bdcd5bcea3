"""Object storage benchmark: overcast against the real Swift, side by side, in one run.

    .venv/bin/python bench/objectstore.py [--no-swift] [--quick] [--profile [CASES]]

Starts overcast (`overcast up` on a fresh temp data dir and a free port; a Keystone token and
the object-store endpoint from its catalog) and Swift 2.38 (the anchors' scripts: memcached,
proxy, account, container and object servers on 127.0.0.1:18080, one replica, tempauth
test:tester; fresh rings and device in the run's temp dir, so all data is on one
filesystem). Then, interleaved between the two: 4 KiB object PUT and GET ops/s at
concurrency 1 and 16, 1 MiB PUT and GET MB/s, 256 MiB PUT and GET MB/s next to `cp` + fsync
of the same file, listing 10,000 objects of one container (p50 of 10), and RSS of each
side's process tree idle and after the run. Prints a table and overcast's targets, and
writes bench/results/objectstore-<time>.json (and objectstore-latest.json).

The phases live next to this file: objectstore_servers.py (starting the two stores),
objectstore_ops.py (loadgen runs), objectstore_large.py (256 MiB and cp),
objectstore_listing.py, objectstore_profile.py (--profile) and objectstore_report.py.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import identity  # noqa: E402  (environment, revision, log)
import procs  # noqa: E402
from identity import CORES, RESULTS, log  # noqa: E402
from image import _filesystem  # noqa: E402
from objectstore_large import run_large  # noqa: E402
from objectstore_listing import fill, measure_listing  # noqa: E402
from objectstore_ops import KIB, MIB, Cells  # noqa: E402
from objectstore_profile import run_profiles  # noqa: E402
from objectstore_report import print_report, targets  # noqa: E402
from objectstore_servers import ObjectStoreMissing, start_overcast, start_swift  # noqa: E402


def _rss(t) -> dict:
    return {"rss_bytes": t.server.rss_bytes(), "processes": len(procs.process_tree(t.server.pid))}


def _warm_up(t) -> None:
    """A few small and one 4 MiB object written and read, and a listing: imports and caches settled."""
    t.create_container("bench-warmup")
    for i in range(20):
        t.call("PUT", f"/bench-warmup/w-{i}", b"x" * 4096, expect=(201,))
        t.call("GET", f"/bench-warmup/w-{i}")
    t.call("PUT", "/bench-warmup/big", b"y" * (4 * MIB), expect=(201,))
    t.call("GET", "/bench-warmup/big")
    t.call("GET", "/bench-warmup?format=json")


def _profile_cases(spec: str, report: dict, cells: Cells, large_mib: int) -> list[str]:
    if spec == "all":
        return [*cells.runs, f"put-{large_mib}m", f"get-{large_mib}m", "list"]
    if spec != "missed":
        return [c.strip() for c in spec.split(",") if c.strip()]
    cases = [t["case"] for t in report["targets"] if t["pass"] is False]
    ls = report.get("listing", {})
    if "swift" in ls and ls["overcast"]["p50_ms"] > ls["swift"]["p50_ms"]:
        cases.append("list")
    return list(dict.fromkeys(cases))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--swift", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the real Swift (default: yes)")
    parser.add_argument("--overcast", action=argparse.BooleanOptionalAction, default=True,
                        help="run overcast (default: yes; --no-overcast measures Swift alone)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 1 s runs, 1 rep, 32 MiB large object, 1000 objects listed")
    parser.add_argument("--duration", type=float, default=None, help="seconds per loadgen run (default 3, --quick 1)")
    parser.add_argument("--reps", type=int, default=None, help="runs per server and cell (default 2, --quick 1)")
    parser.add_argument("--concurrency", default="1,16", help="4 KiB cells' concurrency (default 1,16)")
    parser.add_argument("--mib-concurrency", default="1,16", help="1 MiB cells' concurrency (default 1,16)")
    parser.add_argument("--large-mib", type=int, default=None, help="large object size, MiB (default 256, --quick 32)")
    parser.add_argument("--large-reps", type=int, default=None, help="large PUTs and GETs per server (default 3)")
    parser.add_argument("--objects", type=int, default=None, help="objects in the listed container (default 10000)")
    parser.add_argument("--list-reps", type=int, default=None, help="timed listings per server (default 10)")
    parser.add_argument("--fill-concurrency", type=int, default=16, help="parallel PUTs filling it (default 16)")
    parser.add_argument("--swift-dir", default="/tmp/perf-anchors",
                        help="anchors work dir holding Swift's venv (default /tmp/perf-anchors)")
    parser.add_argument("--work-dir", default=None, help="where the temp dir goes (default: $TMPDIR)")
    parser.add_argument("--overcast-log-level", default="WARNING", help="overcast up --log-level (default WARNING)")
    parser.add_argument("--profile", nargs="?", const="missed", default=None, metavar="CASES",
                        help="afterwards, py-spy overcast re-running the cases that missed a target (default), "
                             "'all', or a comma list such as put-4k-c16,get-256m,list")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args(argv)
    duration = args.duration or (1.0 if args.quick else 3.0)
    reps = args.reps or (1 if args.quick else 2)
    large_mib = args.large_mib or (32 if args.quick else 256)
    large_reps = args.large_reps or (1 if args.quick else 3)
    objects = args.objects or (1000 if args.quick else 10000)
    list_reps = args.list_reps or (3 if args.quick else 10)
    sizes = {4 * KIB: [int(c) for c in args.concurrency.split(",") if c],
             MIB: [int(c) for c in args.mib_concurrency.split(",") if c]}
    sizes = {k: v for k, v in sizes.items() if v}
    if not (args.swift or args.overcast):
        parser.error("nothing to measure: --no-swift and --no-overcast")

    stamp = time.strftime("%Y%m%d-%H%M%S")
    began = time.perf_counter()
    out_dir = RESULTS / f"objectstore-{stamp}"
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="overcast-objectstore-bench-", dir=args.work_dir))
    report: dict = {
        "benchmark": "objectstore", "time": stamp,
        "machine": {"cores": CORES, "cpu": identity._cpu_model(), "python": platform.python_version(),
                    "kernel": platform.release(), "cpu_pressure": identity._pressure(),
                    "filesystem": _filesystem(work)},
        "overcast_revision": identity._revision(),
        "config": {"duration": duration, "reps": reps, "sizes": {str(k): v for k, v in sizes.items()},
                   "large_mib": large_mib, "large_reps": large_reps, "objects": objects, "list_reps": list_reps,
                   "fill_concurrency": args.fill_concurrency, "work_dir": str(work),
                   "overcast_log_level": args.overcast_log_level},
        "servers_info": {}, "rss": {},
    }
    stores = []
    try:
        if args.overcast:
            try:
                oc, report["servers_info"]["overcast"] = start_overcast(args, work, logs)
                stores.append(oc)
            except ObjectStoreMissing as e:
                if not args.swift:
                    raise
                log(f"overcast: {e}; measuring Swift alone")
                report["overcast_missing"] = str(e)
        if args.swift:
            sw, report["servers_info"]["swift"] = start_swift(args, work, logs)
            stores.append(sw)
        report["servers"] = [t.name for t in stores]

        log("warm-up ...")
        for t in stores:
            _warm_up(t)
        time.sleep(1.0)
        for t in stores:
            report["rss"][t.name] = {"idle": _rss(t)}

        log(f"object PUT and GET: {duration:g} s runs, {reps} per server and cell ...")
        cells = Cells(stores, sizes)
        cells.prepare()
        cells.run_all(duration, reps, log)
        report["ops"] = cells.summary()
        all_runs = [r for by in cells.runs.values() for runs in by.values() for r in runs]
        worst = max((r["client_core_share"] for r in all_runs), default=0.0)
        report["client"] = {"max_core_share": worst, "other_cores_max": max((r["other_cores"] for r in all_runs), default=0.0),
                            "verdict": "not the bottleneck" if worst < 0.7 else "WARNING: the client may be the limit"}

        log(f"{large_mib} MiB objects: {large_reps} PUTs per server interleaved with cp + fsync, then GETs ...")
        report["large"] = run_large(stores, work, large_mib * MIB, large_reps, log)

        report["fill"] = {}
        for t in stores:
            log(f"filling a container with {objects} objects on {t.name} ({args.fill_concurrency} at a time) ...")
            f = report["fill"][t.name] = fill(t, objects, args.fill_concurrency)
            log(f"  {f['per_s']:.0f} PUTs/s, {f['failed']} failed {f['statuses']}, "
                f"{f['redone_one_by_one']} redone one by one")
        log(f"listing {objects} objects: 2 warm-up, {list_reps} timed per server ...")
        report["listing"] = measure_listing(stores, objects, list_reps)
        for t in stores:
            ls = report["listing"][t.name]
            log(f"  {t.name:<9} p50 {ls['p50_ms']:.1f} ms ({ls['bytes'] / 1e6:.2f} MB), server CPU "
                f"{ls['server_cpu_ms']:.1f} ms")

        time.sleep(1.0)
        for t in stores:
            report["rss"][t.name]["after"] = _rss(t)
        report["targets"] = targets(report)
        if args.profile and "overcast" in report["servers"]:
            cases = _profile_cases(args.profile, report, cells, large_mib)
            report["profiles"] = run_profiles(cases, stores[0], cells, work, duration, large_mib * MIB, objects,
                                              out_dir) if cases else {}
    finally:
        for t in stores:
            t.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_report(report)
    if "overcast_missing" in report:
        print(f"note: overcast was not measured: {report['overcast_missing']}")
    identity.save_results("objectstore", report, stamp, began, logs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
