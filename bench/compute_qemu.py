"""Real guests: boot times and memory of the qemu driver, on a private `overcast up`.

    .venv/bin/python bench/compute_qemu.py [--boots 5] [--concurrent 10] [--memory-mb 128]

Starts overcast (OVERCAST_COMPUTE_DRIVER=qemu, accelerator chosen by the driver: TCG on a
host whose KVM does not boot a kernel) on a temp data dir, uploads the test guest
(tools/build-test-guest.sh, cached in ~/.cache/overcast/test-guest) and measures:

1. boot, image cached (one boot first fills the host's image cache and is not counted):
   POST /servers to the first GET that shows ACTIVE (polled every 20 ms), and POST to
   the console log holding OVERCAST-INIT-START (the guest's first line) and
   OVERCAST-READY (boot finished), polled every 100 ms; ``--boots`` servers one after
   the other, each deleted before the next; p50 and max.
   Targets (issue 8): ACTIVE <= 1 s, marker <= 15 s under TCG.
2. memory per guest once READY: the QEMU process's RSS, the part of it that is guest RAM
   (the RAM block's mapping in /proc/PID/smaps) and the rest, QEMU's own overhead.
   Target: overhead <= 30 MB per guest.
3. ``--concurrent`` guests created in one request (min_count): time to all ACTIVE and to
   all READY, and how many got there, on this machine's cores.

Prints a table and writes bench/results/compute-qemu-<time>.json (and -latest.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "tests"))

from cloudproc import CloudProcess  # noqa: E402


def guest_dir() -> Path:
    out = Path(os.environ.get("OVERCAST_GUEST_DIR", "~/.cache/overcast/test-guest")).expanduser()
    subprocess.run([str(ROOT / "tools" / "build-test-guest.sh"), str(out)], check=True, capture_output=True)
    return out


def connect(cloud: CloudProcess):
    import openstack

    auth = {"auth_url": cloud.auth_url, "username": "admin", "password": cloud.passwords()["admin"],
            "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"}
    return openstack.connect(auth=auth, region_name="RegionOne", identity_api_version="3")


def qemu_pid(uuid: str) -> int | None:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"qemu-system") and uuid.encode() in cmdline:
                return int(entry)
    return None


def memory(pid: int, guest_mb: int) -> dict:
    """RSS of the QEMU process, how much of it is the guest's RAM block, and the rest
    (``overhead_mb``; ``overhead_pss_mb`` shares the pages of the QEMU binary and its
    libraries among the processes mapping them; ``overhead_private_mb`` counts only the
    pages this QEMU wrote and no other process maps (Private_Dirty) and its page tables:
    what one more guest adds to a host that runs QEMU already, the binary's and libraries'
    pages being shared)."""
    total = ram = pss = private = 0
    size = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        if line.startswith("Size:"):
            size = int(line.split()[1])
        elif line.startswith("Rss:"):
            rss = int(line.split()[1])
            total += rss
            if size == guest_mb * 1024:
                ram += rss
        elif line.startswith("Pss:"):
            pss += int(line.split()[1])
        elif line.startswith("Private_Dirty:"):
            private += int(line.split()[1])
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmPTE:"):
            private += int(line.split()[1])
    return {"rss_mb": total / 1024, "guest_ram_mb": ram / 1024, "overhead_mb": (total - ram) / 1024,
            "overhead_pss_mb": (pss - ram) / 1024, "overhead_private_mb": (private - ram) / 1024}


def console(conn, server_id: str) -> str:
    try:
        return conn.compute.get_server_console_output(server_id)["output"]
    except Exception:  # the console is not there yet while the server builds
        return ""


def boot_once(conn, image, flavor, name: str) -> dict:
    began = time.perf_counter()
    server = conn.compute.create_server(name=name, image_id=image.id, flavor_id=flavor.id)
    out = {"id": server.id}
    while "active" not in out:
        status = conn.compute.get_server(server.id).status
        if status == "ERROR":
            raise RuntimeError(f"{name} went ERROR")
        if status == "ACTIVE":
            out["active"] = time.perf_counter() - began
        else:
            time.sleep(0.02)
    while "ready" not in out and time.perf_counter() - began < 180:
        text = console(conn, server.id)
        if "init_start" not in out and "OVERCAST-INIT-START" in text:
            out["init_start"] = time.perf_counter() - began
        if "OVERCAST-READY" in text:
            out["ready"] = time.perf_counter() - began
        else:
            time.sleep(0.1)
    return out


def wait_servers(conn, ids: list[str], began: float, timeout: float = 600) -> dict:
    active, ready, failed = {}, {}, set()
    while len(ready) + len(failed) < len(ids) and time.perf_counter() - began < timeout:
        for server_id in ids:
            status = conn.compute.get_server(server_id).status
            if status == "ERROR":
                failed.add(server_id)
            if server_id not in active and status == "ACTIVE":
                active[server_id] = time.perf_counter() - began
            if server_id in active and server_id not in ready and "OVERCAST-READY" in console(conn, server_id):
                ready[server_id] = time.perf_counter() - began
        time.sleep(0.2)
    return {"active": sorted(active.values()), "ready": sorted(ready.values()), "error": len(failed)}


def p50(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--boots", type=int, default=5)
    parser.add_argument("--concurrent", type=int, default=10)
    parser.add_argument("--memory-mb", type=int, default=128)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    guest = guest_dir()
    work = Path(tempfile.mkdtemp(prefix="overcast-bench-qemu-"))
    cloud = CloudProcess(work / "data", env={"OVERCAST_COMPUTE_DRIVER": "qemu",
                                                      # 10 one-vCPU guests on 2 cores: 4x is not enough
                                                      "OVERCAST_COMPUTE_CPU_ALLOCATION_RATIO": "16"}).start(timeout=60)
    report: dict = {"boots": [], "memory": [], "concurrent": {}}
    try:
        conn = connect(cloud)
        hypervisor = next(iter(conn.compute.hypervisors(details=True)))
        report["hypervisor"] = {"type": hypervisor.hypervisor_type, "version": hypervisor.hypervisor_version}
        with open(guest / "disk.qcow2", "rb") as data:
            image = conn.image.create_image(name="test-guest", data=data, disk_format="qcow2",
                                            container_format="bare", wait=True)
        flavor = conn.compute.create_flavor(name="bench-qemu", ram=args.memory_mb, vcpus=1, disk=1)
        warm = boot_once(conn, image, flavor, "warm")  # fills the image cache
        report["first_boot"] = warm
        conn.compute.delete_server(warm["id"])
        conn.compute.wait_for_delete(conn.compute.get_server(warm["id"]))
        for n in range(args.boots):
            boot = boot_once(conn, image, flavor, f"boot-{n}")
            pid = qemu_pid(boot["id"])
            if pid:
                report["memory"].append(memory(pid, args.memory_mb))
            report["boots"].append(boot)
            print(f"boot {n}: ACTIVE {boot['active']:.2f} s, first line {boot.get('init_start', 0):.2f} s, "
                  f"READY {boot.get('ready', float('nan')):.2f} s", flush=True)
            server = conn.compute.get_server(boot["id"])
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server)
        if args.concurrent:
            start = time.perf_counter()
            conn.compute.post("/servers", json={"server": {
                "name": "many", "imageRef": image.id, "flavorRef": flavor.id,
                "min_count": args.concurrent, "max_count": args.concurrent}})
            ids = [s.id for s in conn.compute.servers() if s.name.startswith("many")]
            waited = wait_servers(conn, ids, start)
            pids = [qemu_pid(i) for i in ids]
            rss = [memory(pid, args.memory_mb) for pid in pids if pid]
            report["concurrent"] = {"count": len(ids), "active": len(waited["active"]),
                                    "ready": len(waited["ready"]), "error": waited["error"],
                                    "all_active_s": waited["active"][-1] if waited["active"] else None,
                                    "all_ready_s": waited["ready"][-1] if waited["ready"] else None,
                                    "ready_p50_s": p50(waited["ready"]),
                                    "rss_mb_sum": sum(m["rss_mb"] for m in rss),
                                    "overhead_mb_p50": p50([m["overhead_mb"] for m in rss]),
                                    "overhead_pss_mb_p50": p50([m["overhead_pss_mb"] for m in rss]),
                                    "overhead_private_mb_p50": p50([m["overhead_private_mb"] for m in rss])}
            for server_id in ids:
                conn.compute.delete_server(server_id)
            for server_id in ids:
                try:
                    conn.compute.wait_for_delete(conn.compute.get_server(server_id))
                except Exception:
                    pass
    finally:
        cloud.stop()
    boots = report["boots"]
    summary = {
        "active_p50_s": p50([b["active"] for b in boots]), "active_max_s": max((b["active"] for b in boots), default=None),
        "init_start_p50_s": p50([b["init_start"] for b in boots if "init_start" in b]),
        "ready_p50_s": p50([b["ready"] for b in boots if "ready" in b]),
        "ready_max_s": max((b["ready"] for b in boots if "ready" in b), default=None),
        "rss_mb_p50": p50([m["rss_mb"] for m in report["memory"]]),
        "overhead_mb_p50": p50([m["overhead_mb"] for m in report["memory"]]),
        "overhead_pss_mb_p50": p50([m["overhead_pss_mb"] for m in report["memory"]]),
        "overhead_private_mb_p50": p50([m["overhead_private_mb"] for m in report["memory"]]),
        "memory_mb": args.memory_mb, "cores": os.cpu_count(),
    }
    report["summary"] = summary
    print(f"\nqemu guests on {os.cpu_count()} cores ({report['hypervisor']['type']} "
          f"{report['hypervisor']['version']}), {args.memory_mb} MB guests, image cached:")
    fmt = lambda v, unit: f"{v:.2f} {unit}" if isinstance(v, (int, float)) else "-"  # noqa: E731
    print(f"  POST to ACTIVE     p50 {fmt(summary['active_p50_s'], 's')}, max {fmt(summary['active_max_s'], 's')}"
          "   (target <= 1 s)")
    print(f"  POST to first line p50 {fmt(summary['init_start_p50_s'], 's')}")
    print(f"  POST to READY      p50 {fmt(summary['ready_p50_s'], 's')}, max {fmt(summary['ready_max_s'], 's')}"
          "   (target <= 15 s)")
    print(f"  QEMU RSS per guest p50 {fmt(summary['rss_mb_p50'], 'MB')}, of which not guest RAM "
          f"{fmt(summary['overhead_mb_p50'], 'MB')} (PSS {fmt(summary['overhead_pss_mb_p50'], 'MB')}, "
          f"private {fmt(summary['overhead_private_mb_p50'], 'MB')})   (target <= 30 MB)")
    if report["concurrent"]:
        c = report["concurrent"]
        print(f"  {c['count']} at once: {c['error']} ERROR, {c['active']} ACTIVE in {fmt(c['all_active_s'], 's')}, "
              f"{c['ready']} READY, "
              f"all in {fmt(c['all_ready_s'], 's')} (p50 {fmt(c['ready_p50_s'], 's')}), "
              f"overhead p50 {fmt(c['overhead_mb_p50'], 'MB')} (PSS {fmt(c['overhead_pss_mb_p50'], 'MB')}, "
              f"private {fmt(c['overhead_private_mb_p50'], 'MB')})")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = json.dumps(report, indent=2, default=str)
    (RESULTS / f"compute-qemu-{stamp}.json").write_text(text)
    (RESULTS / "compute-qemu-latest.json").write_text(text)
    print(f"whole run {time.perf_counter() - began:.0f} s; results in {RESULTS / f'compute-qemu-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
