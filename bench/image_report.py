"""The report of bench/image.py: the printed table and overcast's targets.

``targets`` checks the results against overcast's goals (upload speed against Glance and
the bound, flat RSS, listing speed); ``print_report`` prints the bound, the side-by-side
table, the targets and any profiles.
"""

from __future__ import annotations

import statistics

import identity
from image_bound import CORES, MB
from image_profile import print_targets_and_profiles


fmt = identity.fmt


def med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs) if runs else float("nan")


def print_report(report: dict) -> None:
    names = report["servers"]
    two = len(names) == 2
    cfg = report["config"]
    size = cfg["size_bytes"]
    print()
    print("image benchmark: " + ("overcast vs Glance 33.x (uWSGI 2 processes x 1 thread, SQLite, file store, no auth)"
                                 if two else "overcast only (--no-glance)"))
    m = report["machine"]
    print(f"machine: {m['cores']} cores, {m['cpu']}; Python {m['python']}; work dir {cfg['work_dir']} "
          f"({m['filesystem']}); overcast revision {report['overcast_revision']}")
    print(f"image: {cfg['size_mib']} MiB of random bytes (raw/bare); {cfg['reps']} uploads and downloads per server, "
          f"interleaved; listing {cfg['images']} images, median of {cfg['list_reps']}; MB = 10^6 bytes")
    print()
    b = report["bound"]
    cp, h = b["copy"], b["hash"]
    print(f"physical bound ({cfg['size_mib']} MiB, source file in the page cache, target on the stores' filesystem; "
          f"medians of {cfg['bound_reps']}):")
    runs = lambda xs: " ".join(f"{size / x / MB:.0f}" for x in xs)  # noqa: E731
    print("  copy to a new file + fsync:  " + ";  ".join(
        f"{k} {v['mbps']:.1f} MB/s (runs {runs(v['runs_s'])}; {v['cpu_s']:.2f} CPU-s)" for k, v in cp["ways"].items())
        + f"  -> cp {cp['mbps']:.1f} MB/s")
    print(f"  hashing in Python: md5 + sha512 in one thread {h['single_mbps']:7.1f} MB/s ({h['single_cpu_s']:.2f} CPU-s; "
          f"md5 alone {h['md5_mbps']:.1f}, sha512 alone {h['sha512_mbps']:.1f});  md5 || sha512 in two threads "
          f"{h['parallel_mbps']:.1f} MB/s")
    print(f"  bound = slower of cp and one-thread hashing = {b['mbps']:.1f} MB/s ({b['limited_by']})")
    need = h["single_cpu_s"] + cp["cpu_s"]
    print(f"  (CPU an upload cannot avoid: hashing + copying into the page cache = {need:.2f} CPU-s, so with "
          f"{CORES} cores even a perfectly parallel server tops out near {size / (need / CORES) / MB:.0f} MB/s "
          f"before receiving from the socket)")
    print()
    w = 22
    head = f"{'':<34}|" + "".join(f"{n:>{w}}" for n in names) + (f"{'overcast / glance':>20}" if two else "")
    print(head)
    print("-" * len(head))

    def row(label, values, ratio=None, spec=".1f", suffix=""):
        line = f"{label:<34}|" + "".join(f"{fmt(v, spec) + suffix:>{w}}" for v in values)
        if two and ratio is not None:
            line += f"{fmt(ratio, '.2f') + 'x':>20}"
        print(line)

    up = {n: report["uploads"][n] for n in names}
    down = {n: report["downloads"][n] for n in names}

    def ratio(a, b, inverse=False):
        if not two or not a or not b or a != a or b != b:
            return None
        return b / a if inverse else a / b

    def both(d, key, scale=1.0):
        return [med(d[n], key) * scale for n in names]

    v = both(up, "mbps")
    row("upload MB/s (median)", v, ratio(*v) if two else None)
    print(f"{'  runs':<34}|" + "".join(f"{' '.join(fmt(r['mbps'], '.0f') for r in up[n]):>{w}}" for n in names))
    row("  % of bound", [x / b["mbps"] * 100 for x in v], spec=".0f", suffix="%")
    v = both(up, "server_cpu_s")
    row("  server CPU s / upload", v, ratio(*v, inverse=True) if two else None, spec=".2f")
    print(f"{'    of which user / sys':<34}|" + "".join(
        f"{fmt(med(up[n], 'server_user_s'), '.2f') + ' / ' + fmt(med(up[n], 'server_sys_s'), '.2f'):>{w}}"
        for n in names))
    row("  busiest server thread, CPU s", both(up, "busiest_thread_s"), spec=".2f")
    row("  server cores busy", [med(up[n], "server_cpu_s") / med(up[n], "wall_s") for n in names], spec=".2f")
    row("  client CPU s / upload (sendfile)", both(up, "client_cpu_s"), spec=".3f")
    row("  server RSS max - before, MB", [max(r["rss_delta"] for r in up[n]) / MB for n in names], spec=".1f")
    row("  server RSS before, MB", [up[n][0]["rss_before"] / MB for n in names], spec=".1f")
    row("  os.sync() right after upload, s", both(up, "sync_after_s"), spec=".3f")
    row("  other processes, cores", [max(r["other_cores"] for r in up[n]) for n in names], spec=".2f")
    v = both(down, "mbps")
    row("download MB/s (median)", v, ratio(*v) if two else None)
    print(f"{'  runs':<34}|" + "".join(f"{' '.join(fmt(r['mbps'], '.0f') for r in down[n]):>{w}}" for n in names))
    v = both(down, "server_cpu_s")
    row("  server CPU s / download", v, ratio(*v, inverse=True) if two else None, spec=".2f")
    row("  busiest server thread, CPU s", both(down, "busiest_thread_s"), spec=".2f")
    row("  client CPU s / download", both(down, "client_cpu_s"), spec=".3f")
    row("  server RSS max - before, MB", [max(r["rss_delta"] for r in down[n]) / MB for n in names], spec=".1f")
    row("  first byte, ms", both(down, "first_byte_s", 1000), spec=".1f")
    cr = report["create"]
    v = [cr[n]["per_s"] for n in names]
    row(f"create {cfg['images']} images, per s (c={cr[names[0]]['concurrency']})", v, ratio(*v) if two else None)
    row("  server CPU ms / create", [cr[n]["server_cpu_ms_each"] for n in names], spec=".2f")
    failed = [", ".join(f"{v} x {k}" for k, v in cr[n]["statuses"].items() if str(k) != "201") or "0" for n in names]
    print(f"{'  failed, made up one at a time':<34}|" + "".join(f"{f:>{w}}" for f in failed))
    ls = report["listing"]
    for kind, label in (("single", f"list limit={cfg['images']}, ms"), ("paged", "list, default pages, ms")):
        v = [ls[n][kind]["median_ms"] for n in names]
        row(label, v, ratio(*v, inverse=True) if two else None)
        if kind == "paged":
            print(f"{'  requests':<34}|" + "".join(f"{ls[n][kind]['requests']:>{w}}" for n in names))
        print(f"{'  runs ms':<34}|" + "".join(
            f"{' '.join(fmt(x, '.0f') for x in ls[n][kind]['runs_ms']):>{w}}" for n in names))
        row("  server CPU ms / listing", [ls[n][kind]["server_cpu_ms"] for n in names], spec=".1f")
        row("  response bytes (all pages)", [ls[n][kind]["bytes"] for n in names], spec=".0f")
    row("idle RSS after warm-up, MB", [report["idle"][n]["rss_bytes"] / MB for n in names])
    print("(ratios: MB/s and images/s overcast / glance; CPU and times glance / overcast, so > 1 favours overcast)")
    cl = report["client"]
    print(f"client: sized PUT streamed with sendfile, GET read into a reused 1 MiB buffer; at most "
          f"{100 * cl['max_core_share']:.0f}% of one core in any transfer: {cl['verdict']}")
    print(f"noise: other processes used up to {cl['other_cores_max']:.2f} of {CORES} cores during a transfer; "
          f"CPU pressure at start: {m['cpu_pressure']}")
    print("note: server sys CPU is mostly the kernel receiving the data and copying it into the page cache "
          "(write(2)); on a VM whose host takes back free guest memory that copy costs 0.05-0.9 CPU-s per 256 MiB "
          "depending on the memory state (it tends to grow through a run, for both servers; compare the copy runs "
          "of the bound), so compare user CPU too")
    if two:
        print("note: Glance's file store does not fsync (its data is in the page cache when it answers: see the "
              "os.sync() line); overcast fsyncs the file and its directory before it answers 204")
    print()
    print_targets_and_profiles(report, width=44, top_self=12, top_inclusive=16)


