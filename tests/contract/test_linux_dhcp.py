"""The Linux driver's DHCP beyond the contract: a real DHCP client (busybox udhcpc in a
namespace of its own, its veth on the network's bridge) gets its reservation and the
options, reloads keep the process, a killed dnsmasq comes back once, removal leaves
nothing. Root only; everything is made with random names and removed (the
``linux_driver`` fixture checks that no link or namespace is left)."""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from contract.test_linux_network_driver import linux_driver, missing  # noqa: F401 (a fixture)
from overcast.network.drivers import DhcpHost, DhcpSpec, PortSpec, Segment, SubnetSpec
from overcast.network.drivers.linux.host import tap_name

pytestmark = pytest.mark.skipif(bool(missing()), reason=missing() or "runs")

SCRIPT = """#!/bin/sh
[ "$1" = bound ] && env > "$0.out"
exit 0
"""


def new_id() -> str:
    return str(uuid.uuid4())


def dnsmasqs(directory: Path) -> list[int]:
    """Pids of every process on the machine that is the dnsmasq of ``directory``."""
    mark = f"--pid-file={directory / 'pid'}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if mark in argv:
                found.append(int(entry))
    return found


class Net:
    """A random network 10.<a>.<b>.0/24 with its DHCP port at .2 and a guest's reservation at .5."""

    def __init__(self, gateway: bool = True, mtu: int = 1400):
        self.prefix = f"10.{random.randint(100, 199)}.{random.randint(0, 255)}"
        self.segment = Segment(network_id=new_id(), network_type="vxlan", segmentation_id=101, mtu=mtu)
        self.subnet = SubnetSpec(id=new_id(), cidr=f"{self.prefix}.0/24",
                                 gateway_ip=f"{self.prefix}.1" if gateway else None,
                                 host_routes=[{"destination": "192.168.77.0/24", "nexthop": f"{self.prefix}.9"}])
        self.port = PortSpec(id=new_id(), segment=self.segment, mac="fa:16:3e:aa:00:02", device_owner="network:dhcp",
                             fixed_ips=[{"subnet_id": self.subnet.id, "ip_address": f"{self.prefix}.2"}])
        self.guest_mac = f"fa:16:3e:{random.randint(0, 255):02x}:{random.randint(0, 255):02x}:05"

    def spec(self, guest_ip: str | None = None, subnets: list[SubnetSpec] | None = None, extra_ips=()) -> DhcpSpec:
        port = self.port
        if extra_ips:
            port = PortSpec(**{**port.__dict__, "fixed_ips": [*port.fixed_ips, *extra_ips]})
        ip = guest_ip or f"{self.prefix}.5"
        return DhcpSpec(segment=self.segment, subnets=subnets or [self.subnet], dhcp_port=port,
                        hosts=[DhcpHost(new_id(), self.guest_mac, ip, "host-" + ip.replace(".", "-"))])


@pytest.fixture
def client(linux_driver, tmp_path):  # noqa: F811 (the imported fixture)
    """``client(net)``: a namespace with a veth (the guest's MAC) on the network's bridge;
    returns a function that runs udhcpc there once and gives what it was offered."""
    made: list[tuple[str, str]] = []

    def lease(net: Net, tries: int = 6) -> dict | None:
        if not made:
            tag = uuid.uuid4().hex[:6]
            namespace, outer = f"tdc{tag}", f"tdc{tag}"
            made.append((namespace, outer))
            bridge = os.path.basename(os.readlink(f"/sys/class/net/{tap_name(net.port.id)}/master"))
            run("ip", "netns", "add", namespace)
            run("ip", "link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", namespace)
            run("ip", "link", "set", outer, "master", bridge, "up")
            run("ip", "-n", namespace, "link", "set", "eth0", "address", net.guest_mac, "up")
        script = tmp_path / "udhcpc.sh"
        script.write_text(SCRIPT)
        script.chmod(0o755)
        Path(f"{script}.out").unlink(missing_ok=True)
        subprocess.run(["ip", "netns", "exec", made[0][0], "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f",
                        "-t", str(tries), "-T", "1", "-s", str(script), "-O", "mtu", "-O", "staticroutes",
                        "-O", "domain"], capture_output=True, timeout=30)
        out = Path(f"{script}.out")
        if not out.exists():
            return None
        return dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)

    lease.namespace = lambda: made[0][0]
    yield lease
    for namespace, outer in made:
        subprocess.run(["ip", "link", "del", outer], capture_output=True)
        subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


