"""Compute benchmark: servers on the fake hypervisor, on a private `overcast up`.

    .venv/bin/python bench/compute.py [--quick] [--profile] [--no-rally] [--no-race]

Starts overcast on a temp data dir and a free loopback port with one big fake host
(OVERCAST_COMPUTE_FAKE_VCPUS=100000 and as much RAM and disk) and unlimited instance, core
and RAM quotas for the admin project, then measures:

1. create-to-ACTIVE: 200 servers at concurrency 1 and at 20; POST latency, and POST to the
   first GET (polled every 5 ms) that shows ACTIVE; p50/p99 (target: ACTIVE p50 <= 50 ms);
2. rally-openstack's NovaServers.boot_and_delete_server (its own venv in .bench/, an
   existing-cloud environment), with Rally's default polling and with fast polling;
3. `server list --long`: the project filled to 10,000 servers by multi-create POSTs, then
   GET /servers/detail?limit=1000, p50 over 20 requests (target <= 250 ms), at microversion
   2.1 and at the newest one, and the whole listing following the next links;
4. 100 concurrent boots on 3 small fake hosts (20 servers each: the all-in-one's agent and
   two `overcast agent compute` processes on a shared database and RabbitMQ, if that
   command exists; else the one host): no host oversubscribed, ACTIVE vs ERROR counted.

Prints a table and writes bench/results/compute-<time>.json (and compute-latest.json). The
phases live next to this file: compute_cloud.py (starting clouds and agents, set-up calls),
compute_boot.py, compute_list.py, compute_race.py, compute_rally.py and compute_report.py.
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

import identity  # noqa: E402  (environment, revision, py-spy, log)
from compute_boot import boot_latency, request_cpu  # noqa: E402
from compute_cloud import COMPUTE, start_cloud  # noqa: E402
from compute_list import fill, measure_listing  # noqa: E402
from compute_race import run_race  # noqa: E402
from compute_rally import run_rally  # noqa: E402
from compute_report import print_report, targets  # noqa: E402
from identity import CORES, RESULTS, log  # noqa: E402

BIG_HOST = {"OVERCAST_COMPUTE_FAKE_VCPUS": "100000", "OVERCAST_COMPUTE_FAKE_MEMORY_MB": str(10**9),
            "OVERCAST_COMPUTE_FAKE_LOCAL_GB": str(10**9)}
FLAVOR = "42"  # m1.nano: 1 vCPU, 64 MB, 1 GB
GC_PROBE = Path(__file__).resolve().parent / "compute_gcprobe"  # sitecustomize logging full collections


def _profile(args, cloud, label: str, work, out_dir: Path) -> dict:
    from image_profile import profile

    pyspy = identity.find_pyspy()
    if pyspy is None:
        return {"error": "py-spy not found (see bench/README.md)"}
    log(f"profiling overcast: {label} ...")
    return profile(pyspy, cloud, label, work, out_dir)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 40 boots per run, 2,000 servers listed, 5 rally iterations")
    parser.add_argument("--boots", type=int, default=None, help="servers per latency run (default 200)")
    parser.add_argument("--concurrency", default="1,20", help="latency runs' concurrency (default 1,20)")
    parser.add_argument("--poll-ms", type=float, default=5.0, help="status poll interval (default 5 ms)")
    parser.add_argument("--slow-poll-ms", type=float, default=50.0,
                        help="also run the highest concurrency polling this slowly, to show what the polls cost "
                             "(default 50 ms; 0: skip)")
    parser.add_argument("--after-fill-boots", type=int, default=50,
                        help="boots at concurrency 1 once the project is full (default 50; 0: skip)")
    parser.add_argument("--servers", type=int, default=None, help="servers in the project to list (default 10000)")
    parser.add_argument("--batch", type=int, default=500,
                        help="servers per multi-create POST when filling (default 500)")
    parser.add_argument("--list-reps", type=int, default=20, help="timed listings (default 20)")
    parser.add_argument("--rally", action=argparse.BooleanOptionalAction, default=True,
                        help="run rally-openstack's boot_and_delete_server (default: yes)")
    parser.add_argument("--rally-times", type=int, default=None, help="rally iterations (default 20)")
    parser.add_argument("--rally-concurrency", type=int, default=4, help="rally concurrency (default 4)")
    parser.add_argument("--race", action=argparse.BooleanOptionalAction, default=True,
                        help="run the 100-boots-on-3-hosts oversubscription check (default: yes)")
    parser.add_argument("--race-hosts", type=int, default=3)
    parser.add_argument("--race-per-host", type=int, default=20, help="m1.nano servers each host fits (default 20)")
    parser.add_argument("--race-boots", type=int, default=100)
    parser.add_argument("--race-database", choices=["sqlite", "postgres"], default="sqlite",
                        help="the race cloud's shared database: its SQLite file, or a fresh PostgreSQL database on "
                             "127.0.0.1:5432 (default sqlite)")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672",
                        help="RabbitMQ for the race's agents (a private vhost is made and removed)")
    parser.add_argument("--profile", action="store_true", help="py-spy overcast during extra boots and listings")
    parser.add_argument("--gc-probe", action=argparse.BooleanOptionalAction, default=True,
                        help="log overcast's full garbage collections (bench/compute_gcprobe on its PYTHONPATH; "
                             "default: yes)")
    parser.add_argument("--overcast-log-level", default="WARNING", help="overcast up --log-level (default WARNING)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args(argv)
    boots = args.boots or (40 if args.quick else 200)
    servers = args.servers or (2000 if args.quick else 10000)
    rally_times = args.rally_times or (5 if args.quick else 20)
    levels = [int(c) for c in args.concurrency.split(",")]

    stamp = time.strftime("%Y%m%d-%H%M%S")
    began = time.perf_counter()
    out_dir = RESULTS / f"compute-{stamp}"
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="overcast-compute-bench-"))
    report: dict = {
        "benchmark": "compute", "time": stamp,
        "machine": {"cores": CORES, "cpu": identity._cpu_model(), "python": platform.python_version(),
                    "kernel": platform.release(), "cpu_pressure": identity._pressure()},
        "overcast_revision": identity._revision(),
        "config": {"boots": boots, "concurrency": levels, "poll_ms": args.poll_ms, "servers": servers,
                   "batch": args.batch, "list_reps": args.list_reps, "flavor": "m1.nano", "big_host": BIG_HOST,
                   "work_dir": str(work)},
        "latency": [], "profiles": {},
    }
    cloud = None
    try:
        env = dict(BIG_HOST)
        gc_log = None
        if args.gc_probe:
            gc_log = out_dir / "gc-overcast.log"
            env.update(PYTHONPATH=str(GC_PROBE), BENCH_GC_LOG=str(gc_log))
        cloud, report["cloud"] = start_cloud("overcast", work, logs, env, args.overcast_log_level)
        cloud.unlimited_quotas()
        image = cloud.make_image()
        log("warm-up: 10 boots ...")
        boot_latency(cloud, 10, 2, image, FLAVOR, args.poll_ms / 1000, "warmup")
        some = cloud.call("GET", f"{COMPUTE}/servers?limit=1")["servers"][0]["id"]
        report["requests"] = {"GET /servers/{id}": request_cpu(cloud, cloud.raw("GET", f"{COMPUTE}/servers/{some}")),
                              "GET /limits": request_cpu(cloud, cloud.raw("GET", f"{COMPUTE}/limits"))}

        runs = [(c, args.poll_ms) for c in levels]
        if args.slow_poll_ms:
            runs.append((max(levels), args.slow_poll_ms))
        for concurrency, poll_ms in runs:
            log(f"create-to-ACTIVE: {boots} servers at concurrency {concurrency}, polling every {poll_ms:g} ms ...")
            r = boot_latency(cloud, boots, concurrency, image, FLAVOR, poll_ms / 1000,
                             f"lat-c{concurrency}-{poll_ms:g}")
            report["latency"].append(r)
            log(f"  POST p50 {r['post_p50_ms']:.1f} ms p99 {r['post_p99_ms']:.1f}; ACTIVE p50 {r['active_p50_ms']:.1f} "
                f"ms p99 {r['active_p99_ms']:.1f}; {r['outcomes']}; {r['boots_per_s']:.1f} boots/s")
        if args.profile:
            report["profiles"]["boot_c1"] = _profile(args, cloud, "boot_c1", lambda: "ACTIVE p50 {:.1f} ms".format(
                boot_latency(cloud, 100, 1, image, FLAVOR, args.poll_ms / 1000, "prof")["active_p50_ms"]), out_dir)

        if args.rally:
            log(f"rally: {rally_times} x boot_and_delete_server, concurrency {args.rally_concurrency} ...")
            report["rally"] = run_rally(cloud, work, "bench-tiny", "m1.nano", rally_times, args.rally_concurrency,
                                        0.01, logs)

        log(f"filling the project to {servers} servers ({args.batch} per POST) ...")
        report["fill"] = fill(cloud, servers, args.batch, 2, image, FLAVOR)
        f = report["fill"]
        log(f"  {f['created']} created in {f['all_settled_s']:.1f}s ({f['servers_per_s']:.0f} servers/s to ACTIVE, "
            f"POST p50 {f['post_p50_s']:.2f}s for {args.batch}); {f['error_servers']} in ERROR")
        if args.after_fill_boots:
            log(f"create-to-ACTIVE with {f['total']} servers in the project: {args.after_fill_boots} at "
                "concurrency 1 ...")
            r = boot_latency(cloud, args.after_fill_boots, 1, image, FLAVOR, args.poll_ms / 1000, "full")
            r["servers_in_project"] = f["total"]
            report["latency_full_project"] = r
            log(f"  POST p50 {r['post_p50_ms']:.1f} ms; ACTIVE p50 {r['active_p50_ms']:.1f} ms")
            report["requests"]["GET /limits (full project)"] = request_cpu(cloud, cloud.raw("GET", f"{COMPUTE}/limits"))
        report["listing"] = []
        for version in (None, "latest"):
            r = measure_listing(cloud, args.list_reps, version, 3, gc_log)
            report["listing"].append(r)
            log(f"  detail?limit=1000 at {r['version']}: p50 {r['one_page']['p50_ms']:.1f} ms "
                f"({r['one_page']['bytes'] / 1e6:.2f} MB); all {r['all_pages']['pages']} pages "
                f"{r['all_pages']['p50_ms']:.0f} ms")
        if args.profile:
            report["profiles"]["list_detail"] = _profile(args, cloud, "list_detail", lambda: "p50 {:.1f} ms".format(
                measure_listing(cloud, 10, None, 0)["one_page"]["p50_ms"]), out_dir)
        cloud.stop()
        cloud = None

        if args.race:
            log(f"race: {args.race_boots} concurrent boots on {args.race_hosts} hosts of {args.race_per_host} ...")
            report["race"] = run_race(work, logs, args.race_hosts, args.race_per_host, args.race_boots,
                                      args.race_database, args.broker, args.overcast_log_level)
    finally:
        if cloud is not None:
            cloud.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report["targets"] = targets(report)
    print_report(report)
    identity.save_results("compute", report, stamp, began, logs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
