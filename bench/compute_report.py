"""The table and the targets of bench/compute.py."""

from __future__ import annotations

from identity import fmt

TARGET_ACTIVE_P50_MS = 50.0
TARGET_LIST_P50_MS = 250.0


def targets(report: dict) -> list[dict]:
    out = []
    for r in report.get("latency", []):
        if r["poll_ms"] != report["config"]["poll_ms"]:
            continue  # the slow-poll run only shows what the polls cost
        out.append({"name": f"create-to-ACTIVE p50 at concurrency {r['concurrency']} <= {TARGET_ACTIVE_P50_MS:.0f} ms",
                    "value": round(r["active_p50_ms"], 1), "met": r["active_p50_ms"] <= TARGET_ACTIVE_P50_MS
                    and r["active"] == r["count"]})
    for r in report.get("listing", []):
        out.append({"name": f"GET /servers/detail?limit=1000 of {report['fill']['total']} servers at {r['version']} "
                            f"p50 <= {TARGET_LIST_P50_MS:.0f} ms",
                    "value": round(r["one_page"]["p50_ms"], 1), "met": r["one_page"]["p50_ms"] <= TARGET_LIST_P50_MS})
    race = report.get("race")
    if race and "ok" in race:
        out.append({"name": f"{race['count']} concurrent boots on {len(race['hosts'])} host(s): none oversubscribed, "
                            f"ACTIVE = capacity ({race['capacity_servers']})",
                    "value": f"{race['outcomes']}", "met": race["ok"]})
    return out


