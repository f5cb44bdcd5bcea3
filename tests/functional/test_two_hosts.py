"""Two hosts on one machine, driven by the `openstack` CLI: the controller (`overcast up`
with the qemu and linux drivers, its bus on RabbitMQ) is host A in this network
namespace; host B is a network namespace of its own joined to A by a veth "underlay"
(a free ``10.251.<r>.0/24``, checked with `ip route get` to be on that veth), where
`overcast agent network --l2-only --driver linux` and `overcast agent compute --driver
qemu` run with their own data directories. B reaches RabbitMQ through a relay in this
process listening on A's underlay address (the broker listens on loopback only); B's
agents need nothing else of the controller (images come over the bus). Tenant networks
are VXLAN between A's and B's `network.local_ip`.

One journey (TCG guests boot in 10-20 s each, so the guests are reused across steps):
a guest on each host on one tenant network, the one on B getting its DHCP lease and
metadata from the controller across VXLAN, the two reaching each other; the guest on A
live-migrated to B (same boot, same address, still reachable); then cold-migrated back
to A and confirmed (same disk: its boot counter goes on). Host B's compute agent has
``compute.migration_transport = tcp`` and each host's ``compute.my_ip`` is its underlay
address, so the moves go as between two machines: the live migration over TCP across the
underlay (B's QEMU listening on B's address, no unix socket; in TLS, each host with
certificates `overcast tls` made), the cold migration back by
A pulling the disk from B's agent over the bus. At the end every namespace, link, chain
and process of the test is gone (counted)."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from cloudproc import CloudProcess
from conftest import FAST_HASH, Cli, drop_vhost, make_vhost, random_name
import testguest
from qemuguests import after_last_boot
from contract.test_linux_network_driver import missing, namespaces, own_links
from contract.test_linux_routers import free_cidrs, host

pytestmark = [pytest.mark.qemu, pytest.mark.rabbitmq]
NEW = ("--os-compute-api-version", "2.74")  # create --host, migrate --host (2.56), live --host (2.30)
AMQP_PORT = 5672


def sh(*args: str, netns: str | None = None, check: bool = True) -> str:
    command = (["ip", "netns", "exec", netns] if netns else []) + list(args)
    return subprocess.run(command, capture_output=True, text=True, check=check).stdout


def links() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def chains(prefix: str) -> list[str]:
    saved = sh("iptables-save", check=False) + sh("ip6tables-save", check=False) + sh("ebtables-save", check=False)
    return [line for line in saved.splitlines() if f"{prefix}-" in line]


def processes(marker: str) -> list[tuple[int, str]]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append((int(entry), cmdline))
    return found


class Relay:
    """TCP from ``listen`` (A's underlay address, a free port) to 127.0.0.1:``port``: B's
    agents reach the broker, and nothing else, through it."""

    def __init__(self, listen: str, port: int):
        self.target = ("127.0.0.1", port)
        self.server = socket.create_server((listen, 0))
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self.closed = True
        self.server.close()
        for sock in self.sockets:
            sock.close()



class TwoHosts:
    def __init__(self, cloud: CloudProcess, netns: str, a_ip: str, b_ip: str, tag: str):
        self.cloud, self.netns, self.a_ip, self.b_ip, self.tag = cloud, netns, a_ip, b_ip, tag
        self.a, self.b = f"a-{tag}", f"b-{tag}"
        self.agents: list[subprocess.Popen] = []
        self.networks: list[str] = []  # made by the test: their DHCP namespaces must be gone at the end


def start_agent(kind: str, hosts: TwoHosts, data: Path, bus_url: str, *extra: str, env: dict) -> subprocess.Popen:
    log = open(data.parent / f"agent-{kind}-b.log", "ab")
    argv = ["ip", "netns", "exec", hosts.netns, sys.executable, "-m", "overcast", "agent", kind, "--host", hosts.b,
            "--bus-url", bus_url, "--data-dir", str(data), *extra]
    # `ip netns exec` execs the command: the pid is the agent's own
    return subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)


def wait_until(check, timeout: float, what: str, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(step)


def certificates(root: Path, addresses: dict[str, str]) -> dict[str, str]:
    """A CA and each host's live migration certificates, made with `overcast tls`."""
    tool = [sys.executable, "-m", "overcast", "tls"]
    subprocess.run([*tool, "ca", str(root / "ca")], check=True, capture_output=True, timeout=60)
    for name, address in addresses.items():
        subprocess.run([*tool, "host", str(root / f"tls-{name}"), "--ca", str(root / "ca"), "--ip", address],
                       check=True, capture_output=True, timeout=60)
    return {name: str(root / f"tls-{name}") for name in addresses}


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory):
    reason = missing("qemu-system-x86_64", "bridge")
    if reason:
        pytest.skip(reason)
    guest = testguest.build()
    vhost = make_vhost()
    tag = uuid.uuid4().hex[:6]
    underlay, = free_cidrs(1)
    a_ip, b_ip = host(underlay, 1), host(underlay, 2)
    netns, outer, inner = f"twob-{tag}", f"twu{tag}", f"twv{tag}"
    root = tmp_path_factory.mktemp("two-hosts")
    data_a, data_b = root / "a", root / "b"
    data_b.mkdir()
    cloud = relay = hosts = None
    agents: list[subprocess.Popen] = []
    sh("ip", "netns", "add", netns)
    try:
        probe = subprocess.run(["ip", "netns", "exec", netns, "ip", "link", "add", "twprobe", "type", "vxlan",
                                "id", "1", "dstport", "4789"], capture_output=True, text=True)
        if probe.returncode != 0:
            pytest.skip(f"needs VXLAN in the kernel: {probe.stderr.strip()}")
        sh("ip", "link", "del", "twprobe", netns=netns)
        sh("ip", "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", netns)
        sh("ip", "addr", "add", f"{a_ip}/24", "dev", outer)
        sh("ip", "link", "set", outer, "up")
        for command in (("ip", "link", "set", "lo", "up"), ("ip", "addr", "add", f"{b_ip}/24", "dev", inner),
                        ("ip", "link", "set", inner, "up")):
            sh(*command, netns=netns)
        assert f"dev {outer}" in sh("ip", "route", "get", b_ip)  # the underlay is the test's own link
        assert f"dev {inner}" in sh("ip", "route", "get", a_ip, netns=netns)
        relay = Relay(a_ip, AMQP_PORT)
        tls = certificates(root, {"a": a_ip, "b": b_ip})
        # the same on both hosts: TCG, so guests can move; a UDP port of its own, since the kernel takes
        # one VNI once per port in a namespace and other clouds on this machine number theirs from 1 too
        shared = {"OVERCAST_COMPUTE_QEMU_ACCEL": "tcg", "OVERCAST_NETWORK_VXLAN_PORT": str(random.randint(20000, 60000)),
                  "OVERCAST_COMPUTE_LIVE_MIGRATION_TLS": "true"}
        env = {**FAST_HASH, **shared, "OVERCAST_BUS_URL": f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}/{vhost}",
               "OVERCAST_COMPUTE_DRIVER": "qemu", "OVERCAST_NETWORK_DRIVER": "linux",
               "OVERCAST_COMPUTE_HOST": f"a-{tag}", "OVERCAST_NETWORK_HOST": f"a-{tag}",
               "OVERCAST_NETWORK_LINUX_PREFIX": f"w{tag}", "OVERCAST_NETWORK_BRIDGE_MAPPINGS": f"public:brw{tag}",
               "OVERCAST_NETWORK_PUBLIC_CIDR": "", "OVERCAST_NETWORK_DEFAULT_SUBNETPOOL": "",
               "OVERCAST_NETWORK_LOCAL_IP": a_ip, "OVERCAST_COMPUTE_MY_IP": a_ip, "OVERCAST_COMPUTE_TLS_DIR": tls["a"]}
        data_a.mkdir()
        cloud = CloudProcess(data_a / "data", env=env).start(timeout=90)
        cloud.guest = guest
        hosts = TwoHosts(cloud, netns, a_ip, b_ip, tag)
        bus_b = f"amqp://guest:guest@{a_ip}:{relay.port}/{vhost}"
        secret = (data_a / "data" / "network" / "metadata_secret").read_text().strip()
        b_env = {**shared, "OVERCAST_NETWORK_LOCAL_IP": b_ip, "OVERCAST_COMPUTE_MY_IP": b_ip,
                 "OVERCAST_COMPUTE_MIGRATION_TRANSPORT": "tcp", "OVERCAST_COMPUTE_TLS_DIR": tls["b"], "OVERCAST_NETWORK_LINUX_PREFIX": f"x{tag}",
                 "OVERCAST_NETWORK_BRIDGE_MAPPINGS": f"public:brx{tag}", "OVERCAST_NETWORK_METADATA_SECRET": secret}
        agents.append(start_agent("network", hosts, data_b, bus_b, "--l2-only", "--driver", "linux", env=b_env))
        agents.append(start_agent("compute", hosts, data_b, bus_b, "--driver", "qemu", env=b_env))
        hosts.agents = agents
        yield hosts
    finally:
        for agent in agents:
            if agent.poll() is None:
                agent.send_signal(signal.SIGTERM)
                try:
                    agent.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    agent.kill()
                    agent.wait()
        if cloud is not None:
            cloud.stop()
        leftover = [pid for pid, cmdline in processes(str(root)) if cmdline.startswith("qemu-system")]
        for pid in leftover:  # never leave a guest behind a failed test
            os.kill(pid, signal.SIGTERM)
        if relay is not None:
            relay.close()
        from overcast.network.drivers.linux.firewall import Firewall
        from overcast.network.drivers.linux.host import Host

        Firewall(Host(data_a / "data" / "network", f"w{tag}")).clear()  # the base chains a running cloud keeps
        sh("ip", "link", "del", f"brw{tag}", check=False)
        sh("ip", "link", "del", outer, check=False)
        sh("ip", "netns", "delete", netns, check=False)
        drop_vhost(vhost)
    assert not leftover, f"qemu processes left behind: {leftover}"
    assert [cmd for _, cmd in processes(str(root)) if "overcast" in cmd or "dnsmasq" in cmd] == []
    # other tests on the machine make and remove their own links and namespaces meanwhile: count ours
    ours = {netns} | {f"qdhcp-{network}" for network in (hosts.networks if hosts else [])}
    assert namespaces() & ours == set(), "namespaces left behind"
    assert own_links(f"w{tag}", f"brw{tag}") | (links() & {outer}) == set(), "links left behind"
    assert chains(f"w{tag}") == [], "iptables chains left behind"


