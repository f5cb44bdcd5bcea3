"""Large-object PUTs of two overcast source trees in one interleaved run (before/after a change).

    .venv/bin/python bench/objectstore_ab.py --before /tmp/overcast-main --after . [--large-mib 256 --large-reps 5]

Each tree is started as its own `overcast up` (PYTHONPATH pointing at it) and measured with
objectstore_large.run_large: its PUTs rotate with the other tree's and with `cp` + fsync of
the same file, so all three meet the same machine load; medians per side and each side's
share of `cp` + fsync. An older tree to compare with: `git worktree add /tmp/overcast-main main`
(or `git archive main | tar -x -C DIR`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from identity import log
from objectstore_large import run_large
from objectstore_servers import start_overcast


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="source tree measured as 'before'")
    parser.add_argument("--after", default=str(Path(__file__).resolve().parent.parent), help="(default: this tree)")
    parser.add_argument("--large-mib", type=int, default=256)
    parser.add_argument("--large-reps", type=int, default=5)
    parser.add_argument("--overcast-log-level", default="WARNING")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="overcast-objectstore-ab-"))
    targets = []
    try:
        for label, tree in (("before", args.before), ("after", args.after)):
            os.environ["PYTHONPATH"] = str(Path(tree).resolve())
            (work / label).mkdir()
            target, _ = start_overcast(args, work / label, work)
            target.name = label
            targets.append(target)
        result = run_large(targets, work, args.large_mib << 20, args.large_reps, log)
    finally:
        for target in targets:
            target.stop()
        shutil.rmtree(work, ignore_errors=True)
    cp = result["cp"]["mbps"]
    print(f"cp + fsync {cp:.0f} MB/s (median), md5 in one thread {result['md5_mbps']:.0f} MB/s")
    for label in ("before", "after"):
        puts = result["puts"][label]
        mbps = statistics.median(r["mbps"] for r in puts)
        cpu = statistics.median(r["server_cpu_s"] for r in puts)
        runs = " ".join(f"{r['mbps']:.0f}" for r in puts)
        print(f"PUT {args.large_mib} MiB {label:<6} {mbps:6.0f} MB/s = {mbps / cp:4.0%} of cp + fsync; "
              f"server CPU {cpu:.2f} s; runs {runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