def targets(report: dict) -> list[dict]:
    names = report["servers"]
    two = "glance" in names
    out = []
    oc_up = med(report["uploads"]["overcast"], "mbps")
    if two:
        gl_up = med(report["uploads"]["glance"], "mbps")
        r = oc_up / gl_up
        out.append({"name": "upload >= 1.5x Glance", "pass": r >= 1.5, "value": r,
                    "detail": f"{oc_up:.1f} / {gl_up:.1f} MB/s = {r:.2f}x"})
    else:
        out.append({"name": "upload >= 1.5x Glance", "pass": None, "value": None,
                    "detail": f"{oc_up:.1f} MB/s (no Glance run)"})
    bound = report["bound"]["mbps"]
    out.append({"name": "upload >= 70% of the bound", "pass": oc_up >= 0.7 * bound, "value": oc_up / bound,
                "detail": f"{oc_up:.1f} MB/s = {100 * oc_up / bound:.0f}% of {bound:.1f} MB/s"})
    worst = max(r["rss_delta"] for r in report["uploads"]["overcast"])
    out.append({"name": "overcast RSS flat within 30 MB during upload", "pass": worst <= 30 * MB, "value": worst,
                "detail": f"max - before = {worst / MB:.1f} MB at worst over {len(report['uploads']['overcast'])} "
                          f"uploads (sampled every 50 ms)"})
    for kind, label in (("single", "list 1000 images >= 5x faster than Glance"),
                        ("paged", "  the same, paging at the default size")):
        oc = report["listing"]["overcast"][kind]["median_ms"]
        if two:
            gl = report["listing"]["glance"][kind]["median_ms"]
            r = gl / oc
            out.append({"name": label, "pass": r >= 5, "value": r,
                        "detail": f"{oc:.1f} ms vs {gl:.1f} ms = {r:.2f}x"})
        else:
            out.append({"name": label, "pass": None, "value": None, "detail": f"{oc:.1f} ms (no Glance run)"})
    return out