def console(cli: Cli, server: str) -> str:
    return cli.ok("console", "log", "show", server)


def show(cli: Cli, server: str) -> dict:
    return cli.run(*NEW, "server", "show", server)


def wait_server(cli: Cli, server: str, status: str, host: str | None = None, timeout: float = 180) -> dict:
    def there():
        shown = show(cli, server)
        assert shown["status"] != "ERROR", shown.get("fault")
        return shown if shown["status"] == status and host in (None, shown["OS-EXT-SRV-ATTR:host"]) else None

    return wait_until(there, timeout, f"{server} {status} on {host}")


def fixed_ip(cli: Cli, server: str) -> str:
    return cli.run("port", "list", "--server", server)[0]["Fixed IP Addresses"][0]["ip_address"]


def from_dhcp(hosts: TwoHosts, network_id: str, *command: str) -> subprocess.CompletedProcess:
    """A command in the controller's DHCP namespace of the network (on host A)."""
    return subprocess.run(["ip", "netns", "exec", f"qdhcp-{network_id}", *command], capture_output=True, text=True,
                          timeout=30)


def http_from_dhcp(hosts: TwoHosts, network_id: str, address: str) -> str:
    return from_dhcp(hosts, network_id, "curl", "-s", "--max-time", "2", f"http://{address}/").stdout.strip()


