"""Real guests on the linux network driver: DHCP, floating IPs, filters, throughput (root).

    .venv/bin/python bench/network_guests.py [--ports 50] [--rounds 3] [--seconds 8] [--settle 0]

Starts its own ``overcast up`` (OVERCAST_COMPUTE_DRIVER=qemu, OVERCAST_NETWORK_DRIVER=linux,
a random prefix, external bridge and external CIDR, so nothing else on the machine is
touched), uploads the test guest (tools/build-test-guest.sh) and measures, end to end
through the API:

1. a security group rule applied to ``--ports`` plugged ports: the ports are made bound
   to this host and the cloud restarted, so the agent's re-sync plugs them (a tap each,
   no guest); then ``--rounds`` times, from the POST of an ingress rule to the moment
   iptables holds it in every port's chain (``iptables-save`` polled every 20 ms), and
   the same for its DELETE, then ``--settle`` seconds of rest if asked (the agent may
   still be ending the removed rule's tracked connections, which delays the next rule);
2. port up to DHCP lease: two servers, one after the other; from ``server create`` to
   the port ACTIVE (polled every 50 ms) and to the guest's ``OVERCAST-DHCP bound`` line
   (console polled every 100 ms), and from the port ACTIVE to that line;
3. TCP throughput guest to guest on one bridge: the first guest's user-data listens
   with busybox ``nc`` and counts bytes, the second sends /dev/zero for ``--seconds``
   and prints its start and end (``/proc/uptime``); bytes / seconds. Then host to guest
   through the floating IP (router DNAT), the same way;
4. floating IP associate to first reply: ``--rounds`` times associate (PUT), then ping
   and HTTP (the guest's httpd on :80) every 20-50 ms until each answers; disassociate
   and wait until it stops answering between rounds. ``ip route get`` checks first that
   the floating IP is on the bridge this cloud made.

Prints the figures and writes bench/results/network-guests-<time>.json (and -latest).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "tests"))

from cloudproc import CloudProcess  # noqa: E402

RECEIVER = """#!/bin/sh
sleep 900 | nc -l -p 5001 | { n=$(wc -c); echo "RECEIVED-GUEST bytes=$n"; } &
sleep 900 | nc -l -p 5002 | { n=$(wc -c); echo "RECEIVED-HOST bytes=$n"; } &
wait
"""
SENDER = """#!/bin/sh
s=$(cut -d' ' -f1 /proc/uptime)
timeout {seconds} nc {address} 5001 < /dev/zero
e=$(cut -d' ' -f1 /proc/uptime)
echo "SENT start=$s end=$e"
"""


def guest_dir() -> Path:
    out = Path(os.environ.get("OVERCAST_GUEST_DIR", "~/.cache/overcast/test-guest")).expanduser()
    subprocess.run([str(ROOT / "tools" / "build-test-guest.sh"), str(out)], check=True, capture_output=True)
    return out


def connect(cloud: CloudProcess):
    import openstack

    auth = {"auth_url": cloud.auth_url, "username": "admin", "password": cloud.passwords()["admin"],
            "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"}
    return openstack.connect(auth=auth, region_name="RegionOne", identity_api_version="3")


def console(conn, server_id: str) -> str:
    try:
        return conn.compute.get_server_console_output(server_id)["output"]
    except Exception:  # not there yet while the server builds
        return ""


def wait_for(check, timeout: float, step: float):
    """Poll ``check()`` until it returns something true; that value (TimeoutError after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"not true after {timeout} s")


def route_dev(address: str) -> str:
    shown = subprocess.run(["ip", "-j", "route", "get", address], capture_output=True, text=True, check=True)
    return json.loads(shown.stdout)[0].get("dev", "")


def owned_links(prefix: str, kind: str) -> int:
    shown = json.loads(subprocess.run(["ip", "-j", "-d", "link", "show"], capture_output=True, text=True).stdout)
    return sum(1 for link in shown if link.get("ifalias", "").startswith(f"{prefix}:{kind}:"))


