"""A real guest behind the Linux driver's firewall: the test guest (``tests/testguest.py``)
booted with QEMU on a port the driver plugged and filtered, a dnsmasq in a namespace on
the same network as a stand-in for the DHCP part, and a namespace client. Run by
``test_linux_firewall`` in a network namespace of its own (so nothing of it can reach
the host's networks); prints ``qemu-guest-ok first-reply=<s>`` when all checks pass."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

from overcast.network.drivers import FilterRule, PortFilter, PortSpec, Segment, make_driver

from contract.linux_guests import Guest, random_mac, wait_for


def console_has(path: Path, marker: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        if marker in text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"{marker!r} not on the console in {timeout:.0f} s:\n{text[-2000:]}")


def scenario(state_dir: str, guest_dir: str) -> None:
    work, guest_files = Path(state_dir), Path(guest_dir)
    driver = make_driver("linux", state_dir=str(work / "network"), prefix="tqemu", bridge_mappings="public:brxqemu")
    driver.host.run("ip", "link", "set", "lo", "up")
    driver.init_host("isolated")
    segment = Segment(network_id=str(uuid.uuid4()), network_type="local", mtu=1500)
    base, processes, made = "10.251.7", [], []
    port = PortSpec(id=str(uuid.uuid4()), segment=segment, mac=random_mac(),
                    fixed_ips=[{"subnet_id": "subnet", "ip_address": f"{base}.11"}])
    own = [{"ip_address": f"{base}.11", "mac_address": port.mac}]
    try:
        dhcp, client = Guest(driver, segment, f"{base}.2"), Guest(driver, segment, f"{base}.5")
        made += [dhcp, client]
        driver.firewall.set(PortFilter(client.port_id, rules=[FilterRule("egress")], allowed_addresses=[
            {"ip_address": client.ip, "mac_address": client.mac}]), client.vif)
        vif = driver.plug_port(port)
        driver.set_port_filter(PortFilter(port.id, rules=[FilterRule("egress")], allowed_addresses=own))
        processes.append(subprocess.Popen(
            ["ip", "netns", "exec", dhcp.netns, "dnsmasq", "--conf-file=/dev/null", "--no-hosts", "--no-resolv",
             "--port=0", "--keep-in-foreground", f"--interface={dhcp.device}", "--bind-interfaces",
             f"--dhcp-range={base}.100,{base}.150,255.255.255.0,1h", f"--dhcp-host={port.mac},{base}.11",
             f"--dhcp-leasefile={work / 'leases'}", f"--pid-file={work / 'dnsmasq.pid'}"],
            stderr=subprocess.DEVNULL))
        console = work / "console.log"
        cmdline = (guest_files / "cmdline").read_text().strip() + " overcast.mdtries=1"
        processes.append(subprocess.Popen(
            ["qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-smp", "1", "-display", "none",
             "-no-reboot", "-kernel", str(guest_files / "vmlinuz"), "-initrd", str(guest_files / "initramfs.cpio.gz"),
             "-append", cmdline, "-netdev", f"tap,id=n0,ifname={vif['devname']},script=no,downscript=no",
             "-device", f"virtio-net-pci,netdev=n0,mac={port.mac}", "-serial", f"file:{console}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # DHCP passes a filter that allows only egress: the client's broadcast before it
        # has an address, and the server's reply in
        assert f"ip={base}.11" in console_has(console, "OVERCAST-DHCP bound", 120)
        console_has(console, "OVERCAST-READY", 120)
        guest_ip = f"{base}.11"
        assert client.ping(guest_ip, within=1) is None, "ping passed without a rule"
        assert not client.connects(guest_ip, 80, timeout=1), "HTTP passed without a rule"
        pinging = client.start_ping(guest_ip, within=5)
        started = time.time()
        driver.set_port_filter(PortFilter(port.id, rules=[FilterRule("egress"), FilterRule("ingress", protocol="icmp")],
                                          allowed_addresses=own))
        replied = wait_for(pinging)
        assert replied is not None and replied - started < 1, "no reply within a second of the rule"
        driver.set_port_filter(PortFilter(port.id, allowed_addresses=own, rules=[
            FilterRule("egress"), FilterRule("ingress", protocol="tcp", port_range_min=80, port_range_max=80)]))
        assert client.connects(guest_ip, 80), "HTTP dropped with its rule"
        assert client.ping(guest_ip, within=1) is None, "ping passed after its rule went"
        print(f"qemu-guest-ok first-reply={replied - started:.3f}")
    finally:
        for process in processes:
            process.kill()
            process.wait()
        for guest in made:
            guest.remove()
        driver.unplug_port(port.id)
        driver.firewall.clear()


if __name__ == "__main__":
    scenario(sys.argv[1], sys.argv[2])
