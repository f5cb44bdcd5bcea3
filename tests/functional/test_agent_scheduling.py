"""DHCP and L3 agent scheduling with two full network agents: the controller's own and
`overcast agent network` of another host over RabbitMQ (fake drivers), driven by the
`openstack network agent ...` verbs: a network served by exactly one agent (one DHCP
port, on its host), routers spread by count, both moved with remove/add, and both
failed over when the other host's agent dies (L3 failover turned on; Neutron's default
is off)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from cloudproc import CloudProcess
from conftest import FAST_HASH, Cli, connect

pytestmark = [pytest.mark.rabbitmq]
OTHER = "node-s"




def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def stop_agent(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=15)


def start_full_network_agent(tmp_path, url: str) -> subprocess.Popen:
    log = open(tmp_path / f"network-agent-{OTHER}.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "overcast", "agent", "network", "--host", OTHER, "--driver", "fake",
                             "--bus-url", url], env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)


def test_networks_and_routers_are_scheduled_moved_and_failed_over(tmp_path, amqp_url):
    env = {**FAST_HASH, "OVERCAST_BUS_URL": amqp_url, "OVERCAST_COMPUTE_AGENT": "false",
           "OVERCAST_NETWORK_HOST": "ctl", "OVERCAST_NETWORK_AGENT_FAILOVER_SECONDS": "15",
           "OVERCAST_NETWORK_ALLOW_AUTOMATIC_L3AGENT_FAILOVER": "true"}
    cloud = CloudProcess(tmp_path / "data", env=env).start()
    other = start_full_network_agent(tmp_path, amqp_url)
    cli = Cli(cloud)
    try:
        admin = connect(cloud)

        def agents(kind: str) -> dict[str, str]:  # host -> id of the live agents of a kind
            return {a.host: a.id for a in admin.network.agents() if a.agent_type == kind and a.is_alive}

        wait_for(lambda: len(agents("DHCP agent")) == 2 and len(agents("L3 agent")) == 2, timeout=60,
                 what="both hosts' DHCP and L3 agents alive")
        dhcp, l3 = agents("DHCP agent"), agents("L3 agent")
        net = admin.network.create_network(name="sched-net")
        admin.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.79.0.0/24")

        def dhcp_hosts() -> list[str]:
            return [row["Host"] for row in cli.run("network", "agent", "list", "--network", net.id)]

        def served_from(host: str) -> bool:  # exactly one DHCP port, the host's, ACTIVE
            ports = list(admin.network.ports(network_id=net.id, device_owner="network:dhcp"))
            return len(ports) == 1 and ports[0].binding_host_id == host and ports[0].status == "ACTIVE"

        (holder,) = dhcp_hosts()
        wait_for(lambda: served_from(holder), timeout=30, what=f"the DHCP port of {holder}")
        routers = [admin.network.create_router(name=f"sched-r{n}") for n in range(2)]

        def l3_host(router) -> list[str]:
            return [row["Host"] for row in cli.run("network", "agent", "list", "--router", router.id)]

        assert sorted(h for r in routers for h in l3_host(r)) == ["ctl", OTHER]  # the fewest routers first
        on_ctl = next(r for r in routers if l3_host(r) == ["ctl"])
        running = cli.run("network", "agent", "show", l3[OTHER])["configuration"]["routers"]
        assert running == 1

        # move the network to the other host, and (if that was the controller) back to node-s
        for target in [h for h in (("ctl", OTHER) if holder == OTHER else (OTHER,))]:
            source = dhcp_hosts()[0]
            cli.ok("network", "agent", "remove", "network", "--dhcp", dhcp[source], net.id)
            assert dhcp_hosts() == []
            cli.ok("network", "agent", "add", "network", "--dhcp", dhcp[target], net.id)
            assert dhcp_hosts() == [target]
            wait_for(lambda: served_from(target), timeout=30, what=f"the network served from {target} only")
        # the CLI does not check the answer of this POST (openstacksdk's add_router_to_agent): ask the API
        refused = admin.network.post(f"/agents/{l3[OTHER]}/l3-routers", json={"router_id": on_ctl.id},
                                     raise_exc=False)
        assert refused.status_code == 409 and refused.json()["NeutronError"]["type"] == "RouterHostedByL3Agent"
        assert l3_host(on_ctl) == ["ctl"]
        cli.ok("network", "agent", "remove", "router", "--l3", l3["ctl"], on_ctl.id)
        cli.ok("network", "agent", "add", "router", "--l3", l3[OTHER], on_ctl.id)
        assert [l3_host(r) for r in routers] == [[OTHER], [OTHER]]

        # node-s dies: after agent_failover_seconds its network and routers come to ctl
        assert stop_agent(other) == 0
        wait_for(lambda: dhcp_hosts() == ["ctl"] and served_from("ctl"), timeout=60,
                 what="the network failed over to ctl")
        wait_for(lambda: all(l3_host(r) == ["ctl"] for r in routers), timeout=30, what="the routers failed over")
        for router in routers:
            admin.network.delete_router(router)
        admin.network.delete_network(net)
    finally:
        if other.poll() is None:
            stop_agent(other)
        assert cloud.stop() == 0
