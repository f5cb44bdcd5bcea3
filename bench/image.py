"""Image benchmark: overcast against the real Glance, side by side, in one run.

    .venv/bin/python bench/image.py [--no-glance] [--quick] [--size-mib 256] [--profile]

Starts overcast (fresh temp data dir) and Glance 33.x (uWSGI, 2 processes, SQLite, file
store, no auth; its venv is installed once in /tmp/perf-anchors by the anchors' script, and
each run gets a fresh database and store in a temp dir) on free loopback ports. Measures
the physical bound of this machine (copying the image file with fsync, hashing it with md5
+ sha512 in Python), then, interleaved between the servers: image upload (a sized PUT
streamed from the file with sendfile), download (streamed, discarded), and listing 1000
images (one request with limit=1000, and paging at the default page size). Reports MB/s
(10^6 bytes/s), server CPU and RSS from /proc (process tree), client CPU, and checks
overcast's targets. Prints a table and writes bench/results/image-<time>.json (and
image-latest.json).

The phases live next to this file: image_servers.py (starting the two servers), image_bound.py
(the physical bound), image_transfer.py (upload and download), image_listing.py (creating and
listing images), image_profile.py (--profile) and image_report.py (the table and the targets).
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

import identity  # noqa: E402  (shared report helpers: environment, revision, py-spy)
import procs  # noqa: E402
from identity import log  # noqa: E402
from image_bound import CORES, MB, MIB, make_source, measure_copy, measure_hashing, read_through  # noqa: E402
from image_listing import create_images, list_once, measure_listing  # noqa: E402
from image_profile import run_profiles  # noqa: E402
from image_report import print_report, targets  # noqa: E402
from image_servers import RESULTS, Target, start_glance, start_overcast  # noqa: E402
from image_transfer import download, get_file, put_file, upload  # noqa: E402


def _filesystem(path: Path) -> str:
    """'<fstype> on <mount point>' for ``path``, from /proc/self/mounts (longest matching mount point)."""
    best = ("?", "?")
    try:
        for line in Path("/proc/self/mounts").read_text().splitlines():
            dev, mnt, fstype = line.split()[:3]
            if (str(path) + "/").startswith(mnt.rstrip("/") + "/") and len(mnt) >= len(best[1]):
                best = (f"{fstype} {dev}", mnt)
    except OSError:
        pass
    return f"{best[0]} on {best[1]}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--glance", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the real Glance (default: yes)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 32 MiB image, 1 transfer each, 200 images, median of 3")
    parser.add_argument("--size-mib", type=int, default=None, help="image size in MiB (default 256, --quick 32)")
    parser.add_argument("--reps", type=int, default=None, help="uploads and downloads per server (default 3, --quick 1)")
    parser.add_argument("--images", type=int, default=None, help="images to list (default 1000, --quick 200)")
    parser.add_argument("--list-reps", type=int, default=None, help="timed listings per kind (default 5, --quick 3)")
    parser.add_argument("--create-concurrency", type=int, default=8, help="parallel image creations (default 8)")
    parser.add_argument("--glance-dir", default="/tmp/perf-anchors",
                        help="anchors work dir holding Glance's venv (default /tmp/perf-anchors)")
    parser.add_argument("--work-dir", default=None,
                        help="where the temp dir (image file, overcast data, Glance store) goes (default: $TMPDIR)")
    parser.add_argument("--overcast-log-level", default=None, help="passed to overcast up --log-level")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, py-spy overcast during extra uploads, downloads and listings")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args(argv)
    size_mib = args.size_mib or (32 if args.quick else 256)
    size = size_mib * MIB
    reps = args.reps or (1 if args.quick else 3)
    count = args.images or (200 if args.quick else 1000)
    list_reps = args.list_reps or (3 if args.quick else 5)
    bound_reps = 1 if args.quick else 3
    if count > 1000:
        parser.error("--images: Glance and overcast return at most 1000 images per request")

    stamp = time.strftime("%Y%m%d-%H%M%S")
    began = time.perf_counter()
    out_dir = RESULTS / f"image-{stamp}"
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="overcast-image-bench-", dir=args.work_dir))
    report: dict = {
        "benchmark": "image", "time": stamp,
        "machine": {"cores": CORES, "cpu": identity._cpu_model(), "python": platform.python_version(),
                    "kernel": platform.release(), "cpu_pressure": identity._pressure(),
                    "filesystem": _filesystem(work)},
        "overcast_revision": identity._revision(),
        "config": {"size_mib": size_mib, "size_bytes": size, "reps": reps, "images": count, "list_reps": list_reps,
                   "bound_reps": bound_reps, "work_dir": str(work),
                   "overcast_log_level": args.overcast_log_level or "default"},
        "servers_info": {}, "idle": {}, "uploads": {}, "downloads": {},
    }
    targets_list: list[Target] = []
    try:
        src = work / "image.raw"
        log(f"writing {size_mib} MiB of random bytes to {src} ...")
        make_source(src, size)
        log("measuring the bound: copy with fsync, md5 + sha512 ...")
        copy = measure_copy(src, size, bound_reps)
        hashing = measure_hashing(src, size, bound_reps)
        digests = {"md5": hashing["md5"], "sha512": hashing["sha512"]}
        bound = min(copy["mbps"], hashing["single_mbps"])
        report["bound"] = {"copy": copy, "hash": hashing, "mbps": bound,
                           "limited_by": "hashing" if hashing["single_mbps"] < copy["mbps"] else "copy"}
        read_through(src)  # the uploads' source stays page-cached

        oc, info = start_overcast(args, work, logs)
        targets_list.append(oc)
        report["servers_info"]["overcast"] = info
        if args.glance:
            gl, info = start_glance(args, work, logs)
            targets_list.append(gl)
            report["servers_info"]["glance"] = info
        report["servers"] = [t.name for t in targets_list]

        log("warm-up: a 4 MiB upload and download on each ...")
        small = work / "warmup.raw"
        make_source(small, 4 * MIB)
        for t in targets_list:
            image_id = t.create_image("bench-warmup")
            r = put_file(t, f"/v2/images/{image_id}/file", small, 4 * MIB)
            if r["status"] != 204:
                raise RuntimeError(f"{t.name}: warm-up upload answered {r['status']}: {r['body']}")
            get_file(t, f"/v2/images/{image_id}/file")
            t.delete_image(image_id)
            list_once(t, None)
        small.unlink()
        for t in targets_list:
            time.sleep(0.5)
            report["idle"][t.name] = {"rss_bytes": t.server.rss_bytes(),
                                      "processes": len(procs.process_tree(t.server.pid))}

        images = {t.name: [] for t in targets_list}
        for rep in range(reps):
            order = targets_list if rep % 2 == 0 else targets_list[::-1]
            for t in order:
                image_id = t.create_image(f"bench-upload-{rep}")
                r = upload(t, image_id, src, size, digests)
                images[t.name].append(image_id)
                report["uploads"].setdefault(t.name, []).append(r)
                log(f"  upload   {t.name:<9} {r['mbps']:7.1f} MB/s  server CPU {r['server_cpu_s']:.2f}s "
                    f"(user {r['server_user_s']:.2f} sys {r['server_sys_s']:.2f}, busiest thread "
                    f"{r['busiest_thread_s']:.2f})  "
                    f"client CPU {r['client_cpu_s']:.3f}s  RSS +{r['rss_delta'] / MB:.1f} MB  "
                    f"sync after {r['sync_after_s']:.3f}s  others {r['other_cores']:.2f} cores")
        for rep in range(reps):
            order = targets_list if rep % 2 == 0 else targets_list[::-1]
            for t in order:
                r = download(t, images[t.name][rep], size)
                report["downloads"].setdefault(t.name, []).append(r)
                log(f"  download {t.name:<9} {r['mbps']:7.1f} MB/s  server CPU {r['server_cpu_s']:.2f}s  "
                    f"client CPU {r['client_cpu_s']:.3f}s  RSS +{r['rss_delta'] / MB:.1f} MB  "
                    f"others {r['other_cores']:.2f} cores")
        for t in targets_list:
            for image_id in images[t.name]:
                t.delete_image(image_id)

        report["create"] = {}
        for t in targets_list:
            log(f"creating {count} images on {t.name} ({args.create_concurrency} at a time) ...")
            report["create"][t.name] = create_images(t, count, args.create_concurrency)
            c = report["create"][t.name]
            log(f"  {c['per_s']:.0f} images/s" + (f"; {c['failed']} failed {c['statuses']}, made up one at a time"
                                                   if c["failed"] else ""))
        log(f"listing {count} images, {list_reps} times each way ...")
        report["listing"] = measure_listing(targets_list, count, list_reps)
        for t in targets_list:
            ls = report["listing"][t.name]
            log(f"  {t.name:<9} single {ls['single']['median_ms']:.1f} ms, paged {ls['paged']['median_ms']:.1f} ms "
                f"({ls['paged']['requests']} requests)")

        transfers = [r for n in report["uploads"].values() for r in n] + \
                    [r for n in report["downloads"].values() for r in n]
        worst = max(r["client_cpu_s"] / r["wall_s"] for r in transfers)
        report["client"] = {
            "max_core_share": worst,
            "other_cores_max": max(r["other_cores"] for r in transfers),
            "verdict": "not the bottleneck" if worst < 0.5 else "WARNING: the client may limit the fastest transfers",
        }
        if args.profile:
            pyspy = identity.find_pyspy()
            if pyspy is None:
                log("--profile: py-spy not found (pip install py-spy into a venv; see bench/README.md)")
                report["profiles"] = {"all": {"error": "py-spy not found"}}
            else:
                report["profiles"] = run_profiles(pyspy, oc, src, size, digests, count, out_dir)
    finally:
        for t in targets_list:
            t.close()
            t.server.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report["targets"] = targets(report)
    print_report(report)
    identity.save_results("image", report, stamp, began, logs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
