"""Real guests behind two routers on the linux network driver, driven by the `openstack`
CLI: a floating IP's port forwarding reaches guest A's HTTP port from the host only while
the forwarding exists and A's group allows it; a floating IP moved from A (behind one
router) to B (behind the other) is announced by gratuitous ARP, so the host's neighbour
entry follows the new router's gateway MAC with nothing flushed, and the host reaches B.

The test guest answers HTTP on TCP 80 with its instance id. What the test made is deleted
through the CLI even when it fails, so the cloud's fixture finds nothing left. Every address the test sends
to is checked with `ip route get` to be on the bridge this cloud made.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from conftest import Cli, random_name
import testguest
from functional.network.test_linux_guests import (addresses, console, net_cloud, reaches, route_dev,  # noqa: F401
                                                  wait_until)

pytestmark = pytest.mark.qemu


def neighbour_mac(address: str, device: str) -> str:
    shown = subprocess.run(["ip", "-j", "neigh", "show", "to", address, "dev", device], capture_output=True,
                           text=True, check=True)
    found = json.loads(shown.stdout or "[]")
    return found[0].get("lladdr", "") if found else ""


def answers(address: str, port: int, timeout: float = 1.0) -> str:
    """The body of the guest's HTTP answer ("" for none)."""
    reply = reaches(address, port, timeout=timeout) or ""
    return reply.split("\r\n\r\n", 1)[-1].strip()


def test_port_forwarding_and_a_floating_ip_moved_between_routers(net_cloud):
    cli, made = Cli(net_cloud), {"fips": []}
    try:
        journey(cli, net_cloud, made)
    finally:
        delete_all(cli, made)


def delete_all(cli: Cli, made: dict) -> None:
    """Delete what the test made (what is already gone is skipped), then check it went."""
    for name in ("a", "b"):
        cli.raw("server", "delete", "--wait", name)
    for fip_id in made["fips"]:
        cli.raw("floating ip", "delete", fip_id)
    for name in ("a", "b"):
        if name in made:
            router = made[name]["router"]["id"]
            cli.raw("router", "remove", "subnet", router, f"sub{name}")
            cli.raw("router", "delete", router)
            cli.raw("network", "delete", made[name]["net"]["id"])
    if "web" in made:
        cli.raw("security group", "delete", made["web"]["id"])
    assert [name for name in ("a", "b") if cli.raw("server", "show", name).returncode == 0] == []
    assert [made[name]["net"]["id"] for name in ("a", "b") if name in made
            and cli.raw("network", "show", made[name]["net"]["id"]).returncode == 0] == []


def journey(cli: Cli, net_cloud, made: dict) -> None:
    bridge = net_cloud.bridge
    image = cli.run("image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file",
                    str(net_cloud.guest / "disk.qcow2"), random_name("guest"))
    flavor = cli.run("flavor", "create", "--ram", "128", "--disk", "1", "--vcpus", "1", random_name("q"))
    web = made["web"] = cli.run("security group", "create", random_name("web"))
    for name, cidr in (("a", "10.9.5.0/24"), ("b", "10.9.4.0/24")):
        net = cli.run("network", "create", random_name(f"net{name}"))
        cli.run("subnet", "create", "--network", net["id"], "--subnet-range", cidr, f"sub{name}")
        router = cli.run("router", "create", random_name(f"r{name}"))
        cli.ok("router", "set", "--external-gateway", "public", router["id"])
        cli.ok("router", "add", "subnet", router["id"], f"sub{name}")
        made[name] = {"net": net, "router": router}
    gateway = f"10.252.{net_cloud.third}.1"
    wait_until(lambda: gateway in addresses(bridge), 10)
    for name in ("a", "b"):
        cli.run("server", "create", "--flavor", flavor["id"], "--image", image["id"], "--security-group", web["id"],
                "--nic", f"net-id={made[name]['net']['id']}", "--wait", name)
        made[name]["id"] = cli.run("server", "show", name)["id"]
        port = cli.run("port", "list", "--server", name)[0]
        made[name]["port"], made[name]["ip"] = port["ID"], port["Fixed IP Addresses"][0]["ip_address"]
    for name in ("a", "b"):  # the guest's HTTP answer: its EC2-style instance id from the metadata service
        text = testguest.wait_for(lambda: console(cli, name), "OVERCAST-READY", timeout=180)
        made[name]["iid"] = re.search(r"OVERCAST-METADATA instance-id=(\S+)", text).group(1)

    # a port forwarding: fip:8080 -> A:80, only while it exists and A's group allows it
    fip = cli.run("floating ip", "create", "public")
    made["fips"].append(fip["id"])
    address = fip["floating_ip_address"]
    assert route_dev(address) == bridge
    forwarding = cli.run("floating ip", "port forwarding", "create", "--internal-ip-address", made["a"]["ip"],
                         "--port", made["a"]["port"], "--internal-protocol-port", "80",
                         "--external-protocol-port", "8080", "--protocol", "tcp", fip["id"])
    wait_until(lambda: address in subprocess.run(["ip", "netns", "exec", f"qrouter-{made['a']['router']['id']}",
                                                  "ip", "-4", "addr"], capture_output=True, text=True).stdout, 10)
    assert answers(address, 8080) == ""  # the group has no rule for TCP 80 yet
    rule = cli.run("security group", "rule", "create", "--protocol", "tcp", "--dst-port", "80", web["id"])
    wait_until(lambda: answers(address, 8080) == made["a"]["iid"], 5)
    assert answers(address, 80, timeout=0.5) == ""  # only the forwarded port
    cli.ok("floating ip", "port forwarding", "delete", fip["id"], forwarding["id"])
    wait_until(lambda: answers(address, 8080, timeout=0.5) == "", 5)
    cli.ok("floating ip", "delete", fip["id"])

    # a floating IP on A (router a), then moved to B (router b): announced, the host follows
    fip = cli.run("floating ip", "create", "public")
    made["fips"].append(fip["id"])
    address = fip["floating_ip_address"]
    assert route_dev(address) == bridge
    macs = {name: cli.run("port", "list", "--device-owner", "network:router_gateway", "--device-id",
                          made[name]["router"]["id"])[0]["MAC Address"] for name in ("a", "b")}
    cli.ok("server", "add", "floating", "ip", "a", address)
    wait_until(lambda: answers(address, 80) == made["a"]["iid"], 10)
    assert neighbour_mac(address, bridge) == macs["a"]
    cli.ok("server", "remove", "floating", "ip", "a", address)
    cli.ok("server", "add", "floating", "ip", "b", address)
    wait_until(lambda: neighbour_mac(address, bridge) == macs["b"], 5)  # nothing flushed it: the router announced
    wait_until(lambda: answers(address, 80) == made["b"]["iid"], 10)