def rule_count(prefix: str, needle: str) -> int:
    saved = subprocess.run(["iptables-save", "-t", "filter"], capture_output=True, text=True).stdout
    return sum(1 for line in saved.splitlines() if line.startswith(f"-A {prefix}-") and needle in line)


def pings(address: str) -> bool:
    return subprocess.run(["ping", "-n", "-c", "1", "-W", "0.3", address], capture_output=True).returncode == 0


def http_answers(address: str, port: int = 80, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return sock.recv(16).startswith(b"HTTP/")
    except OSError:
        return False


def summary(values: list[float]) -> dict:
    return {"p50": statistics.median(values), "max": max(values), "n": len(values), "all": values}


def user_data(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def rule_rounds(conn, prefix: str, group, ports: int, rounds: int, settle: float) -> dict:
    """POST a rule and DELETE it ``rounds`` times; seconds until every port's chain has (has not)
    it. ``settle`` seconds after each DELETE let the agent finish with it before the next POST."""
    added, removed = [], []
    for n in range(rounds):
        needle = f"--dport {41000 + n}"
        start = time.monotonic()
        rule = conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                                       ethertype="IPv4", protocol="tcp", port_range_min=41000 + n,
                                                       port_range_max=41000 + n, remote_ip_prefix="10.0.0.0/8")
        posted = time.monotonic() - start
        wait_for(lambda: rule_count(prefix, needle) >= ports, 60, 0.02)
        added.append(time.monotonic() - start)
        print(f"  rule {n}: POST {posted * 1000:.0f} ms, in all {ports} chains after {added[-1]:.2f} s")
        start = time.monotonic()
        conn.network.delete_security_group_rule(rule)
        wait_for(lambda: rule_count(prefix, needle) == 0, 60, 0.02)
        removed.append(time.monotonic() - start)
        print(f"  rule {n}: DELETE, gone from all {ports} chains after {removed[-1]:.2f} s")
        time.sleep(settle)  # the agent still ends the removed rule's connections (conntrack -D, port by port)
    return {"add": summary(added), "delete": summary(removed)}


def boot(conn, image, flavor, network, name: str, script: str) -> dict:
    """Create a server; seconds to its port ACTIVE and to its DHCP line, its id and address."""
    start = time.monotonic()
    server = conn.compute.create_server(name=name, image_id=image.id, flavor_id=flavor.id,
                                        networks=[{"uuid": network.id}], user_data=user_data(script))
    active = dhcp = None
    port = None
    while dhcp is None:
        assert time.monotonic() - start < 300, f"{name}: no DHCP line in 300 s"
        if active is None:
            port = next(iter(conn.network.ports(device_id=server.id)), None)
            if port is not None and port.status == "ACTIVE":
                active = time.monotonic() - start
        if "OVERCAST-DHCP bound" in console(conn, server.id):
            dhcp = time.monotonic() - start
        time.sleep(0.05 if active is None else 0.1)
    ip = port.fixed_ips[0]["ip_address"]
    text = console(conn, server.id)
    assert re.search(rf"OVERCAST-DHCP bound iface=eth0 ip={re.escape(ip)} ", text), text[-1500:]
    active = active if active is not None else dhcp
    print(f"  {name}: port ACTIVE {active:.2f} s, DHCP bound {dhcp:.2f} s after create, "
          f"{dhcp - active:.2f} s after ACTIVE")
    return {"id": server.id, "ip": ip, "port_id": port.id, "active": active, "dhcp": dhcp,
            "active_to_dhcp": dhcp - active}


def host_send(address: str, port: int, seconds: float) -> float:
    """Send zeros to address:port for ``seconds``; the seconds it took."""
    chunk = bytes(65536)
    start = time.monotonic()
    with socket.create_connection((address, port), timeout=5) as sock:
        while time.monotonic() - start < seconds:
            sock.sendall(chunk)
    return time.monotonic() - start


def fip_rounds(conn, fip, port_id: str, rounds: int) -> dict:
    """Associate ``rounds`` times; seconds to the first ping reply and to the first HTTP reply."""
    ping_s, http_s = [], []
    address = fip.floating_ip_address
    for n in range(rounds):
        start = time.monotonic()
        conn.network.update_ip(fip, port_id=port_id)
        first_ping = first_http = None
        while first_ping is None or first_http is None:
            assert time.monotonic() - start < 30, "the floating IP did not answer in 30 s"
            if first_ping is None and pings(address):
                first_ping = time.monotonic() - start
            if first_http is None and http_answers(address):
                first_http = time.monotonic() - start
            time.sleep(0.02)
        ping_s.append(first_ping)
        http_s.append(first_http)
        print(f"  round {n}: first ping {first_ping:.2f} s, first HTTP {first_http:.2f} s")
        if n < rounds - 1:
            conn.network.update_ip(fip, port_id=None)
            wait_for(lambda: not http_answers(address), 30, 0.1)
    return {"ping": summary(ping_s), "http": summary(http_s)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--settle", type=float, default=0.0, help="seconds of rest after each rule DELETE")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (bridges, namespaces, iptables)")
    guest = guest_dir()
    tag, third = uuid.uuid4().hex[:6], random.randint(1, 250)
    prefix, bridge, cidr = f"n{tag}", f"brn{tag}", f"10.253.{third}.0/24"
    data = Path(tempfile.mkdtemp(prefix="bench-netguests-")) / "data"
    env = {"OVERCAST_COMPUTE_DRIVER": "qemu", "OVERCAST_NETWORK_DRIVER": "linux",
           "OVERCAST_NETWORK_LINUX_PREFIX": prefix, "OVERCAST_NETWORK_BRIDGE_MAPPINGS": f"public:{bridge}",
           "OVERCAST_NETWORK_PUBLIC_CIDR": cidr, "OVERCAST_COMPUTE_CPU_ALLOCATION_RATIO": "16"}
    cloud = CloudProcess(data, env=env).start(timeout=60)
    report: dict = {"prefix": prefix, "external_cidr": cidr}
    try:
        conn = connect(cloud)
        with open(guest / "disk.qcow2", "rb") as handle:
            image = conn.image.create_image(name="test-guest", data=handle, disk_format="qcow2",
                                            container_format="bare", wait=True)
        flavor = conn.compute.create_flavor(name="bench-net", ram=128, vcpus=1, disk=1)
        network = conn.network.create_network(name="bench-net")
        subnet = conn.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.77.0.0/22",
                                            name="bench-sub")
        public = conn.network.find_network("public")
        router = conn.network.create_router(name="bench-r", external_gateway_info={"network_id": public.id})
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)
        default = next(g for g in conn.network.security_groups(project_id=conn.current_project_id)
                       if g.name == "default")
        for protocol, low, high in (("icmp", None, None), ("tcp", 80, 80), ("tcp", 5001, 5002)):
            conn.network.create_security_group_rule(security_group_id=default.id, direction="ingress",
                                                    ethertype="IPv4", protocol=protocol, port_range_min=low,
                                                    port_range_max=high)

        print(f"1. one security group rule on {args.ports} plugged ports")
        group = conn.network.create_security_group(name="bench-50")
        host = socket.gethostname()
        plugged = [conn.network.create_port(network_id=network.id, security_group_ids=[group.id],
                                            device_owner="compute:bench", device_id=str(uuid.uuid4()),
                                            binding_host_id=host) for _ in range(args.ports)]
        cloud.stop()
        start = time.monotonic()
        cloud = CloudProcess(data, port=cloud.port, env=env).start(timeout=120)
        wait_for(lambda: owned_links(prefix, "port") >= args.ports, 120, 0.2)
        print(f"  restart and re-sync to {args.ports} ports plugged: {time.monotonic() - start:.1f} s")
        conn = connect(cloud)
        report["rule_50_ports"] = rule_rounds(conn, prefix, group, args.ports, args.rounds, args.settle)
        for port in plugged:
            conn.network.delete_port(port)
        wait_for(lambda: owned_links(prefix, "port") == 0, 60, 0.2)

        print("2. port up to DHCP lease")
        receiver = boot(conn, image, flavor, network, "receiver", RECEIVER)
        wait_for(lambda: "OVERCAST-READY" in console(conn, receiver["id"]), 180, 0.5)
        sender = boot(conn, image, flavor, network, "sender",
                      SENDER.format(seconds=args.seconds, address=receiver["ip"]))
        report["dhcp"] = {name: summary([receiver[name], sender[name]]) for name in ("active", "dhcp",
                                                                                    "active_to_dhcp")}

        print("3. TCP throughput")
        text = wait_for(lambda: (lambda t: t if "RECEIVED-GUEST" in t else "")(console(conn, receiver["id"])),
                        args.seconds + 120, 0.5)
        received = int(re.search(r"RECEIVED-GUEST bytes=(\d+)", text).group(1))
        sent = re.search(r"SENT start=([\d.]+) end=([\d.]+)", wait_for(
            lambda: (lambda t: t if "SENT" in t else "")(console(conn, sender["id"])), 30, 0.5))
        seconds = float(sent.group(2)) - float(sent.group(1))
        report["guest_to_guest"] = {"bytes": received, "seconds": seconds, "mbit_s": received * 8 / seconds / 1e6}
        print(f"  guest to guest, same bridge: {received} bytes in {seconds:.2f} s = "
              f"{received * 8 / seconds / 1e6:.0f} Mbit/s")

        print("4. floating IP associate to first reply")
        fip = conn.network.create_ip(floating_network_id=public.id)
        dev = route_dev(fip.floating_ip_address)
        assert dev == bridge, f"{fip.floating_ip_address} routes via {dev}, not this cloud's {bridge}"
        report["fip"] = fip_rounds(conn, fip, receiver["port_id"], args.rounds)

        took = host_send(fip.floating_ip_address, 5002, args.seconds)
        text = wait_for(lambda: (lambda t: t if "RECEIVED-HOST" in t else "")(console(conn, receiver["id"])),
                        60, 0.5)
        received = int(re.search(r"RECEIVED-HOST bytes=(\d+)", text).group(1))
        report["host_to_guest"] = {"bytes": received, "seconds": took, "mbit_s": received * 8 / took / 1e6}
        print(f"  host to guest through the floating IP: {received} bytes in {took:.2f} s = "
              f"{received * 8 / took / 1e6:.0f} Mbit/s")
    finally:
        cloud.stop()
        for entry in filter(str.isdigit, os.listdir("/proc")):  # the guests of this data dir
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"qemu-system") and str(data).encode() in cmdline:
                os.kill(int(entry), 15)
        cleanup(data, prefix, bridge)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (f"network-guests-{stamp}.json", "network-guests-latest.json"):
        (RESULTS / name).write_text(json.dumps(report, indent=2))
    print(json.dumps({key: value for key, value in report.items()}, default=str)[:2000])


def cleanup(data: Path, prefix: str, bridge: str) -> None:
    """Remove what the stopped cloud left on the host: its network state through the driver
    (namespaces, dnsmasq, legs, taps, chains of ``prefix``) and the external bridge."""
    from overcast.network.drivers import make_driver

    sys.path.insert(0, str(ROOT))
    driver = make_driver("linux", state_dir=str(data / "network"), prefix=prefix, bridge_mappings=f"public:{bridge}")
    for router_id in driver.list_routers():
        driver.remove_router(router_id)
    for network_id in driver.list_dhcp():
        driver.remove_dhcp(network_id)
    for port_id in driver.list_ports():
        driver.unplug_port(port_id)
    driver.firewall.clear()
    subprocess.run(["ip", "link", "del", bridge], capture_output=True)


if __name__ == "__main__":
    main()
