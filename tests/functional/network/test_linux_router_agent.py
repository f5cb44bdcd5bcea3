"""Routers end to end on the `linux` network driver: `overcast up` with its network agent
plumbing this machine (root), driven by the openstack CLI. The router the API makes
becomes a ``qrouter-`` namespace with its legs, SNAT and floating IP NAT; disassociating
the floating IP and deleting the router take them away again.

The cloud has a random link prefix, mapped bridge and external CIDR (``10.251.<r>.0/24``,
unused by any host route), so it never meets another cloud on the machine; whatever it
leaves behind when a test fails (namespaces and the processes in them, its links) is
removed at the end.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest

from cloudproc import CloudProcess
from conftest import FAST_HASH, Cli, random_name
from contract.test_linux_network_driver import missing, namespaces
from contract.test_linux_routers import addresses, free_cidrs, nat_rules, sh
from overcast.network.drivers.linux.firewall import Firewall
from overcast.network.drivers.linux.host import Host

pytestmark = pytest.mark.skipif(bool(missing()), reason=missing() or "runs")


def wait_for(check, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.3)


def qg_addresses(router_id: str) -> set[str]:
    netns = f"qrouter-{router_id}"
    if netns not in namespaces():
        return set()
    links = json.loads(sh("ip", "-j", "link", "show", netns=netns))
    return {address for link in links if link["ifname"].startswith("qg-")
            for address in addresses(link["ifname"], netns)}


@pytest.fixture
def linux_cloud(tmp_path):
    tag = uuid.uuid4().hex[:6]
    external, internal = free_cidrs(2)
    bridge, prefix = f"brx{tag}", f"t{tag}"
    env = {**FAST_HASH, "OVERCAST_NETWORK_DRIVER": "linux", "OVERCAST_NETWORK_PUBLIC_CIDR": str(external),
           "OVERCAST_NETWORK_BRIDGE_MAPPINGS": f"public:{bridge}", "OVERCAST_NETWORK_LINUX_PREFIX": prefix}
    before = namespaces()
    proc = CloudProcess(tmp_path / "data", env=env).start(timeout=60)
    proc.external, proc.internal, proc.bridge, proc.made = external, internal, bridge, set()
    try:
        yield proc
    finally:
        proc.stop()
        left = {ns for ns in namespaces() - before if any(ns.endswith(ident) for ident in proc.made)}
        for netns in left:  # a failed test's: stop what runs in them (this cloud's), then remove them
            for pid in sh("ip", "netns", "pids", netns, check=False).split():
                subprocess.run(["kill", pid], check=False)
            sh("ip", "netns", "delete", netns, check=False)
        ours = [link["ifname"] for link in json.loads(sh("ip", "-j", "link", "show"))
                if link.get("ifalias", "").startswith(f"{prefix}:") and link["ifname"] != bridge]
        for name in ours:
            sh("ip", "link", "del", name, check=False)
        sh("ip", "link", "del", bridge, check=False)
        Firewall(Host(tmp_path / "data" / "network", prefix)).clear()  # the chains a running cloud keeps
        assert not left and not ours, f"left behind: {left} {ours}"
        assert not [line for line in sh("iptables-save").splitlines() if f"{prefix}-" in line], "chains left behind"


def test_a_router_and_its_floating_ip_on_this_host(linux_cloud):
    cloud, cli = linux_cloud, Cli(linux_cloud)
    public = cli.run("network", "show", "public")
    public_subnet = cli.run("subnet", "show", public["subnets"][0])
    net = cli.run("network", "create", random_name("net"))
    cloud.made.add(net["id"])
    subnet = cli.run("subnet", "create", "--subnet-range", str(cloud.internal), "--network", net["id"],
                     random_name("subnet"))
    router = cli.run("router", "create", random_name("router"))
    cloud.made.add(router["id"])
    cli.ok("router", "set", "--external-gateway", "public", router["id"])
    cli.ok("router", "add", "subnet", router["id"], subnet["id"])
    port = cli.run("port", "create", "--network", net["id"], random_name("vm"))
    fixed = port["fixed_ips"][0]["ip_address"]
    fip = cli.run("floating", "ip", "create", "--port", port["id"], "public")
    address = fip["floating_ip_address"]
    gateway_ip = cli.run("router", "show", router["id"])["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]

    netns = f"qrouter-{router['id']}"
    prefixlen = cloud.external.prefixlen
    wait_for(lambda: qg_addresses(router["id"]) == {f"{gateway_ip}/{prefixlen}", f"{address}/32"},
             "the gateway leg with its address and the floating IP")
    rules = nat_rules(netns)
    assert f"-A PREROUTING -d {address}/32 -j DNAT --to-destination {fixed}" in rules
    assert f"-s {cloud.internal} -o qg-" in rules and f"--to-source {gateway_ip}" in rules
    assert f"{public_subnet['gateway_ip']}/{prefixlen}" in addresses(cloud.bridge)  # the host's way in
    wait_for(lambda: cli.run("port", "show", port["id"])["status"] == "DOWN" and
             all(p["Status"] == "ACTIVE" for p in cli.run("port", "list", "--router", router["id"], "--long")),
             "the router's ports ACTIVE")

    refused = cli.raw("router", "delete", router["id"])
    assert refused.returncode != 0 and netns in namespaces()

    # a restarted cloud re-syncs the router it finds: what went missing while it was down comes back
    cloud.stop()
    qg = next(link["ifname"] for link in json.loads(sh("ip", "-j", "link", "show", netns=netns))
              if link["ifname"].startswith("qg-"))
    sh("ip", "addr", "del", f"{address}/32", "dev", qg, netns=netns)
    cloud.start(timeout=60)
    wait_for(lambda: qg_addresses(router["id"]) == {f"{gateway_ip}/{prefixlen}", f"{address}/32"},
             "the floating IP back after the restart")
    assert nat_rules(netns).count(f"-j DNAT --to-destination {fixed}") == 2  # PREROUTING and OUTPUT, once each

    cli.ok("floating", "ip", "unset", "--port", address)
    wait_for(lambda: qg_addresses(router["id"]) == {f"{gateway_ip}/{prefixlen}"}, "the floating IP gone")
    assert "DNAT" not in nat_rules(netns)
    cli.ok("floating", "ip", "delete", address)
    cli.ok("router", "remove", "subnet", router["id"], subnet["id"])
    cli.ok("router", "delete", router["id"])
    wait_for(lambda: netns not in namespaces(), "the router's namespace gone")
    cli.ok("port", "delete", port["id"])
    cli.ok("network", "delete", net["id"])
