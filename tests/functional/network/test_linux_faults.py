"""Faults of the real network (issue 9, "Bad input and faults"), with qemu guests, the
linux network driver and the `openstack` CLI:

- dnsmasq killed, then the cloud restarted: the agent's re-sync serves DHCP again (a new
  guest gets its lease), with exactly one dnsmasq and the same namespaces, links and
  iptables/ebtables rules as before (counted);
- the cloud killed with SIGKILL while a guest runs: the guest keeps its network (the host
  pings its floating IP while the cloud is down and after it is back), its QEMU is the
  same process, and the restart duplicates nothing;
- two networks with the same CIDR in two projects, a guest on each at the same address:
  both get their lease and their own metadata, each reaches its own network only (the
  router of the first is out of the second's reach), and the two bridges have
  different conntrack zones;
- after each test deletes everything: no namespace, dnsmasq or link of the cloud is left
  and its iptables/ebtables rules are back to the cloud's empty base; once the cloud is
  stopped and its base chains cleared, nothing of the prefix is left at all.

Each cloud has a random prefix, external bridge and external CIDR; every address the
host sends to is first checked with `ip route get` to be on the bridge this cloud made.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import re
import signal
import subprocess
import time
import uuid
from collections import Counter

import pytest

from cloudproc import CloudProcess
from conftest import FAST_HASH, Cli, random_name
import testguest
from contract.test_linux_network_driver import missing

pytestmark = pytest.mark.qemu
COUNTERS = re.compile(r" \[\d+:\d+\]$")  # a chain's packet and byte counters in *tables-save


# -- what the cloud holds on the host --------------------------------------------------------

def processes(marker: str) -> dict[int, str]:
    """pid -> command line of the live processes whose command line holds ``marker``."""
    found = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as handle:
                if handle.read().rsplit(")", 1)[-1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        if marker in cmdline:
            found[int(entry)] = cmdline
    return found


def rules(prefix: str) -> Counter:
    """The iptables, ip6tables and ebtables lines naming the prefix's chains (a multiset)."""
    lines: Counter = Counter()
    for command in (["iptables-save"], ["ip6tables-save"], ["ebtables-save"]):
        text = subprocess.run(command, capture_output=True, text=True).stdout
        for line in text.splitlines():
            if f"{prefix}-" in line:
                lines[f"{command[0]} {COUNTERS.sub('', line)}"] += 1
    return lines


def owned_links(prefix: str) -> list[str]:
    """The links (host side) whose alias says this cloud's driver made them."""
    shown = json.loads(subprocess.run(["ip", "-j", "-d", "link", "show"], capture_output=True, text=True).stdout)
    return sorted(link["ifname"] for link in shown if link.get("ifalias", "").startswith(f"{prefix}:"))


def inside(namespace: str) -> Counter:
    """A namespace's links and iptables rules (a multiset, counters left out)."""
    found: Counter = Counter()
    for command in (["ip", "-o", "link", "show"], ["iptables-save"], ["ip6tables-save"]):
        done = subprocess.run(["ip", "netns", "exec", namespace, *command], capture_output=True, text=True)
        for line in done.stdout.splitlines():
            if command[0] == "ip":
                line = line.split(":")[1].strip().split("@")[0]
            elif line.startswith("#"):
                continue
            found[f"{namespace} {command[0]} {COUNTERS.sub('', line)}"] += 1
    return found


