"""The listing claim of issue 7 at scale: one container's index filled to a million rows.

    .venv/bin/python bench/objectstore_million.py [--rows 1000000] [--database-url URL]

No HTTP and no blobs: the rows go straight into the index table (batched inserts, as the
service's own writes would leave them), and the timed calls are the service layer's, the
ones the API's handlers make. The same pages are timed on a small container (``--small``
rows, default 10,000, named the same way) in the same database, so the figure to read is
the ratio: "a page costs the same at the millionth object as at the tenth".

Names are ``d<NNNN>/o<NNNNNNN>``, 1,000 pseudo-directories in each container (of 1,000
objects at a million rows, of 10 at the default small size), so every page has as many
items in both. Timed (median of ``--reps``, after one warm-up): the first page of 10,000 (Swift's
default limit), 1,000 after a marker in the middle, 1,000 under a prefix, 1,000 subdirs
with delimiter ``/``, prefix and delimiter together, reverse from a marker, end_marker;
HEAD's container row, the object lookup of GET/HEAD, one more object PUT into the index,
and the expired-object sweep a listing runs first. Writes
bench/results/objectstore-million-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from overcast.common.config import load  # noqa: E402
from overcast.common.db import Database  # noqa: E402
from overcast.common.db.migrate import upgrade  # noqa: E402
from overcast.objectstore.models import SwiftContainer, SwiftObject  # noqa: E402
from overcast.objectstore.service import Listing, ObjectStoreService, name_hash, now  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BATCH = 20000
DIRS = 1000  # pseudo-directories in each container, whatever its size


def object_name(i: int, rows: int) -> str:
    return f"d{i // max(1, rows // DIRS):04d}/o{i:07d}"


def fill(svc: ObjectStoreService, account: str, name: str, rows: int) -> float:
    """``rows`` index rows in a new container; seconds it took."""
    svc.put_container(account, name, {}, {})
    box = svc.container(account, name)
    started = time.perf_counter()
    stamp = now()
    for start in range(0, rows, BATCH):
        batch = []
        for i in range(start, min(rows, start + BATCH)):
            key = object_name(i, rows)
            batch.append({"container_id": box.id, "name": key, "name_hash": name_hash(key), "size": 4096,
                          "etag": "0" * 32, "content_type": "application/octet-stream", "last_modified": stamp,
                          "meta": {}, "location": None, "delete_at": None, "manifest": None,
                          "static_manifest": False, "segments": 0})
        with svc.db.session() as session:
            session.execute(insert(SwiftObject), batch)
    with svc.db.session() as session:
        session.execute(update(SwiftContainer).where(SwiftContainer.id == box.id)
                        .values(object_count=rows, bytes_used=rows * 4096))
    return time.perf_counter() - started


def cases(rows: int) -> dict:
    """The listings (as Listing fields) and the object a lookup reads, for a container of ``rows``."""
    middle = object_name(rows // 2, rows)
    directory = middle.split("/")[0] + "/"
    return {
        "first 10000": Listing(limit=10000),
        "marker (middle), 1000": Listing(limit=1000, marker=middle),
        "prefix d<mid>/, 1000": Listing(limit=1000, prefix=directory),
        "delimiter /, 1000": Listing(limit=1000, delimiter="/"),
        "delimiter / after marker": Listing(limit=1000, delimiter="/", marker=directory),
        "prefix + delimiter": Listing(limit=1000, prefix=directory, delimiter="/"),
        "reverse from marker": Listing(limit=1000, marker=middle, reverse=True),
        "end_marker, 1000": Listing(limit=1000, end_marker=middle),
    }


def timed(call, reps: int) -> tuple[float, object]:
    call()
    times, result = [], None
    for _ in range(reps):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, result


def measure(svc: ObjectStoreService, account: str, name: str, rows: int, reps: int) -> dict:
    box = svc.container(account, name)
    out = {}
    for label, listing in cases(rows).items():
        ms, found = timed(lambda listing=listing: svc.list_objects(box, listing), reps)
        out[label] = {"ms": ms, "items": len(found)}
    target = object_name(rows // 2, rows)
    out["container row (HEAD)"] = {"ms": timed(lambda: svc.container(account, name), reps)[0]}
    out["object lookup (GET/HEAD)"] = {"ms": timed(lambda: svc.locate(account, name, target), reps)[0]}
    out["expired sweep"] = {"ms": timed(lambda: svc.list_objects(box, Listing(limit=1)), reps)[0]}
    out["object PUT (index, empty body)"] = {"ms": asyncio.run(_puts(svc, box, max(reps, 200)))}
    return out


async def _puts(svc: ObjectStoreService, box, reps: int) -> float:
    """Median ms of one more (empty) object PUT through the service, in one event loop."""

    async def empty():
        return
        yield b""

    times = []
    for i in range(reps + 1):
        started = time.perf_counter()
        await svc.put_object(box, f"new-{i:06d}", empty(), 0, {"content_type": "text/plain", "meta": {}})
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:]) * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10000, help="rows of the small container compared with")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="an empty database (default: SQLite in a temp dir)")
    args = parser.parse_args(argv)
    gc.set_threshold(50000, 20, 100)  # as `overcast up` runs (overcast/cli.py)
    with tempfile.TemporaryDirectory(prefix="overcast-million-") as tmp:
        config = load(environ={}, server__data_dir=tmp, objectstore__store="memory",
                      **({"database__url": args.database_url} if args.database_url else {}))
        db = Database(config.database_url)
        upgrade(db)
        svc = ObjectStoreService(config, db)
        account = "AUTH_bench"
        report = {"rows": args.rows, "small": args.small, "database": db.engine.dialect.name, "reps": args.reps}
        report["fill_small_s"] = fill(svc, account, "small", args.small)
        report["fill_s"] = fill(svc, account, "big", args.rows)
        print(f"filled {args.rows} rows in {report['fill_s']:.1f} s ({db.engine.dialect.name})", flush=True)
        small = measure(svc, account, "small", args.small, args.reps)
        big = measure(svc, account, "big", args.rows, args.reps)
        db.close()
    report["small_ms"], report["big_ms"] = small, big
    print(f"{'call':<32}{args.small:>12,} rows{args.rows:>14,} rows{'ratio':>8}")
    for label in big:
        a, b = small[label]["ms"], big[label]["ms"]
        items = f" ({small[label]['items']} / {big[label]['items']} items)" if "items" in big[label] else ""
        print(f"{label:<32}{a:>14.2f} ms{b:>16.2f} ms{b / a if a else 0:>8.1f}{items}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"objectstore-million-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
