"""The report of bench/objectstore.py: overcast's targets and the printed table.

``targets`` checks small-object ops/s (>= 2x Swift), large-object MB/s (>= 1x Swift) and
256 MiB throughput (>= 60% of `cp` + fsync of the same file); each target names the case
``objectstore_profile`` samples when it is missed. ``print_report`` prints the table.
"""

from __future__ import annotations

import statistics

from identity import fmt
from image_profile import print_targets_and_profiles
from objectstore_ops import MB

SMALL_RATIO, LARGE_RATIO, CP_SHARE = 2.0, 1.0, 0.60


def _med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs) if runs else float("nan")


def targets(report: dict) -> list[dict]:
    names = report["servers"]
    two = "swift" in names and "overcast" in names
    out = []

    def ratio_target(label, case, oc, sw, want, unit):
        ok = None if not two or sw != sw or oc != oc else oc >= want * sw
        detail = (f"{fmt(oc)} vs {fmt(sw)} {unit} = {fmt(oc / sw if two and sw else None, '.2f')}x"
                  if two else f"{fmt(oc)} {unit} (no Swift in this run)")
        out.append({"name": label, "case": case, "pass": ok, "detail": detail})

    for cell, by in report.get("ops", {}).items():
        if "overcast" not in by:
            continue
        op, size, conc = cell.split("-")
        sw = by.get("swift", {})
        if size == "4k":
            ratio_target(f"{op.upper()} 4 KiB at concurrency {conc[1:]}: ops/s >= {SMALL_RATIO:g}x Swift", cell,
                         by["overcast"]["rps"], sw.get("rps", float("nan")), SMALL_RATIO, "ops/s")
        else:
            ratio_target(f"{op.upper()} {size[:-1]} MiB at concurrency {conc[1:]}: MB/s >= {LARGE_RATIO:g}x Swift",
                         cell, by["overcast"]["mbps"], sw.get("mbps", float("nan")), LARGE_RATIO, "MB/s")
    large = report.get("large")
    if large and "overcast" in large["puts"]:
        mib = large["size"] >> 20
        cp = large["cp"]["mbps"]
        for op, key in (("PUT", "puts"), ("GET", "gets")):
            oc = _med(large[key]["overcast"], "mbps")
            sw = _med(large[key].get("swift", []), "mbps")
            case = f"{op.lower()}-{mib}m"
            ratio_target(f"{op} {mib} MiB: MB/s >= {LARGE_RATIO:g}x Swift", case, oc, sw, LARGE_RATIO, "MB/s")
            note = (f"; md5 alone {fmt(large['md5_mbps'], '.0f')} MB/s = {fmt(100 * large['md5_mbps'] / cp, '.0f')}%"
                    if op == "PUT" and "md5_mbps" in large else "")
            out.append({"name": f"{op} {mib} MiB: MB/s >= {CP_SHARE:.0%} of cp + fsync", "case": case,
                        "pass": oc >= CP_SHARE * cp,
                        "detail": f"{fmt(oc)} MB/s = {fmt(100 * oc / cp, '.0f')}% of {fmt(cp)} MB/s{note}"})
    return out


