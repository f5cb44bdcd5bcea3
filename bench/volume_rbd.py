"""The rbd volume driver's operations on a throw-away one-node Ceph cluster, timed.

    python bench/volume_rbd.py [--runs 5] [--cluster DIR]

Starts a cluster with tools/ceph-one-node.sh in a temp directory (or uses a running one's
DIR/ceph.conf with ``--cluster``), makes a pool, and times each driver call ``--runs``
times: create (1 GiB), extend, snapshot, volume from snapshot (clone), clone of a volume,
volume from a 64 MiB raw image, connection info, delete; prints the median and the range
in ms. Everything it made is removed (the cluster is purged when it started it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import cephcluster  # noqa: E402
from overcast.volume.drivers import ImageSource  # noqa: E402
from overcast.volume.drivers.rbd import RbdVolumeDriver  # noqa: E402


def timed(samples: dict, name: str, call, *args):
    start = time.perf_counter()
    result = call(*args)
    samples.setdefault(name, []).append((time.perf_counter() - start) * 1000)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cluster", help="directory of a running tools/ceph-one-node.sh cluster")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-rbd-"))
    started = args.cluster is None
    if started:
        begin = time.perf_counter()
        cluster = cephcluster.start(work / "ceph")
        print(f"cluster start: {time.perf_counter() - begin:.1f} s")
    else:
        d = Path(args.cluster)
        cluster = cephcluster.CephCluster(dir=d, conf=d / "ceph.conf", keyring=d / "keyring", pool="volumes")
    pool = cluster.new_pool()
    try:
        driver = RbdVolumeDriver(work, pool=pool, ceph_conf=str(cluster.conf), keyring=str(cluster.keyring))
        driver.init_host("bench@rbd")
        image = work / "image.raw"
        with open(image, "wb") as handle:
            handle.write(b"\1" * (64 << 20))
        source = ImageSource(id="bench", disk_format="raw", size=64 << 20, path=str(image))
        samples: dict[str, list[float]] = {}
        for _ in range(args.runs):
            volume, snap, child, clone, from_image = (str(uuid.uuid4()) for _ in range(5))
            timed(samples, "create 1 GiB", driver.create_volume, volume, 1)
            timed(samples, "extend to 2 GiB", driver.extend_volume, volume, 2)
            timed(samples, "snapshot", driver.create_snapshot, snap, volume)
            timed(samples, "volume from snapshot", driver.create_volume_from_snapshot, child, snap, 2)
            timed(samples, "clone of a volume", driver.create_cloned_volume, clone, volume, 2)
            timed(samples, "from a 64 MiB raw image", driver.create_volume_from_image, from_image, 1, source)
            timed(samples, "connection info", driver.initialize_connection, volume, {"host": "h"})
            timed(samples, "delete (kept: has clones)", driver.delete_volume, volume)
            timed(samples, "delete snapshot (flattens)", driver.delete_snapshot, snap)
            for made in (child, clone, from_image):
                timed(samples, "delete", driver.delete_volume, made)
        timed(samples, "stats", driver.stats)
        for name, values in samples.items():
            print(f"{name:28s} median {statistics.median(values):8.1f} ms  ({min(values):.1f}-{max(values):.1f},"
                  f" n={len(values)})")
    finally:
        cluster.drop_pool(pool)
        if started:
            cephcluster.purge(work / "ceph")
        for path in sorted(work.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