def print_report(report: dict) -> None:
    print()
    print(f"overcast compute benchmark, {report['time']}, revision {report['overcast_revision']}, "
          f"{report['machine']['cores']} cores ({report['machine']['cpu']})")
    lat = list(report.get("latency", []))
    if report.get("latency_full_project"):
        lat.append(report["latency_full_project"])
    if lat:
        print()
        print("create-to-ACTIVE (m1.nano, fake driver; ms; ACTIVE = POST sent to the first GET showing ACTIVE)")
        print(f"  {'servers':>7} {'conc':>4} {'poll':>4} {'boots':>5} {'POST p50':>9} {'p99':>7} {'ACTIVE p50':>11} "
              f"{'p99':>7} {'max':>7} {'polls':>6} {'boots/s':>8} {'srv CPU/boot':>13} {'others':>6} {'outcomes'}")
        for r in lat:
            had = r.get("servers_in_project")
            print(f"  {'~0' if had is None else had:>7} {r['concurrency']:>4} {r['poll_ms']:>4g} {r['count']:>5} "
                  f"{fmt(r['post_p50_ms']):>9} {fmt(r['post_p99_ms']):>7} "
                  f"{fmt(r['active_p50_ms']):>11} {fmt(r['active_p99_ms']):>7} {fmt(r['active_max_ms']):>7} "
                  f"{fmt(r['polls_mean']):>6} {fmt(r['boots_per_s']):>8} {fmt(r['server_cpu_ms_per_boot']):>10} ms "
                  f"{fmt(r.get('other_cores'), '.2f'):>6} {r['outcomes']}")
        print("  servers: already in the project (~0: the few hundred of the earlier runs); srv CPU/boot includes "
              "the polls; others: cores the rest of the machine kept busy meanwhile")
        for name, q in report.get("requests", {}).items():
            print(f"  {name} alone: p50 {q['p50_ms']:.2f} ms, server CPU {q['server_cpu_ms']:.2f} ms per request")
    rally = report.get("rally")
    if rally:
        print()
        print(f"rally ({rally.get('version', '')}): NovaServers.boot_and_delete_server, {rally['times']} iterations, "
              f"concurrency {rally['concurrency']} (seconds); each iteration's clients log in with a password first, "
              f"inside nova.boot_server (one password token issue alone: "
              f"{rally.get('password_token_issue_ms', float('nan')):.0f} ms, bcrypt)")
        for label, run in rally["runs"].items():
            if "error" in run:
                print(f"  {label}: FAILED: {run['error'][-600:]}")
                continue
            poll = "Rally's default polling" if run["poll_s"] is None else f"prepoll 0, poll every {run['poll_s']} s"
            print(f"  {label} ({poll}); load duration {run['load_duration_s']:.1f}s")
            print(f"    {'action':<20} {'min':>7} {'median':>7} {'90%ile':>7} {'95%ile':>7} {'max':>7} {'success':>8}")
            for name, s in [("total", run["total"]), *run["atomics"].items()]:
                print(f"    {name:<20} {s['min']:>7.3f} {s['median']:>7.3f} {s['90%ile']:>7.3f} {s['95%ile']:>7.3f} "
                      f"{s['max']:>7.3f} {s['success']:>8}")
            for error in run["errors"]:
                print(f"    error: {error}")
    fill = report.get("fill")
    if fill:
        print()
        print(f"filling: {fill['created']} servers in {fill['requests']} POSTs of max_count={fill['batch']} "
              f"({fill['concurrency']} in flight): POST p50 {fill['post_p50_s']:.2f}s, all ACTIVE after "
              f"{fill['all_settled_s']:.1f}s = {fill['servers_per_s']:.0f} servers/s, "
              f"{fill['server_cpu_ms_each']:.1f} ms server CPU each; {fill['error_servers']} ERROR")
        noise = max((r["one_page"].get("other_cores", 0.0) for r in report.get("listing", [])), default=0.0)
        print(f"listing {fill['total']} servers (ms; the rest of the machine kept up to {noise:.2f} cores busy "
              "meanwhile)")
        print(f"  {'microversion':<16} {'what':<24} {'p50':>7} {'p90':>7} {'min':>7} {'max':>7} {'srv CPU':>8} "
              "size")
        for r in report.get("listing", []):
            one = r["one_page"]
            print(f"  {r['version']:<16} {'detail?limit=1000':<24} {one['p50_ms']:>7.1f} {one['p90_ms']:>7.1f} "
                  f"{one['min_ms']:>7.1f} {one['max_ms']:>7.1f} {one['server_cpu_ms']:>8.1f} "
                  f"{one['servers']} servers, {one['bytes'] / 1e6:.2f} MB")
            if "gc" in one:
                g = one["gc"]
                print(f"  {'':<16} full GCs: {g['listings_with_full_gc']} of {len(g['full_gc_ms'])} listings had one "
                      f"(gen 2, {sum(g['full_gc_ms']) / max(g['listings_with_full_gc'], 1):.0f} ms each); p50 of the "
                      f"others {fmt(g['p50_ms_without_full_gc'])} ms")
            if "all_pages" in r:
                a = r["all_pages"]
                print(f"  {'':<16} {'all, following next':<24} {a['p50_ms']:>7.1f} {a['p90_ms']:>7.1f} "
                      f"{a['min_ms']:>7.1f} {a['max_ms']:>7.1f} {a['server_cpu_ms']:>8.1f} "
                      f"{a['pages']} pages, {a['servers']} servers")
    race = report.get("race")
    if race:
        print()
        if "hosts" not in race:
            print(f"race: did not run: {race}")
        else:
            print(f"race: {race['count']} concurrent boots of m1.nano, {len(race['hosts'])} host(s) "
                  f"({race['database']} database, {race['bus']} bus); agent command: "
                  f"{'yes' if race['agent_command'] else 'NOT THERE YET (one host only)'}")
            print(f"  POSTs: {race['posted']['statuses']} p50 {race['posted']['p50_ms']:.0f} ms, settled after "
                  f"{race['settle_s']:.1f}s; outcomes {race['outcomes']}; faults {race['faults']}")
            print(f"  {'host':<14} {'vcpus used/cap':>15} {'RAM MB used/cap':>18} {'disk GB used/cap':>17} "
                  f"{'ACTIVE here':>11}")
            for h in race["hosts"]:
                print(f"  {h['host']:<14} {h['vcpus_used']:>7}/{h['vcpus_cap']:<7g} "
                      f"{h['memory_mb_used']:>8}/{h['memory_mb_cap']:<9g} "
                      f"{h['local_gb_used']:>7}/{h['local_gb_cap']:<9g} "
                      f"{h['active_here']:>11}")
            for v in race["violations"]:
                print(f"  VIOLATION: {v}")
    for label, p in report.get("profiles", {}).items():
        print()
        if "error" in p:
            print(f"profile {label}: {p['error']}")
            continue
        print(f"profile {label} (py-spy, share of busy thread samples; {p['note']}; raw: {p['file']})")
        print("  threads: " + ", ".join(f"{n} {s}%" for n, s in p["threads"]))
        print("  self: " + "; ".join(f"{f} {s}%" for f, s in p["self"][:12]))
        print("  inclusive (overcast): " + "; ".join(f"{f} {s}%" for f, s in p["inclusive"] if f.startswith("overcast"))
              [:1500])
    print()
    print("targets")
    for t in report.get("targets", []):
        print(f"  [{'met' if t['met'] else 'MISSED'}] {t['name']}: {t['value']}")