def print_report(report: dict) -> None:
    names = report["servers"]
    two = len(names) == 2
    cfg, m = report["config"], report["machine"]
    print()
    print("object storage benchmark: " + ("overcast vs Swift 2.38 (proxy 2 workers, object 2, container 1, "
                                          "account 1, memcached; tempauth; 1 replica)" if two else "overcast only"))
    print(f"machine: {m['cores']} cores, {m['cpu']}; Python {m['python']}; work dir {cfg['work_dir']} "
          f"({m['filesystem']}); overcast revision {report['overcast_revision']}")
    print(f"runs: {cfg['duration']:g} s each, {cfg['reps']} per server and cell, interleaved; large objects "
          f"{cfg['large_mib']} MiB x {cfg['large_reps']}; listing {cfg['objects']} objects, p50 of "
          f"{cfg['list_reps']}; MB = 10^6 bytes")
    print()
    w = 18
    head = f"{'':<36}|" + "".join(f"{n:>{w}}" for n in names) + (f"{'overcast / swift':>18}" if two else "")
    print(head)
    print("-" * len(head))

    def row(label, values, ratio=None, spec=".1f"):
        line = f"{label:<36}|" + "".join(f"{fmt(v, spec):>{w}}" for v in values)
        if two and ratio is not None:
            line += f"{fmt(ratio, '.2f') + 'x':>18}"
        print(line)

    def ratio(values, inverse=False):
        if not two or not all(v == v and v for v in values):
            return None
        return values[1] / values[0] if inverse else values[0] / values[1]

    for cell, by in report.get("ops", {}).items():
        op, size, conc = cell.split("-")
        small = size.endswith("k")
        label = f"{op.upper()} {size[:-1]} {'KiB' if small else 'MiB'} c={conc[1:]}"
        s = [by.get(n, {}) for n in names]
        v = [x.get("rps", float("nan")) for x in s]
        row(f"{label}: ops/s", v, ratio(v))
        if not small:
            v = [x.get("mbps", float("nan")) for x in s]
            row("  MB/s", v, ratio(v))
        print(f"{'  ops/s of each run':<36}|" + "".join(f"{' '.join(fmt(r, '.0f') for r in x.get('rps_runs', [])):>{w}}"
                                                       for x in s))
        row("  p50 latency, ms", [x.get("p50_ms") for x in s], spec=".2f")
        row("  p99 latency, ms", [x.get("p99_ms") for x in s], spec=".2f")
        v = [x.get("cpu_ms_per_req", float("nan")) for x in s]
        row("  server CPU ms / op", v, ratio(v, inverse=True), spec=".2f")
        row("  server cores busy", [x.get("server_cores") for x in s], spec=".2f")
        errors = [", ".join(f"{k}: {c}" for k, c in x.get("statuses", {}).items() if str(k) not in ("200", "201"))
                  or "0" for x in s]
        if any(e != "0" for e in errors):
            print(f"{'  errors (status: count)':<36}|" + "".join(f"{e:>{w}}" for e in errors))
    large = report.get("large")
    if large:
        mib, cp = large["size"] >> 20, large["cp"]
        for op, key in (("PUT", "puts"), ("GET", "gets")):
            runs = [large[key].get(n, []) for n in names]
            v = [_med(r, "mbps") for r in runs]
            row(f"{op} {mib} MiB: MB/s (median)", v, ratio(v))
            print(f"{'  runs':<36}|" + "".join(f"{' '.join(fmt(x['mbps'], '.0f') for x in r):>{w}}" for r in runs))
            row("  % of cp + fsync", [x / cp["mbps"] * 100 for x in v], spec=".0f")
            v = [_med(r, "server_cpu_s") for r in runs]
            row("  server CPU s", v, ratio(v, inverse=True), spec=".2f")
            print(f"{'    of which user / sys':<36}|" + "".join(
                f"{fmt(_med(r, 'server_user_s'), '.2f') + ' / ' + fmt(_med(r, 'server_sys_s'), '.2f'):>{w}}"
                for r in runs))
            row("  busiest server thread, CPU s", [_med(r, "busiest_thread_s") for r in runs], spec=".2f")
            row("  client CPU s", [_med(r, "client_cpu_s") for r in runs], spec=".3f")
            row("  server RSS max - before, MB", [max((x["rss_delta"] for x in r), default=0) / MB for r in runs])
            if op == "PUT":
                row("  os.sync() right after, s", [_med(r, "sync_after_s") for r in runs], spec=".3f")
            row("  other processes, cores", [max((x["other_cores"] for x in r), default=0) for r in runs], spec=".2f")
        print(f"{f'cp {mib} MiB + fsync, MB/s':<36}|{fmt(cp['mbps']):>{w}}   (runs "
              f"{' '.join(fmt(r['mbps'], '.0f') for r in cp['runs'])}; cp alone, page cache only: "
              f"{fmt(cp['mbps_no_fsync'], '.0f')} MB/s)")
        if "md5_mbps" in large:
            print(f"{f'md5 of {mib} MiB, one thread, MB/s':<36}|{fmt(large['md5_mbps']):>{w}}   (the ETag both stores "
                  f"compute in order over every byte: a one-stream PUT's ceiling)")
    ls, fl = report.get("listing"), report.get("fill")
    if ls:
        v = [ls[n]["p50_ms"] for n in names]
        row(f"list {cfg['objects']} objects, p50 ms", v, ratio(v, inverse=True))
        for n in names:
            print(f"{f'  runs ms, {n}':<36}|  " + " ".join(fmt(x, ".0f") for x in ls[n]["runs_ms"]))
        v = [ls[n]["server_cpu_ms"] for n in names]
        row("  server CPU ms / listing", v, ratio(v, inverse=True))
        row("  response bytes", [ls[n]["bytes"] for n in names], spec=".0f")
    if fl:
        v = [fl[n]["per_s"] for n in names]
        row(f"fill: empty PUTs/s (c={fl[names[0]]['concurrency']})", v, ratio(v))
        row("  server CPU ms / PUT", [fl[n]["server_cpu_ms_each"] for n in names], spec=".2f")
        row("  redone one by one", [fl[n]["redone_one_by_one"] for n in names], spec=".0f")
    rss = report.get("rss", {})
    for when in ("idle", "after"):
        if all(when in rss.get(n, {}) for n in names):
            v = [rss[n][when]["rss_bytes"] / MB for n in names]
            row(f"RSS {'idle after warm-up' if when == 'idle' else 'after the run'}, MB", v, ratio(v, inverse=True))
    print(f"{'  processes':<36}|" + "".join(f"{rss.get(n, {}).get('idle', {}).get('processes', '-'):>{w}}"
                                            for n in names))
    row("ready after start, s", [report["servers_info"][n]["ready_s"] for n in names], spec=".2f")
    print("(ratios: ops/s and MB/s overcast / swift; times, CPU and RSS swift / overcast, so > 1 favours overcast)")
    cl = report.get("client", {})
    if cl:
        print(f"client: loadgen at most {100 * cl['max_core_share']:.0f}% of one core in a run "
              f"({cl['verdict']}); other processes used up to {cl['other_cores_max']:.2f} of {m['cores']} cores")
    print()
    print_targets_and_profiles(report, width=48, top_self=14, top_inclusive=18)
