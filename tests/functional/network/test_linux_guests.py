"""Real guests on real networks, driven by the `openstack` CLI: `overcast up` with the
qemu compute driver and the linux network driver (bridges, dnsmasq, router namespaces,
iptables), as issue 9's journey walks it.

Two test guests on one tenant network get their DHCP addresses and metadata (instance id
and SSH key), one pings the other while a security group allows it, and not while it
does not; the second reaches an address on the external bridge through the router's
SNAT; the host reaches the first on its floating IP only while a rule allows it. At the
end everything is deleted and no namespace, bridge, dnsmasq or iptables rule of this
cloud is left. Each cloud has a random prefix, external bridge and external CIDR, so
other clouds on the machine are never touched; every address the test sends to is
checked with `ip route get` to be on the bridge this cloud made.
"""

from __future__ import annotations

import http.server
import json
import os
import random
import re
import socket
import subprocess
import threading
import time
import uuid

import pytest

from cloudproc import CloudProcess
from conftest import FAST_HASH, Cli, random_name
import testguest
from contract.test_linux_network_driver import missing, namespaces, own_links

pytestmark = pytest.mark.qemu
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq1ZkpJ5fWv8pAFeUDgwcOrDqK6c7CHmXJ1b+0Eb5h0 overcast-test"


def processes(marker: str) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose command line holds ``marker``."""
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


def rules(prefix: str) -> list[str]:
    saved = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    saved += subprocess.run(["ip6tables-save"], capture_output=True, text=True).stdout
    return [line for line in saved.splitlines() if prefix in line]


def route_dev(address: str) -> str:
    shown = subprocess.run(["ip", "-j", "route", "get", address], capture_output=True, text=True, check=True)
    return json.loads(shown.stdout)[0].get("dev", "")


def addresses(device: str) -> list[str]:
    shown = subprocess.run(["ip", "-j", "addr", "show", "dev", device], capture_output=True, text=True, check=True)
    return [info["local"] for link in json.loads(shown.stdout) for info in link.get("addr_info", [])]


@pytest.fixture(scope="module")
def net_cloud(tmp_path_factory):
    reason = missing("qemu-system-x86_64")
    if reason:
        pytest.skip(reason)
    guest = testguest.build()
    tag = uuid.uuid4().hex[:6]
    third = random.randint(1, 250)
    before = namespaces()
    data = tmp_path_factory.mktemp("net-cloud") / "data"
    env = {**FAST_HASH, "OVERCAST_COMPUTE_DRIVER": "qemu", "OVERCAST_NETWORK_DRIVER": "linux",
           "OVERCAST_NETWORK_LINUX_PREFIX": f"e{tag}", "OVERCAST_NETWORK_BRIDGE_MAPPINGS": f"public:bre{tag}",
           "OVERCAST_NETWORK_PUBLIC_CIDR": f"10.252.{third}.0/24"}
    proc = CloudProcess(data, env=env).start(timeout=60)
    proc.guest, proc.tag, proc.third, proc.bridge = guest, tag, third, f"bre{tag}"
    try:
        yield proc
    finally:
        proc.stop()
        for pid, cmdline in processes(str(data)):  # never leave a guest behind a failed test
            if cmdline.startswith("qemu-system"):
                os.kill(pid, 15)
        subprocess.run(["ip", "link", "del", f"bre{tag}"], capture_output=True)
        from overcast.network.drivers.linux.firewall import Firewall
        from overcast.network.drivers.linux.host import Host

        Firewall(Host(data / "network", f"e{tag}")).clear()  # the chains a running cloud keeps
    # this cloud's only: other test files make their own at the same time (pytest-xdist); a
    # DHCP or router namespace left behind keeps its leg, whose host end carries the prefix
    assert {ns for ns in namespaces() - before if tag in ns} == set(), "namespaces left behind"
    assert rules(f"e{tag}-") == [], "iptables chains left behind"
    assert own_links(f"e{tag}", f"bre{tag}") == set(), "links left behind"


def console(cli: Cli, server: str) -> str:
    return cli.ok("console", "log", "show", server)


def fixed_ip(cli: Cli, server: str) -> str:
    ports = cli.run("port", "list", "--server", server)
    return ports[0]["Fixed IP Addresses"][0]["ip_address"]


class EchoServer:
    """An HTTP server on the external bridge's address that answers with the caller's address."""

    def __init__(self, address: str):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = f"FROM {self.client_address[0]}\n".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((address, 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def reaches(address: str, port: int, timeout: float = 1.0) -> str | None:
    """The body of GET http://address:port/ or None when nothing answers."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
            return data.decode(errors="replace")
    except OSError:
        return None


def pings(address: str) -> bool:
    return subprocess.run(["ping", "-c", "1", "-W", "1", address], capture_output=True).returncode == 0