needs_udhcpc = pytest.mark.skipif(shutil.which("busybox") is None, reason="needs busybox (udhcpc)")


@needs_udhcpc
def test_a_client_gets_its_reservation_and_the_options(linux_driver, client):  # noqa: F811
    net = Net()
    linux_driver.sync_dhcp(net.spec())
    got = client(net)
    p = net.prefix
    assert got["ip"] == f"{p}.5" and got["subnet"] == "255.255.255.0"
    assert got["router"] == f"{p}.1" and got["dns"].split() == [f"{p}.2"]
    assert got["mtu"] == "1400" and got["hostname"] == f"host-{p.replace('.', '-')}-5"
    assert got["domain"] == "openstacklocal"
    routes = got["staticroutes"].split()
    pairs = list(zip(routes[::2], routes[1::2]))
    assert ("169.254.169.254/32", f"{p}.2") in pairs
    assert ("192.168.77.0/24", f"{p}.9") in pairs and ("0.0.0.0/0", f"{p}.1") in pairs
    namespace = client.namespace()
    run("ip", "-n", namespace, "addr", "add", f"{p}.5/24", "dev", "eth0")
    name = f"host-{p.replace('.', '-')}-5.openstacklocal"
    answer = subprocess.run(["ip", "netns", "exec", namespace, "busybox", "nslookup", name, f"{p}.2"],
                            capture_output=True, text=True, timeout=20).stdout
    assert f"{p}.5" in answer.split(name, 1)[-1], answer


@needs_udhcpc
def test_changed_reservations_and_options_reload_without_a_restart(linux_driver, client):  # noqa: F811
    net = Net()
    linux_driver.sync_dhcp(net.spec())
    pid = linux_driver.dhcp.pid(net.segment.network_id)
    assert client(net)["ip"] == f"{net.prefix}.5"
    linux_driver.sync_dhcp(net.spec(guest_ip=f"{net.prefix}.6"))
    assert linux_driver.dhcp.pid(net.segment.network_id) == pid
    assert client(net)["ip"] == f"{net.prefix}.6"
    with_dns = dataclasses.replace(net.subnet, dns_nameservers=["192.0.2.53"])
    linux_driver.sync_dhcp(net.spec(guest_ip=f"{net.prefix}.6", subnets=[with_dns]))  # an option: a reload too
    assert linux_driver.dhcp.pid(net.segment.network_id) == pid
    assert client(net)["dns"].split() == ["192.0.2.53"]


@needs_udhcpc
def test_only_reservations_get_leases(linux_driver, client):  # noqa: F811
    net = Net()
    linux_driver.sync_dhcp(net.spec())
    assert client(net)["ip"] == f"{net.prefix}.5"
    linux_driver.sync_dhcp(DhcpSpec(**{**net.spec().__dict__, "hosts": []}))  # the guest's port is gone
    assert client(net, tries=3) is None


@needs_udhcpc
def test_a_subnet_without_gateway_sends_no_router_nor_default_route(linux_driver, client):  # noqa: F811
    net = Net(gateway=False)
    linux_driver.sync_dhcp(net.spec())
    got = client(net)
    assert got["ip"] == f"{net.prefix}.5" and "router" not in got
    assert "169.254.169.254/32" in got["staticroutes"] and "0.0.0.0/0" not in got["staticroutes"]


