"""Guests for the Linux driver's firewall tests: a network namespace on a veth pair whose
outer end is the port's ``tap<port>`` on the network's bridge (``Bridges.plug_leg``), so
the driver's physdev rules see it exactly as a guest's tap. Probes (ICMP echo, TCP
connect, a TCP listener) run inside the namespaces with this Python; no ping or netcat
is needed. Traffic stays between namespaces on bridges the test made."""

from __future__ import annotations

import random
import subprocess
import sys
import time
import uuid

from overcast.network.drivers.base import Segment
from overcast.network.drivers.linux.host import bridge_name, tap_name

#: sends an ICMP echo every 10 ms until a reply comes (prints its time) or the time is up
PING = r"""
import os, socket, struct, sys, time
dst, src, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
if src:
    sock.bind((src, 0))
sock.settimeout(0.01)
ident = os.getpid() & 0xFFFF
def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
end, seq = time.time() + limit, 0
while time.time() < end:
    seq += 1
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"overcast"
    sock.sendto(body[:2] + struct.pack("!H", checksum(body)) + body[4:], (dst, 0))
    try:
        while True:
            data, addr = sock.recvfrom(2048)
            head = (data[0] & 0x0F) * 4
            if addr[0] == dst and data[head] == 0 and struct.unpack("!H", data[head + 4:head + 6])[0] == ident:
                print(time.time()); sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
"""
#: the same over ICMPv6 (the kernel fills in the checksum and strips the IP header)
PING6 = r"""
import os, socket, struct, sys, time
dst, limit = sys.argv[1], float(sys.argv[2])
sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
sock.settimeout(0.01)
ident = os.getpid() & 0xFFFF
end, seq = time.time() + limit, 0
while time.time() < end:
    seq += 1
    sock.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, seq) + b"overcast", (dst, 0))
    try:
        while True:
            data, addr = sock.recvfrom(2048)
            if data[0] == 129 and struct.unpack("!H", data[4:6])[0] == ident:
                print(time.time()); sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
"""
CONNECT = r"""
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()
except OSError:
    sys.exit(1)
"""
#: sends one ARP request from this guest's device: who has argv[3], tell argv[2] (the
#: sender address, maybe not the guest's); the target learns that sender's MAC
ARP = r"""
import socket, struct, sys
device, sender, target = sys.argv[1:4]
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((device, 0))
mac = sock.getsockname()[4]
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, socket.inet_aton(sender), b"\0" * 6,
                  socket.inet_aton(target))
sock.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
"""
#: keeps one TCP connection to argv[1]:argv[2]; each line read from stdin is sent and
#: "ok" printed if it comes back (an echo server) within a second, else "lost"
HOLD = r"""
import socket, sys
source = ("", int(sys.argv[3])) if len(sys.argv) > 3 else None
conn = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1, source_address=source)
print("ready", flush=True)
for line in sys.stdin:
    try:
        conn.sendall(line.encode())
        print("ok" if conn.recv(1024) else "lost", flush=True)
    except OSError:
        print("lost", flush=True)
"""
LISTEN = r"""
import socket, sys, threading
def serve(port):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", port)); server.listen(16)
    while True:
        conn = server.accept()[0]
        threading.Thread(target=echo, args=(conn,), daemon=True).start()
def echo(conn):
    while data := conn.recv(1024):
        conn.sendall(data)
    conn.close()
for port in sys.argv[1:]:
    threading.Thread(target=serve, args=(int(port),), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""


def random_mac() -> str:
    return "fa:16:3e:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))


class Guest:
    """A namespace plugged as a guest port with ``ip``/24 on ``segment``'s bridge."""

    def __init__(self, driver, segment: Segment, ip: str):
        self.driver, self.segment, self.ip = driver, segment, ip
        self.port_id, self.mac = str(uuid.uuid4()), random_mac()
        self.netns = f"fwg-{driver.host.prefix}-{self.port_id[:8]}"
        self.processes: list[subprocess.Popen] = []
        driver.host.add_namespace(self.netns)
        self.device = driver.bridges.plug_leg(self.port_id, "ns", self.netns, self.mac, segment)
        self.run("ip", "addr", "add", f"{ip}/24", "dev", self.device)

    @property
    def vif(self) -> dict:
        return {"id": self.port_id, "mac": self.mac, "devname": tap_name(self.port_id),
                "bridge": bridge_name(self.segment.network_id), "network_id": self.segment.network_id}

    def run(self, *args: str, check: bool = True) -> str:
        return self.driver.host.run(*args, netns=self.netns, check=check)

    def _python(self, code: str, *args: str) -> list[str]:
        return ["ip", "netns", "exec", self.netns, sys.executable, "-c", code, *args]

    def assert_local(self, address: str) -> None:
        """The rule: traffic only to addresses on the test's own links."""
        route = self.run("ip", "route", "get", address)
        assert f"dev {self.device}" in route, f"{address} is not on the test's link: {route}"

    def ping(self, address: str, within: float = 1.0, source: str = "") -> float | None:
        """The time of the first echo reply, or None if none came within ``within`` s."""
        self.assert_local(address)
        done = subprocess.run(self._python(PING, address, source, str(within)), capture_output=True, text=True)
        return float(done.stdout) if done.returncode == 0 else None

    def ping6(self, address: str, within: float = 1.0) -> float | None:
        self.assert_local(address)
        done = subprocess.run(self._python(PING6, address, str(within)), capture_output=True, text=True)
        return float(done.stdout) if done.returncode == 0 else None

    def start_ping(self, address: str, within: float = 5.0) -> subprocess.Popen:
        self.assert_local(address)
        process = subprocess.Popen(self._python(PING, address, "", str(within)), stdout=subprocess.PIPE, text=True)
        self.processes.append(process)
        return process

    def connects(self, address: str, port: int, timeout: float = 1.0) -> bool:
        self.assert_local(address)
        return subprocess.run(self._python(CONNECT, address, str(port), str(timeout))).returncode == 0

    def arp_claim(self, sender: str, target: str) -> None:
        """Ask ``target`` for its MAC in the name of ``sender`` (an ARP request)."""
        self.assert_local(target)
        subprocess.run(self._python(ARP, self.device, sender, target), check=True)

    def neighbour(self, address: str) -> str:
        """This guest's ARP entry for ``address`` ("" if none)."""
        return self.run("ip", "neigh", "show", address).strip()

    def hold(self, address: str, port: int, source_port: int | None = None) -> subprocess.Popen | None:
        """A TCP connection kept open to an echo port (see ``echoes``); None if it cannot
        be made."""
        self.assert_local(address)
        process = subprocess.Popen(self._python(HOLD, address, str(port), *([str(source_port)] if source_port else [])),
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.processes.append(process)
        return process if process.stdout.readline().strip() == "ready" else None

    def listen(self, *ports: int) -> None:
        process = subprocess.Popen(self._python(LISTEN, *map(str, ports)), stdout=subprocess.PIPE, text=True)
        self.processes.append(process)
        assert process.stdout.readline().strip() == "ready"

    def remove(self) -> None:
        """Everything of the guest goes, whatever fails on the way (raised after)."""
        for process in self.processes:
            process.kill()
            process.wait()
        try:
            self.driver.firewall.remove(self.port_id)
        finally:
            try:
                self.driver.bridges.unplug_leg(self.port_id)
            finally:
                self.driver.host.remove_namespace(self.netns)


def wait_for(process: subprocess.Popen) -> float | None:
    """A started ping's reply time, or None."""
    out, _ = process.communicate()
    return float(out) if process.returncode == 0 else None


def now() -> float:
    return time.time()


def forward_drop_scenario(state_dir: str) -> None:
    """Run in a network namespace of its own (the test does that, with its own /sys): the
    host's FORWARD policy set to DROP, what the filters allow still passes, between guests
    and to and from an unfiltered leg (a router's, say), and what they do not allow does not."""
    from overcast.network.drivers import FilterRule, PortFilter, make_driver

    driver = make_driver("linux", state_dir=state_dir, prefix="tdrop", bridge_mappings="public:brxdrop")
    run = driver.host.run
    run("ip", "link", "set", "lo", "up")
    for tool in ("iptables", "ip6tables"):
        run(tool, "-P", "FORWARD", "DROP")
    driver.init_host("isolated")
    segment = Segment(network_id=str(uuid.uuid4()), network_type="local", mtu=1500)
    client, server, leg = (Guest(driver, segment, f"10.250.0.{n}") for n in (5, 6, 1))
    try:
        def allow(guest: Guest, *rules: FilterRule) -> None:
            driver.firewall.set(PortFilter(port_id=guest.port_id, rules=list(rules), allowed_addresses=[
                {"ip_address": guest.ip, "mac_address": guest.mac}]), guest.vif)

        allow(client, FilterRule("egress"))
        allow(server, FilterRule("egress"))
        assert client.ping(server.ip, within=0.5) is None, "passed without a rule"
        allow(server, FilterRule("egress"), FilterRule("ingress", protocol="icmp"))
        assert client.ping(server.ip) is not None, "guest to guest dropped by the FORWARD policy"
        assert leg.ping(server.ip) is not None, "leg to guest dropped by the FORWARD policy"
        assert server.ping(leg.ip) is not None, "guest to leg dropped by the FORWARD policy"
        assert leg.ping(client.ip, within=0.5) is None, "passed without a rule"
    finally:
        for guest in (client, server, leg):
            guest.remove()
        driver.firewall.clear()
    print("forward-drop-ok")


def echoes(connection: subprocess.Popen) -> bool:
    """Whether a held connection still carries data both ways."""
    connection.stdin.write("ping\n")
    connection.stdin.flush()
    return connection.stdout.readline().strip() == "ok"