def wait_until(check, timeout: float, step: float = 0.1) -> float:
    """Seconds until ``check()`` is true; AssertionError after ``timeout``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"not true after {timeout} s"
        time.sleep(step)
    return time.monotonic() - started


def test_guests_on_a_tenant_network_through_their_whole_journey(net_cloud):
    cli, third, bridge = Cli(net_cloud), net_cloud.third, net_cloud.bridge
    prefix = f"e{net_cloud.tag}"
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(net_cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    key_file = net_cloud.data_dir.parent / "key.pub"
    key_file.write_text(KEY + "\n")
    cli.run("keypair", "create", "--public-key", str(key_file), "k1")
    net = cli.run("network", "create", random_name("net"))
    cli.run("subnet", "create", "--network", net["id"], "--subnet-range", "10.9.8.0/24", "sub")
    router = cli.run("router", "create", random_name("r"))
    cli.ok("router", "set", "--external-gateway", "public", router["id"])
    cli.ok("router", "add", "subnet", router["id"], "sub")
    gateway = f"10.252.{third}.1"
    wait_until(lambda: gateway in addresses(bridge), 10)  # the host's end of the external network: this cloud's bridge
    echo = EchoServer(gateway)

    # guest A: DHCP, metadata and its key
    cli.run("server", "create", "--flavor", flavor["id"], "--image", image["id"], "--nic", f"net-id={net['id']}",
            "--key-name", "k1", "--wait", "a")
    a_id, a_ip = cli.run("server", "show", "a")["id"], fixed_ip(cli, "a")
    text = testguest.wait_for(lambda: console(cli, "a"), "OVERCAST-READY", timeout=180)
    assert re.search(rf"OVERCAST-DHCP bound iface=eth0 ip={re.escape(a_ip)} ", text), text[-2000:]
    assert f"OVERCAST-METADATA uuid={a_id}" in text
    assert f"OVERCAST-PUBKEY {KEY}" in text

    # guest B pings A once a second, forever, and fetches from the external bridge through SNAT
    script = ("#!/bin/sh\n"
              f"wget -qO- http://{gateway}:{echo.port}/ | sed 's/^/SNAT /'\n"
              f"n=0; while true; do n=$((n+1)); if ping -c 1 -W 1 {a_ip} >/dev/null; then echo \"PING $n ok\"; "
              "else echo \"PING $n fail\"; fi; sleep 0.3; done\n")
    user_data = net_cloud.data_dir.parent / "ud.sh"
    user_data.write_text(script)
    cli.run("server", "create", "--flavor", flavor["id"], "--image", image["id"], "--nic", f"net-id={net['id']}",
            "--user-data", str(user_data), "--wait", "b")
    gateway_ip = cli.run("router", "show", router["id"])["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    text = testguest.wait_for(lambda: console(cli, "b"), "PING", timeout=180)
    assert f"OVERCAST-UD SNAT FROM {gateway_ip}" in text  # B went out with the router's address

    def last_ping() -> str:
        found = re.findall(r"OVERCAST-UD PING \d+ (ok|fail)", console(cli, "b"))
        return found[-1] if found else ""

    wait_until(lambda: last_ping() == "ok", 30, step=0.5)  # same group (default): allowed
    closed = cli.run("security group", "create", random_name("closed"))
    cli.ok("server", "add", "security", "group", "a", closed["id"])
    cli.ok("server", "remove", "security", "group", "a", "default")
    wait_until(lambda: last_ping() == "fail", 30, step=0.5)  # nothing lets B's ping into A now
    cli.run("security group", "rule", "create", "--protocol", "icmp", closed["id"])
    took = wait_until(lambda: last_ping() == "ok", 30, step=0.2)
    print(f"ICMP rule to B's ping answered: {took:.1f} s (console polling included)")

    # A's floating IP: the host reaches it only while a rule allows it
    fip = cli.run("floating ip", "create", "public")["floating_ip_address"]
    assert route_dev(fip) == bridge
    cli.ok("server", "add", "floating", "ip", "a", fip)
    wait_until(lambda: pings(fip), 10)  # ICMP is allowed by the rule above
    assert reaches(fip, 80) is None  # no TCP rule yet
    rule = cli.run("security group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", closed["id"])
    took = wait_until(lambda: reaches(fip, 80) is not None, 2)
    print(f"TCP rule to first HTTP reply on the floating IP: {took:.2f} s")
    cli.ok("security group", "rule", "delete", rule["id"])
    wait_until(lambda: reaches(fip, 80, timeout=0.5) is None, 2)

    # deleting a router with a floating IP in use is refused
    refused = cli.raw("router", "remove", "subnet", router["id"], "sub")
    assert refused.returncode != 0

    # everything goes, and nothing of it is left on the host
    echo.close()
    cli.ok("server", "delete", "--wait", "a", "b")
    cli.ok("floating", "ip", "delete", fip)
    cli.ok("router", "remove", "subnet", router["id"], "sub")
    cli.ok("router", "delete", router["id"])
    cli.ok("network", "delete", net["id"])
    cli.ok("security", "group", "delete", closed["id"])

    def clean() -> bool:
        ours = [ns for ns in namespaces() if ns.endswith((net["id"], router["id"]))]
        return not ours and not processes(net["id"]) and not rules(f"{prefix}-i") and not rules(f"{prefix}-o")
    wait_until(clean, 10, step=0.5)
    assert owned_links(prefix) == {bridge}  # only the external bridge, which the driver keeps


def owned_links(prefix: str) -> set[str]:
    """The links this cloud's driver made (their alias starts with its prefix)."""
    shown = json.loads(subprocess.run(["ip", "-j", "-d", "link", "show"], capture_output=True, text=True).stdout)
    return {link["ifname"] for link in shown if link.get("ifalias", "").startswith(f"{prefix}:")}