def test_the_namespace_holds_the_leg_with_its_addresses(linux_driver):  # noqa: F811
    net = Net()
    linux_driver.sync_dhcp(net.spec())
    namespace = f"qdhcp-{net.segment.network_id}"
    shown = linux_driver.host.run("ip", "-o", "addr", "show", netns=namespace)
    assert f"{net.prefix}.2/24" in shown and "169.254.169.254/32" in shown
    assert f"ns-{net.port.id[:11]}" in shown


def test_repeated_syncs_keep_one_process_and_a_killed_one_comes_back(linux_driver):  # noqa: F811
    net = Net()
    directory = linux_driver.host.state_dir / "dhcp" / net.segment.network_id
    for _ in range(3):
        linux_driver.sync_dhcp(net.spec())
    pids = dnsmasqs(directory)
    assert len(pids) == 1 and linux_driver.dhcp.pid(net.segment.network_id) == pids[0]
    os.kill(pids[0], signal.SIGKILL)
    linux_driver.sync_dhcp(net.spec())
    again = dnsmasqs(directory)
    assert len(again) == 1 and again[0] != pids[0]
    linux_driver.sync_dhcp(net.spec())
    assert dnsmasqs(directory) == again
    (directory / "pid").unlink()  # a lost pid file: the process is still found, and not doubled
    linux_driver.sync_dhcp(net.spec())
    assert len(dnsmasqs(directory)) == 1 and linux_driver.dhcp.pid(net.segment.network_id) == dnsmasqs(directory)[0]


def test_a_new_subnet_restarts_and_removal_leaves_nothing(linux_driver):  # noqa: F811
    net = Net()
    directory = linux_driver.host.state_dir / "dhcp" / net.segment.network_id
    linux_driver.sync_dhcp(net.spec())
    first = dnsmasqs(directory)
    second = SubnetSpec(id=new_id(), cidr="172.31.9.0/24", gateway_ip="172.31.9.1")
    linux_driver.sync_dhcp(net.spec(subnets=[net.subnet, second],
                                    extra_ips=[{"subnet_id": second.id, "ip_address": "172.31.9.2"}]))
    now = dnsmasqs(directory)
    assert len(now) == 1 and now != first
    assert "172.31.9.2/24" in linux_driver.host.run("ip", "-o", "addr", "show",
                                                    netns=f"qdhcp-{net.segment.network_id}")
    linux_driver.remove_dhcp(net.segment.network_id)
    assert dnsmasqs(directory) == [] and not directory.exists()
    assert f"qdhcp-{net.segment.network_id}" not in linux_driver.host.namespaces()
    assert not os.path.exists(f"/sys/class/net/{tap_name(net.port.id)}")


def test_dual_stack_serves_both_and_ipv6_reservations_by_mac(linux_driver):  # noqa: F811
    net = Net()
    v6 = SubnetSpec(id=new_id(), cidr="fd00:5:%x::/64" % random.randint(0, 0xffff), ip_version=6)
    base = v6.cidr.split("/")[0]
    spec = net.spec(subnets=[net.subnet, v6], extra_ips=[{"subnet_id": v6.id, "ip_address": base + "2"}])
    spec = DhcpSpec(**{**spec.__dict__, "hosts": [*spec.hosts, DhcpHost(new_id(), net.guest_mac, base + "5")]})
    linux_driver.sync_dhcp(spec)
    directory = linux_driver.host.state_dir / "dhcp" / net.segment.network_id
    assert len(dnsmasqs(directory)) == 1
    assert f"{net.guest_mac},host-{base.replace(':', '-')}5,[{base}5]" in (directory / "hosts").read_text()


def test_list_is_this_drivers_own(linux_driver, tmp_path):  # noqa: F811
    from overcast.network.drivers import make_driver

    net = Net()
    linux_driver.sync_dhcp(net.spec())
    tag = uuid.uuid4().hex[:6]
    other = make_driver("linux", state_dir=str(tmp_path / "other"), prefix=f"u{tag}",
                        bridge_mappings=f"public:brx{tag}")
    assert other.list_dhcp() == [] and linux_driver.list_dhcp() == [net.segment.network_id]