def footprint(cloud) -> dict:
    """Everything of this cloud on the host, in a form two snapshots can be compared in:
    its namespaces (and what they hold), links, processes (dnsmasq, not guests) and rules."""
    namespaces = sorted(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else []
    ours = [ns for ns in namespaces if ns.endswith(tuple(cloud.ids))] if cloud.ids else []
    held: Counter = Counter()
    for namespace in ours:
        held += inside(namespace)
    return {"namespaces": ours, "inside": held, "links": owned_links(cloud.prefix),
            "dnsmasq": sorted(cmd for cmd in processes(str(cloud.data_dir)).values() if cmd.startswith("dnsmasq")),
            "rules": rules(cloud.prefix)}


def changes(before: dict, after: dict) -> dict:
    """What differs between two footprints: (gone, new) per key."""
    out = {}
    for key in before:
        if before[key] != after[key]:
            old, new = Counter(before[key]), Counter(after[key])
            out[key] = (sorted((old - new).elements()), sorted((new - old).elements()))
    return out


def route_dev(address: str) -> str:
    shown = subprocess.run(["ip", "-j", "route", "get", address], capture_output=True, text=True, check=True)
    return json.loads(shown.stdout)[0].get("dev", "")


def pings(address: str) -> bool:
    return subprocess.run(["ping", "-n", "-c", "1", "-W", "1", address], capture_output=True).returncode == 0


def wait_until(check, timeout: float, step: float = 0.2) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"not true after {timeout} s"
        time.sleep(step)
    return time.monotonic() - started


# -- the cloud ----------------------------------------------------------------------------

class Cloud:
    """One `overcast up` with qemu guests and the linux driver, restartable on its data dir."""

    def __init__(self, data_dir, guest):
        tag = uuid.uuid4().hex[:6]
        self.prefix, self.bridge, self.third = f"k{tag}", f"brk{tag}", random.randint(1, 250)
        self.env = {**FAST_HASH, "OVERCAST_COMPUTE_DRIVER": "qemu", "OVERCAST_NETWORK_DRIVER": "linux",
                    "OVERCAST_NETWORK_LINUX_PREFIX": self.prefix,
                    "OVERCAST_NETWORK_BRIDGE_MAPPINGS": f"public:{self.bridge}",
                    "OVERCAST_NETWORK_PUBLIC_CIDR": f"10.251.{self.third}.0/24",
                    "OVERCAST_COMPUTE_CPU_ALLOCATION_RATIO": "16"}
        self.data_dir, self.guest = data_dir, guest
        self.proc = CloudProcess(data_dir, env=self.env)
        self.ids: list[str] = []  # networks and routers made: their namespaces end with them
        self.ports: list[tuple[str, str]] = []  # (port id, cloud name) made for servers: deleted after them

    def start(self) -> "Cloud":
        self.started = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
        self.proc = CloudProcess(self.data_dir, port=self.proc.port, env=self.env).start(timeout=90)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.proc.stop(sig)

    def agent_synced(self) -> None:
        """Wait until the network agent started last has reported: it beats only once its
        re-sync is done (the beats of the process before the restart are older)."""
        agent = next(agent["ID"] for agent in self.cli.run("network", "agent", "list")
                     if agent["Binary"] == "neutron-dhcp-agent")

        def beat() -> bool:
            stamp = self.cli.run("network", "agent", "show", agent).get("last_heartbeat_at") or ""
            return bool(stamp) and datetime.datetime.fromisoformat(stamp.replace("Z", "")) >= self.started
        wait_until(beat, 60, step=0.5)

    @property
    def cli(self) -> Cli:
        return Cli(self.proc)

    def qemu(self) -> dict[int, str]:
        return {pid: cmd for pid, cmd in processes(str(self.data_dir)).items() if cmd.startswith("qemu-system")}

    def teardown(self) -> None:
        """Stop the cloud, and remove what it leaves by design (its base chains, the
        mapped bridge) or after a failed test (guests, namespaces, dnsmasq)."""
        self.stop()
        for pid in self.qemu():
            os.kill(pid, signal.SIGTERM)
        from overcast.network.drivers import make_driver

        driver = make_driver("linux", state_dir=str(self.data_dir / "network"), prefix=self.prefix,
                             bridge_mappings=f"public:{self.bridge}")
        for router_id in driver.list_routers():
            driver.remove_router(router_id)
        for network_id in driver.list_dhcp():
            driver.remove_dhcp(network_id)
        for port_id in driver.list_ports():
            driver.unplug_port(port_id)
        driver.firewall.clear()
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


@pytest.fixture
def cloud(tmp_path):
    reason = missing("ebtables", "qemu-system-x86_64")
    if reason:
        pytest.skip(reason)
    guest = testguest.build()
    made = Cloud(tmp_path / "data", guest).start()
    made.base = rules(made.prefix)  # the cloud's own chains, before it has anything to filter
    try:
        yield made
    finally:
        made.teardown()
    left = footprint(made)
    assert left == {"namespaces": [], "inside": Counter(), "links": [], "dnsmasq": [], "rules": Counter()}, left


# -- building blocks ------------------------------------------------------------------------

def image_and_flavor(cloud: Cloud) -> tuple[str, str]:
    cli = cloud.cli
    image = cli.run("image", "create", "--public", "--disk-format", "qcow2", "--container-format", "bare",
                    "--file", str(cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    return image["id"], flavor["id"]


def network(cloud: Cloud, cidr: str, cloud_name: str = "overcast") -> str:
    cli = cloud.cli
    net = cli.run("network", "create", random_name("net"), cloud_name=cloud_name)
    cli.run("subnet", "create", "--network", net["id"], "--subnet-range", cidr, f"sub-{net['id'][:8]}",
            cloud_name=cloud_name)
    cloud.ids.append(net["id"])
    return net["id"]


def dhcp_address(cloud: Cloud, net_id: str) -> str:
    """The address of the network's DHCP port, once the agent has made it."""
    def found():
        ports = cloud.cli.run("port", "list", "--network", net_id, "--device-owner", "network:dhcp", "--long")
        return ports[0]["Fixed IP Addresses"][0]["ip_address"] if ports else None
    wait_until(found, 30, step=0.5)
    return found()


def boot(cloud: Cloud, image: str, flavor: str, net_id: str, name: str, cloud_name: str = "overcast",
         script: str = "", fixed_ip: str = "") -> tuple[str, str]:
    """A server on the network (at ``fixed_ip`` if given), booted to READY; its id and address."""
    cli = cloud.cli
    args = ["server", "create", "--flavor", flavor, "--image", image, "--wait"]
    if fixed_ip:
        port = cli.run("port", "create", "--network", net_id, "--fixed-ip", f"ip-address={fixed_ip}",
                       random_name("p"), cloud_name=cloud_name)
        args += ["--port", port["id"]]
        cloud.ports.append((port["id"], cloud_name))
    else:
        args += ["--nic", f"net-id={net_id}"]
    if script:
        path = cloud.data_dir.parent / f"{name}.sh"
        path.write_text(script)
        args += ["--user-data", str(path)]
    server = cli.run(*args, name, cloud_name=cloud_name)
    ports = cli.run("port", "list", "--server", server["id"], cloud_name=cloud_name)
    address = ports[0]["Fixed IP Addresses"][0]["ip_address"]
    text = testguest.wait_for(lambda: console(cloud, server["id"], cloud_name), "OVERCAST-READY", timeout=240)
    assert re.search(rf"OVERCAST-DHCP bound iface=eth0 ip={re.escape(address)} ", text), text[-2000:]
    return server["id"], address


def console(cloud: Cloud, server: str, cloud_name: str = "overcast") -> str:
    return cloud.cli.ok("console", "log", "show", server, cloud_name=cloud_name)


def with_router(cloud: Cloud, net_id: str, cloud_name: str = "overcast") -> str:
    cli = cloud.cli
    router = cli.run("router", "create", random_name("r"), cloud_name=cloud_name)
    cli.ok("router", "set", "--external-gateway", "public", router["id"], cloud_name=cloud_name)
    subnet = cli.run("subnet", "list", "--network", net_id, cloud_name=cloud_name)[0]["ID"]
    cli.ok("router", "add", "subnet", router["id"], subnet, cloud_name=cloud_name)
    cloud.ids.append(router["id"])
    return router["id"]


def open_group(cloud: Cloud, cloud_name: str = "overcast") -> None:
    """ICMP and HTTP in through the project's default group."""
    cli = cloud.cli
    groups = cli.run("security", "group", "list", "--project", project_id(cloud, cloud_name), cloud_name=cloud_name)
    default = next(group["ID"] for group in groups if group["Name"] == "default")
    cli.run("security", "group", "rule", "create", "--protocol", "icmp", default, cloud_name=cloud_name)


def project_id(cloud: Cloud, cloud_name: str) -> str:
    return cloud.cli.run("token", "issue", cloud_name=cloud_name)["project_id"]


def delete_all(cloud: Cloud, servers: list[tuple[str, str]], routers: list[tuple[str, str]],
               networks: list[tuple[str, str]], fips: list[str] = ()) -> None:
    """Delete (id, cloud name) servers, floating IPs, routers and networks, in that order."""
    cli = cloud.cli
    for server, name in servers:
        cli.ok("server", "delete", "--wait", server, cloud_name=name)
    for port, name in cloud.ports:
        cli.ok("port", "delete", port, cloud_name=name)
    cloud.ports.clear()
    for fip in fips:
        cli.ok("floating", "ip", "delete", fip)
    for router, name in routers:
        for subnet in cli.run("subnet", "list", cloud_name=name):
            cli.raw("router", "remove", "subnet", router, subnet["ID"], cloud_name=name)
        cli.ok("router", "delete", router, cloud_name=name)
    for net, name in networks:
        cli.ok("network", "delete", net, cloud_name=name)


def nothing_left(cloud: Cloud) -> None:
    """Once everything is deleted: no namespace, dnsmasq or link but the mapped bridge, and
    only the cloud's empty base chains."""
    def clean() -> bool:
        now = footprint(cloud)
        return (not now["namespaces"] and not now["dnsmasq"] and now["links"] == [cloud.bridge]
                and now["rules"] == cloud.base)
    try:
        wait_until(clean, 20, step=0.5)
    except AssertionError:
        now = footprint(cloud)
        raise AssertionError(f"left: {now['namespaces']} {now['dnsmasq']} {now['links']} "
                             f"rules beyond the base: {now['rules'] - cloud.base}") from None


# -- the faults -------------------------------------------------------------------------------

def test_dnsmasq_killed_is_restored_by_the_restart_without_duplicates(cloud):
    image, flavor = image_and_flavor(cloud)
    net = network(cloud, "10.61.0.0/24")
    router = with_router(cloud, net)
    first, _ = boot(cloud, image, flavor, net, "a")
    before = footprint(cloud)
    assert len(before["dnsmasq"]) == 1 and len(before["namespaces"]) == 2, before

    for pid, cmdline in processes(str(cloud.data_dir)).items():
        if cmdline.startswith("dnsmasq"):
            os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not footprint(cloud)["dnsmasq"], 5)
    cloud.stop()
    cloud.start()
    cloud.agent_synced()
    wait_until(lambda: len(footprint(cloud)["dnsmasq"]) == 1, 20)
    after = footprint(cloud)
    assert after == before, changes(before, after)

    second, address = boot(cloud, image, flavor, net, "b")  # DHCP answers again
    assert len(footprint(cloud)["dnsmasq"]) == 1
    delete_all(cloud, [(first, "overcast"), (second, "overcast")], [(router, "overcast")], [(net, "overcast")])
    nothing_left(cloud)


def test_cloud_killed_while_guests_run_keeps_their_network(cloud):
    image, flavor = image_and_flavor(cloud)
    net = network(cloud, "10.62.0.0/24")
    router = with_router(cloud, net)
    open_group(cloud)
    server, _ = boot(cloud, image, flavor, net, "a")
    fip = cloud.cli.run("floating ip", "create", "public")["floating_ip_address"]
    assert route_dev(fip) == cloud.bridge  # the host only talks to this cloud's bridge
    cloud.cli.ok("server", "add", "floating", "ip", server, fip)
    wait_until(lambda: pings(fip), 15)
    guests = cloud.qemu()
    before = footprint(cloud)

    pinging = subprocess.Popen(["ping", "-n", "-i", "0.2", "-W", "1", fip], stdout=subprocess.PIPE, text=True)
    cloud.stop(signal.SIGKILL)
    assert cloud.qemu() == guests
    assert pings(fip)  # the data path needs no cloud process
    cloud.start()
    cloud.agent_synced()
    time.sleep(1)
    pinging.send_signal(signal.SIGINT)
    summary = re.search(r"(\d+) packets transmitted, (\d+) received", pinging.communicate(timeout=10)[0])
    sent, received = int(summary.group(1)), int(summary.group(2))
    assert sent > 10 and received >= sent - 2, f"{sent - received} of {sent} pings lost across the restart"
    assert pings(fip)
    assert cloud.qemu() == guests  # the same QEMU: the guest was never restarted
    after = footprint(cloud)
    assert after == before, changes(before, after)

    cloud.cli.ok("server", "remove", "floating", "ip", server, fip)
    delete_all(cloud, [(server, "overcast")], [(router, "overcast")], [(net, "overcast")], [fip])
    nothing_left(cloud)


PROBE = """#!/bin/sh
for target in {targets}; do
    if ping -c 2 -W 1 $target >/dev/null 2>&1; then echo "REACH $target yes"; else echo "REACH $target no"; fi
done
echo "PROBE-DONE"
"""


def test_same_cidr_in_two_projects_both_work_and_stay_apart(cloud):
    image, flavor = image_and_flavor(cloud)
    cidr, address = "10.63.0.0/24", "10.63.0.50"
    mine = network(cloud, cidr)
    router = with_router(cloud, mine)  # 10.63.0.1 exists on the admin project's network only
    theirs = network(cloud, cidr, cloud_name="overcast-demo")
    mine_dhcp, theirs_dhcp = dhcp_address(cloud, mine), dhcp_address(cloud, theirs)
    script = PROBE.format(targets="10.63.0.1 " + " ".join(sorted({mine_dhcp, theirs_dhcp})))
    a, a_ip = boot(cloud, image, flavor, mine, "a", script=script, fixed_ip=address)
    b, b_ip = boot(cloud, image, flavor, theirs, "b", cloud_name="overcast-demo", script=script, fixed_ip=address)
    assert a_ip == b_ip == address

    a_text = testguest.wait_for(lambda: console(cloud, a), "PROBE-DONE", timeout=60)
    b_text = testguest.wait_for(lambda: console(cloud, b, "overcast-demo"), "PROBE-DONE", timeout=60)
    assert f"OVERCAST-METADATA uuid={a}" in a_text and f"OVERCAST-METADATA uuid={b}" in b_text  # each its own
    assert "OVERCAST-UD REACH 10.63.0.1 yes" in a_text
    assert "OVERCAST-UD REACH 10.63.0.1 no" in b_text  # the other project's router is not on its network
    assert f"OVERCAST-UD REACH {mine_dhcp} yes" in a_text and f"OVERCAST-UD REACH {theirs_dhcp} yes" in b_text
    if mine_dhcp != theirs_dhcp:
        assert f"OVERCAST-UD REACH {theirs_dhcp} no" in a_text and f"OVERCAST-UD REACH {mine_dhcp} no" in b_text

    raw = subprocess.run(["iptables-save", "-t", "raw"], capture_output=True, text=True).stdout
    zones = {bridge: zone for bridge, zone in re.findall(rf"-A {cloud.prefix}-PRE -i (\S+) .*--zone (\d+)", raw)}
    assert zones.get(f"brq{mine[:11]}") and zones.get(f"brq{theirs[:11]}")
    assert zones[f"brq{mine[:11]}"] != zones[f"brq{theirs[:11]}"]

    delete_all(cloud, [(a, "overcast"), (b, "overcast-demo")], [(router, "overcast")],
               [(mine, "overcast"), (theirs, "overcast-demo")])
    nothing_left(cloud)