def last_fetch(cli: Cli, server: str) -> str:
    """What the guest's user data last fetched from the other guest's HTTP server."""
    found = re.findall(r"OVERCAST-UD FETCH \d+ (\S*)", console(cli, server))
    return found[-1] if found else ""


def test_guests_on_two_hosts_share_a_network_and_move_between_the_hosts(two_hosts):
    hosts = two_hosts
    cli = Cli(hosts.cloud)
    computes = lambda: {s["Host"]: s["State"] for s in cli.run("compute", "service", "list",  # noqa: E731
                                                                 "--service", "nova-compute")}
    wait_until(lambda: computes() == {hosts.a: "up", hosts.b: "up"}, 90, "both compute hosts up")
    bridge_agents = lambda: {a["Host"]: a["Alive"] for a in cli.run("network", "agent", "list",  # noqa: E731
                                                                    "--agent-type", "linux-bridge")}
    wait_until(lambda: bridge_agents() == {hosts.a: True, hosts.b: True}, 90, "both bridge agents alive")
    host_ips = {h["Hypervisor Hostname"]: h["Host IP"] for h in cli.run("hypervisor", "list")}
    assert (host_ips[hosts.a], host_ips[hosts.b]) == (hosts.a_ip, hosts.b_ip)  # compute.my_ip
    shown_b = cli.run("network", "agent", "list", "--host", hosts.b)
    assert sorted(a["Agent Type"] for a in shown_b) == ["Linux bridge agent"]  # --l2-only: no DHCP, L3, metadata

    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--public", "--file",
                    str(hosts.cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    net = cli.run("network", "create", random_name("net"))
    hosts.networks.append(net["id"])
    assert net["provider:network_type"] == "vxlan"
    cli.run("subnet", "create", "--network", net["id"], "--subnet-range", "10.9.7.0/24", "sub")
    group = next(g["ID"] for g in cli.run("security", "group", "list", "--project", "admin") if g["Name"] == "default")
    for rule in (("--protocol", "icmp"), ("--protocol", "tcp", "--dst-port", "80")):  # from the DHCP namespace
        cli.run("security", "group", "rule", "create", *rule, "--remote-ip", "0.0.0.0/0", group)
    common = ("--flavor", flavor["id"], "--image", image["id"], "--nic", f"net-id={net['id']}")

    # 1. a guest on each host; B's fetches A's HTTP page (its instance id) every second
    cli.run(*NEW, "server", "create", *common, "--host", hosts.a, "a")
    a = wait_server(cli, "a", "ACTIVE", hosts.a)
    a_ip = fixed_ip(cli, "a")
    script = hosts.cloud.data_dir.parent / "fetch.sh"
    script.write_text("#!/bin/sh\n"
                      f"n=0; while true; do n=$((n+1)); echo \"FETCH $n $(timeout 3 wget -qO- http://{a_ip}/)\"; "
                      "sleep 1; done\n")
    cli.run("server", "create", *common, "--availability-zone", f"nova:{hosts.b}", "--user-data", str(script), "b")
    b = wait_server(cli, "b", "ACTIVE", hosts.b)
    b_ip = fixed_ip(cli, "b")
    pages = {}  # what each guest's HTTP server answers: its instance id from the metadata service
    for name, server, address in (("a", a, a_ip), ("b", b, b_ip)):
        text = testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY", timeout=240)
        assert re.search(rf"OVERCAST-DHCP bound iface=eth0 ip={re.escape(address)} ", text), text[-2000:]
        assert f"OVERCAST-METADATA uuid={server['id']}" in text, text[-2000:]
        pages[name] = re.search(r"OVERCAST-METADATA instance-id=(\S+)", text).group(1)
    assert http_from_dhcp(hosts, net["id"], a_ip) == pages["a"]
    assert http_from_dhcp(hosts, net["id"], b_ip) == pages["b"]  # the controller reaches B across VXLAN
    assert from_dhcp(hosts, net["id"], "ping", "-c", "1", "-W", "2", b_ip).returncode == 0
    wait_until(lambda: last_fetch(cli, "b") == pages["a"], 60, "B fetching A's page across VXLAN")

    # 2. live migration of A to host B: the same boot, the same address, still reachable
    before = console(cli, "a")
    assert before.count("OVERCAST-INIT-START") == 1
    cli.ok("--os-compute-api-version", "2.30", "server", "migrate", "--live-migration", "--host", hosts.b, "a")
    a = wait_server(cli, "a", "ACTIVE", hosts.b)
    assert fixed_ip(cli, "a") == a_ip and a["addresses"] == show(cli, "a")["addresses"]
    moved = cli.run("server", "migration", "list", "--server", "a")
    assert [(m["Type"], m["Status"]) for m in moved] == [("live-migration", "completed")]
    assert (moved[0]["Source Compute"], moved[0]["Dest Compute"]) == (hosts.a, hosts.b)
    assert moved[0]["Dest Host"] == hosts.b_ip
    incoming = [cmd for _, cmd in processes(a["id"]) if cmd.startswith("qemu-system")]
    assert len(incoming) == 1 and "-incoming defer" in incoming[0], incoming  # it came over TCP
    log_b = (hosts.cloud.data_dir.parent.parent / "agent-compute-b.log").read_text(errors="replace")
    assert re.search(rf"live migration of {a['id']}: waiting on tcp:{re.escape(hosts.b_ip)}:\d+, disks on "
                     rf"{re.escape(hosts.b_ip)}:\d+ \(TLS\)", log_b), log_b[-3000:]  # both in TLS
    wait_until(lambda: http_from_dhcp(hosts, net["id"], a_ip) == pages["a"], 30, "A reachable on B across VXLAN")
    fetched = int(re.findall(r"OVERCAST-UD FETCH (\d+) ", console(cli, "b"))[-1])
    wait_until(lambda: re.search(rf"OVERCAST-UD FETCH {fetched + 2} {pages['a']}", console(cli, "b")), 30,
               "B still fetching A's page, now on its own host")
    after = console(cli, "a")
    assert after.count("OVERCAST-INIT-START") == 1, after[-2000:]  # no new boot
    assert after.startswith(before[:200])  # the console so far came along

    # 3. cold migration back to A and confirm: the same disk boots again
    cli.ok("--os-compute-api-version", "2.56", "server", "migrate", "--host", hosts.a, "a")
    wait_server(cli, "a", "VERIFY_RESIZE", hosts.a)
    cli.ok("server", "migrate", "confirm", "a")
    a = wait_server(cli, "a", "ACTIVE", hosts.a)
    text = testguest.wait_for(lambda: console(cli, "a"), "OVERCAST-BOOTCOUNT 2", timeout=240)
    assert text.count("OVERCAST-INIT-START") == 2
    text = testguest.wait_for(lambda: after_last_boot(console(cli, "a")), "OVERCAST-READY", timeout=240)
    assert re.search(rf"OVERCAST-DHCP bound iface=eth0 ip={re.escape(a_ip)} ", text), text[-2000:]
    moved = cli.run("server", "migration", "list", "--server", "a")
    assert sorted((m["Type"], m["Status"]) for m in moved) == [("live-migration", "completed"),
                                                                        ("migration", "confirmed")]
    assert {m["Type"]: m["Dest Host"] for m in moved} == {"live-migration": hosts.b_ip, "migration": hosts.a_ip}
    log_a = "".join(path.read_text(errors="replace") for path in hosts.cloud.data_dir.parent.glob("overcast-*.log"))
    assert f"pulled disk of {a['id']} from {hosts.b} over the bus" in log_a  # not read by path
    wait_until(lambda: http_from_dhcp(hosts, net["id"], a_ip) == pages["a"], 30, "A reachable on A again")
    wait_until(lambda: last_fetch(cli, "b") == pages["a"], 30, "B fetching A's page across VXLAN again")

    # everything goes, on both hosts
    cli.ok("server", "delete", "--wait", "a", "b")
    cli.ok("network", "delete", net["id"])
    wait_until(lambda: not processes(net["id"]) and f"qdhcp-{net['id']}" not in namespaces(), 30, "DHCP gone")
    left_b = json.loads(sh("ip", "-j", "link", "show", netns=hosts.netns))
    assert {link["ifname"] for link in left_b} <= {"lo", f"twv{hosts.tag}", f"brx{hosts.tag}"}, left_b
    cli.ok("image", "delete", image["id"])
