"""`overcast doctor`: what this host can do for real guests and their networks, in plain
words. It only reads, except two throwaway tests: a short KVM test boot (when /dev/kvm
opens) and a private network namespace (``unshare --net``) where it makes a bridge, a tap
and a firewall rule, all gone with the namespace; the linux network driver's needs (veth,
dnsmasq with DHCP, iptables' physdev match, bridge netfilter) are probed the same way."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from overcast.common.config import Config


def _run(*argv: str, timeout: float = 20) -> tuple[bool, str]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, str(error)
    lines = (done.stderr or done.stdout).strip().splitlines()
    return done.returncode == 0, lines[-1] if lines else ""


def checks(config: Config) -> list[tuple[str, bool, str]]:
    """(topic, fine, what it means)."""
    from overcast.compute.drivers.qemu import host

    out = []
    binary = shutil.which("qemu-system-x86_64")
    if binary is None:
        out.append(("qemu", False, "qemu-system-x86_64 is missing: only the fake driver can run "
                                   "(apt-get install qemu-system-x86)"))
    else:
        version, _ = host.qemu_version(binary)
        out.append(("qemu", True, f"QEMU {version} at {binary}"))
        state = Path(config.compute.qemu_state_dir or config.data_path / "compute" / "qemu").expanduser()
        state.mkdir(parents=True, exist_ok=True)
        accel, why = host.choose_accel(config.compute.qemu_accel, binary, state, version)
        out.append(("accelerator", accel == "kvm",
                    f"guests run under {accel.upper()}: {why}" + ("" if accel == "kvm" else
                    "; TCG emulates the CPU in software, about 10 s to boot the test guest")))
    out.append(("qemu-img", shutil.which("qemu-img") is not None,
                "present" if shutil.which("qemu-img") else "missing (apt-get install qemu-utils)"))
    cpus, memory_mb, disk_gb = host.totals(config.data_path if config.data_path.exists() else Path("/"))
    with open("/proc/meminfo") as handle:
        free = next(int(line.split()[1]) // 1024 for line in handle if line.startswith("MemAvailable:"))
    free_disk = shutil.disk_usage(config.data_path if config.data_path.exists() else "/").free >> 30
    out.append(("resources", True, f"{cpus} CPUs, {memory_mb} MB RAM ({free} MB free), {disk_gb} GB disk "
                                   f"({free_disk} GB free) where the data lives"))
    novnc = Path(config.compute.novnc_dir) / "vnc_lite.html"
    out.append(("novnc", novnc.exists(), f"browser consoles: noVNC in {novnc.parent}" if novnc.exists()
                else f"browser consoles: noVNC missing in {novnc.parent} (apt-get install novnc)"))
    guest = Path("~/.cache/overcast/test-guest/disk.qcow2").expanduser()
    out.append(("test guest", guest.exists(), f"built: {guest}" if guest.exists()
                else "not built yet (tools/build-test-guest.sh)"))
    root = os.geteuid() == 0
    if not root or shutil.which("unshare") is None or shutil.which("ip") is None:
        out.append(("namespaces", False, "not root or no unshare/ip: networks cannot be wired on this host"))
    else:
        fine, said = _run("unshare", "--net", "sh", "-c", "ip link add ovc-br type bridge && "
                          "ip tuntap add dev ovc-tap mode tap && ip link set ovc-tap master ovc-br")
        out.append(("bridges", fine, "network namespaces, bridges and taps work" if fine
                    else f"a bridge with a tap in a namespace failed: {said}"))
    for tool, package, use in (("dnsmasq", "dnsmasq", "DHCP for guests"),
                               ("iptables", "iptables", "security groups and NAT"),
                               ("nft", "nftables", "nftables rules")):
        present = shutil.which(tool) is not None
        if present and root and tool != "dnsmasq":
            probe = ["iptables", "-L", "-n"] if tool == "iptables" else ["nft", "list", "ruleset"]
            present, said = _run("unshare", "--net", *probe)
            out.append((tool, present, f"{use}: works" if present else f"{use}: fails ({said})"))
        else:
            out.append((tool, present, f"{use}: present" if present else f"{use}: missing (apt-get install "
                                                                             f"{package})"))
    return out + linux_network_checks(config, root)


def linux_network_checks(config: Config, root: bool) -> list[tuple[str, bool, str]]:
    """What the linux network driver (``network.driver = linux``) needs: its tools, veth
    pairs into namespaces, dnsmasq with DHCP, iptables' physdev and conntrack matches, and
    bridge netfilter (without it bridged guest traffic skips the security group rules).
    The probes run in a throwaway ``unshare --net`` namespace."""
    from overcast.network.drivers.linux.host import Host

    import copy

    from overcast import driver_choice

    out = [("drivers", True, "overcast up runs: " + "; ".join(driver_choice.choose(copy.deepcopy(config))))]
    missing = Host(config.data_path / "network").missing_tools()
    chosen = config.network.driver == "linux"
    out.append(("network", not missing, f"{config.network.driver} is configured; "
                + (f"the linux driver lacks: apt-get install {' '.join(missing)}" if missing
                   else "the linux driver's tools are all here"
                   if not chosen else "its tools are all here")))
    if root and shutil.which("unshare") and shutil.which("ip"):
        fine, said = _run("unshare", "--net", "sh", "-c", "ip link add ovc-a type veth peer name ovc-b && "
                          "ip link add ovc-br type bridge && ip link set ovc-a master ovc-br")
        out.append(("veth", fine, "veth pairs on bridges work (namespace legs of DHCP and routers)" if fine
                    else f"a veth pair on a bridge failed: {said}"))
    dnsmasq = shutil.which("dnsmasq") or shutil.which("dnsmasq", path="/usr/sbin:/sbin")
    if dnsmasq:
        version = subprocess.run([dnsmasq, "--version"], capture_output=True, text=True).stdout
        dhcp = " DHCP " in version.replace("\n", " ")
        out.append(("dhcp", dhcp, f"{version.splitlines()[0] if version else 'dnsmasq'}: "
                    + ("serves DHCP" if dhcp else "built without DHCP: guests get no addresses")))
    if root and shutil.which("iptables") and shutil.which("unshare"):
        fine, said = _run("unshare", "--net", "iptables", "-A", "FORWARD", "-m", "physdev", "--physdev-is-bridged",
                          "-m", "conntrack", "--ctstate", "ESTABLISHED", "-j", "ACCEPT")
        out.append(("physdev", fine, "iptables' physdev and conntrack matches work (security groups on bridges)"
                    if fine else f"iptables -m physdev/conntrack fails ({said})"))
    try:
        bridged = Path("/proc/sys/net/bridge/bridge-nf-call-iptables").read_text().strip() == "1"
        words = "bridged traffic crosses iptables" if bridged else \
            "bridge-nf-call-iptables is 0: sysctl -w net.bridge.bridge-nf-call-iptables=1"
    except OSError:
        bridged, words = False, "br_netfilter is not loaded: modprobe br_netfilter (security groups need it)"
    out.append(("bridge-nf", bridged, words))
    return out


def main(config: Config) -> int:
    results = checks(config)
    for topic, fine, words in results:
        print(f"{'ok ' if fine else '-- '} {topic:<12} {words}")
    return 0