@pytest.mark.qemu
def test_the_test_guest_gets_its_reservation_on_a_plugged_tap(linux_driver, tmp_path):  # noqa: F811
    """The test guest on a tap from ``plug_port`` prints what it was given on its console."""
    import testguest

    guest = testguest.build()
    net = Net()
    port = PortSpec(id=new_id(), segment=net.segment, mac=net.guest_mac,
                    fixed_ips=[{"subnet_id": net.subnet.id, "ip_address": f"{net.prefix}.5"}])
    vif = linux_driver.plug_port(port)
    linux_driver.sync_dhcp(net.spec())
    console = tmp_path / "console.log"
    qemu = subprocess.Popen(
        ["qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-smp", "1", "-display", "none", "-no-reboot",
         "-kernel", str(guest / "vmlinuz"), "-initrd", str(guest / "initramfs.cpio.gz"),
         "-append", (guest / "cmdline").read_text().strip(), "-serial", f"file:{console}",
         "-netdev", f"tap,id=n0,ifname={vif['devname']},script=no,downscript=no",
         "-device", f"virtio-net-pci,netdev=n0,mac={net.guest_mac}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        text = testguest.wait_for(lambda: console.read_text() if console.exists() else "", "OVERCAST-DHCP bound",
                                  timeout=120)
    finally:
        qemu.kill()
        qemu.wait()
    line = next(line for line in text.splitlines() if "OVERCAST-DHCP bound" in line)
    assert f" ip={net.prefix}.5 " in line and f"router={net.prefix}.1" in line and "mtu=1400" in line
    assert f"169.254.169.254/32 {net.prefix}.2" in line


def test_a_failed_restart_keeps_the_old_server_running(linux_driver, monkeypatch):  # noqa: F811
    from overcast.network.drivers.errors import NetworkDriverError
    from overcast.network.drivers.linux import dhcp

    net = Net()
    directory = linux_driver.host.state_dir / "dhcp" / net.segment.network_id
    linux_driver.sync_dhcp(net.spec())
    good = dhcp.command
    monkeypatch.setattr(dhcp, "command", lambda *args: [*good(*args), "--no-such-option"])
    with pytest.raises(NetworkDriverError):
        linux_driver.sync_dhcp(net.spec(guest_ip=f"{net.prefix}.7"))
    assert len(dnsmasqs(directory)) == 1 and "--no-such-option" not in Path(
        f"/proc/{dnsmasqs(directory)[0]}/cmdline").read_text()
    assert f"{net.prefix}.7" in (directory / "hosts").read_text()
    assert linux_driver.list_dhcp() == [net.segment.network_id]


def test_a_failed_first_sync_leaves_nothing(linux_driver, monkeypatch):  # noqa: F811
    from overcast.network.drivers.errors import NetworkDriverError
    from overcast.network.drivers.linux import dhcp

    net = Net()
    good = dhcp.command
    monkeypatch.setattr(dhcp, "command", lambda *args: [*good(*args), "--no-such-option"])
    with pytest.raises(NetworkDriverError):
        linux_driver.sync_dhcp(net.spec())
    assert linux_driver.list_dhcp() == []
    assert f"qdhcp-{net.segment.network_id}" not in linux_driver.host.namespaces()
    assert not os.path.exists(f"/sys/class/net/{tap_name(net.port.id)}")
    assert dnsmasqs(linux_driver.host.state_dir / "dhcp" / net.segment.network_id) == []


def test_removal_finds_the_leg_without_its_port_file(linux_driver):  # noqa: F811
    net = Net()
    linux_driver.sync_dhcp(net.spec())
    (linux_driver.host.state_dir / "dhcp" / net.segment.network_id / "port").unlink()
    linux_driver.remove_dhcp(net.segment.network_id)
    assert not os.path.exists(f"/sys/class/net/{tap_name(net.port.id)}")
    assert not os.path.exists(f"/sys/class/net/brq{net.segment.network_id[:11]}")
