"""QEMU's own memory per guest under variants of the qemu driver's command line.

    .venv/bin/python bench/compute_qemu_variants.py [--rounds 2] [--variants base,tb12,...]

Boots the test guest (tools/build-test-guest.sh, cached) with QemuHypervisor directly (no
cloud: TCG, 128 MB, no NIC), one guest at a time, each variant once per round in turn so
the machine's load spreads over all of them. At OVERCAST-READY it reads the QEMU
process's memory the way bench/compute_qemu.py does (RSS and PSS beyond the guest RAM
block, and the guest RAM block itself) and the CPU time QEMU used to get there. Prints a
table (medians) and writes bench/results/compute-qemu-variants-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid as uuidlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from compute_qemu import guest_dir, memory  # noqa: E402

from overcast.compute.drivers import ImageRef, InstanceSpec  # noqa: E402
from overcast.compute.drivers.qemu import QemuHypervisor, process  # noqa: E402

#: name -> (accel option, extra -machine properties, THP off for QEMU, extra args);
#: "thp" is the driver before it turned THP off for TCG guests, "nothp" the driver now
#: (its default translation buffer, 10 MiB), "nothp-tb16" the default before
VARIANTS = {
    "thp": (None, "", False, []),
    "thp-tb12": ("tcg,tb-size=12", "", False, []),
    "nothp": (None, "", True, []),
    "nothp-tb16": ("tcg,tb-size=16", "", True, []),
    "nothp-tb12": ("tcg,tb-size=12", "", True, []),
    "nothp-tb11": ("tcg,tb-size=11", "", True, []),
    "nothp-tb10": ("tcg,tb-size=10", "", True, []),
    "nothp-tb8": ("tcg,tb-size=8", "", True, []),
    "thp-machine-lean": (None, "vmport=off,hpet=off,mem-merge=off", False, []),
    "thp-vgamem1": (None, "", False, ["-vga", "none", "-device", "VGA,vgamem_mb=1"]),
}


def patched_argv(variant):
    accel, machine, _, extra = variant
    original = process.argv

    def argv(binary, accel_name, spec, paths, rescue=False, **options):
        line = original(binary, accel_name, spec, paths, rescue, **options)
        if accel:
            line[line.index("-accel") + 1] = accel
        if machine:
            line[line.index("-machine") + 1] += "," + machine
        if extra:
            if "-vga" in extra:
                at = line.index("-vga")
                del line[at:at + 2]
            line += extra
        return line

    return argv


def boot(driver, guest: Path, variant) -> dict:
    import overcast.compute.drivers.qemu.guest as guest_module

    spec = InstanceSpec(uuid=str(uuidlib.uuid4()), name="bench", vcpus=1, memory_mb=128, root_gb=1,
                        image=ImageRef(id="test-guest", path=str(guest / "disk.qcow2")))
    saved, saved_accels = guest_module.process.argv, process.NO_THP_ACCELS
    guest_module.process.argv = patched_argv(variant)
    process.NO_THP_ACCELS = ("tcg",) if variant[2] else ()
    began = time.perf_counter()
    try:
        driver.spawn(spec)
        while "OVERCAST-READY" not in driver.get_console_output(spec.uuid):
            if time.perf_counter() - began > 180:
                raise RuntimeError("no READY in 180 s")
            time.sleep(0.1)
        ready = time.perf_counter() - began
        pid = process.pid_of(driver._guest(spec.uuid).paths)
        out = {**memory(pid, 128), "ready_s": ready, "cpu_s": process.cpu_time_ns(pid) / 1e9}
    finally:
        guest_module.process.argv, process.NO_THP_ACCELS = saved, saved_accels
        driver.destroy(spec.uuid)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args(argv)
    names = args.variants.split(",")
    guest = guest_dir()
    work = Path(tempfile.mkdtemp(prefix="overcast-bench-variants-"))
    driver = QemuHypervisor(state_dir=work / "qemu", accel="tcg")
    driver.init_host("bench")
    results: dict[str, list[dict]] = {name: [] for name in names}
    try:
        for round_no in range(args.rounds):
            for name in names:
                out = boot(driver, guest, VARIANTS[name])
                results[name].append(out)
                print(f"round {round_no} {name:16} RSS beyond RAM {out['overhead_mb']:5.1f} MB, PSS "
                      f"{out['overhead_pss_mb']:5.1f} MB, private {out['overhead_private_mb']:5.1f} MB, "
                      f"guest RAM {out['guest_ram_mb']:5.1f} MB, CPU to READY "
                      f"{out['cpu_s']:4.1f} s, READY {out['ready_s']:4.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'variant':16} {'RSS+':>6} {'PSS+':>6} {'priv+':>6} {'RAM':>6} {'CPU s':>6} {'total RSS':>9}")
    for name in names:
        def med(key):
            return statistics.median(r[key] for r in results[name])
        print(f"{name:16} {med('overhead_mb'):6.1f} {med('overhead_pss_mb'):6.1f} {med('overhead_private_mb'):6.1f} "
              f"{med('guest_ram_mb'):6.1f} {med('cpu_s'):6.1f} {med('rss_mb'):9.1f}")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"compute-qemu-variants-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(
        json.dumps({"variants": {n: VARIANTS[n] for n in names}, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
