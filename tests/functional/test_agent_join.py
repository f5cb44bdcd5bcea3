"""`overcast agent compute` on "other hosts": two agent processes join a controller over
RabbitMQ (a private vhost per test), take the servers the scheduler places on them, and
reconcile after a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from cloudproc import CloudProcess
from overcast.common.bus import Bus, make_transport
from conftest import FAST_HASH, connect

pytestmark = [pytest.mark.rabbitmq]




def start_agent(tmp_path, amqp_url: str, host: str) -> subprocess.Popen:
    log = open(tmp_path / f"agent-{host}.log", "ab")
    env = {**os.environ, "OVERCAST_COMPUTE_DRIVER": "fake", "OVERCAST_NETWORK_DRIVER": "fake",
           "OVERCAST_COMPUTE_FAKE_VCPUS": "4", "OVERCAST_COMPUTE_FAKE_MEMORY_MB": "4096"}
    return subprocess.Popen([sys.executable, "-m", "overcast", "agent", "compute", "--host", host,
                             "--bus-url", amqp_url], env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_agent(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=15)


def wait_for(check, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def resources(cloud, conn) -> dict[str, dict]:
    """Hypervisors with their resource fields (2.88 dropped them, so ask for 2.1)."""
    answer = httpx.get(f"{cloud.url}/compute/v2.1/os-hypervisors/detail",
                       headers={"X-Auth-Token": conn.auth_token, "OpenStack-API-Version": "compute 2.1"})
    return {h["hypervisor_hostname"]: h for h in answer.json()["hypervisors"]}


def test_agents_join_take_servers_and_reconcile(tmp_path, amqp_url):
    env = {**FAST_HASH, "OVERCAST_BUS_URL": amqp_url, "OVERCAST_COMPUTE_AGENT": "false"}
    cloud = CloudProcess(tmp_path / "data", env=env).start()
    agents = {host: start_agent(tmp_path, amqp_url, host) for host in ("node-a", "node-b")}
    try:
        admin = connect(cloud)
        computes = lambda: [s for s in admin.compute.services() if s.binary == "nova-compute"]  # noqa: E731
        wait_for(lambda: len(computes()) == 2 and all(s.state == "up" for s in computes()), what="two agents up")
        assert {s.host for s in computes()} == {"node-a", "node-b"}
        hypervisors = resources(cloud, admin)
        assert set(hypervisors) == {"node-a", "node-b"} and hypervisors["node-a"]["vcpus"] == 4
        image = admin.image.create_image(name="tiny", data=b"\0" * 1024, disk_format="raw",
                                         container_format="bare", visibility="public")
        servers = [admin.compute.create_server(name=f"spread-{i}", image_id=image.id, flavor_id="42")
                   for i in range(2)]
        servers = [admin.compute.wait_for_server(s, interval=0.1, wait=30) for s in servers]
        # spread by free RAM: one on each host
        assert sorted(s.compute_host for s in servers) == ["node-a", "node-b"]
        on_a = next(s for s in servers if s.compute_host == "node-a")
        assert admin.compute.get_server_console_output(on_a)["output"]
        # node-a restarts: its fake guests are gone, so its server is reconciled to SHUTOFF
        assert stop_agent(agents["node-a"]) == 0
        agents["node-a"] = start_agent(tmp_path, amqp_url, "node-a")
        wait_for(lambda: admin.compute.get_server(on_a.id).status == "SHUTOFF", what="reconciled server")
        admin.compute.start_server(on_a)
        admin.compute.wait_for_server(on_a, interval=0.1, wait=30)
        for server in servers:
            admin.compute.delete_server(server)
        wait_for(lambda: not list(admin.compute.servers(name="^spread-")), what="servers deleted")
        used = {name: h["vcpus_used"] for name, h in resources(cloud, admin).items()}
        assert used == {"node-a": 0, "node-b": 0}
        admin.image.delete_image(image)
    finally:
        for proc in agents.values():
            if proc.poll() is None:
                stop_agent(proc)
        assert cloud.stop() == 0


def test_servers_move_between_agents_over_rabbitmq(tmp_path, amqp_url):
    """Cold and live migration between two `overcast agent compute` processes: the source
    agent calls the destination agent over the broker."""
    env = {**FAST_HASH, "OVERCAST_BUS_URL": amqp_url, "OVERCAST_COMPUTE_AGENT": "false"}
    cloud = CloudProcess(tmp_path / "data", env=env).start()
    agents = {host: start_agent(tmp_path, amqp_url, host) for host in ("node-a", "node-b")}
    try:
        admin = connect(cloud)
        computes = lambda: [s for s in admin.compute.services() if s.binary == "nova-compute"]  # noqa: E731
        wait_for(lambda: len(computes()) == 2 and all(s.state == "up" for s in computes()), what="two agents up")
        image = admin.image.create_image(name="tiny", data=b"\0" * 1024, disk_format="raw",
                                         container_format="bare", visibility="public")
        server = admin.compute.wait_for_server(admin.compute.create_server(name="mover", image_id=image.id,
                                                                           flavor_id="42"), interval=0.1, wait=30)
        first = server.compute_host
        other = {"node-a": "node-b", "node-b": "node-a"}[first]
        admin.compute.live_migrate_server(server, host=other, block_migration="auto")
        wait_for(lambda: admin.compute.get_server(server.id).compute_host == other, what="the live migration")
        assert admin.compute.wait_for_server(server, interval=0.1, wait=30).status == "ACTIVE"
        admin.compute.migrate_server(server)
        server = admin.compute.wait_for_server(server, status="VERIFY_RESIZE", interval=0.1, wait=30)
        assert server.compute_host == first
        admin.compute.confirm_server_resize(server)
        server = admin.compute.wait_for_server(server, interval=0.1, wait=30)
        used = {name: h["vcpus_used"] for name, h in resources(cloud, admin).items()}
        assert server.compute_host == first and used == {first: 1, other: 0}
        admin.compute.delete_server(server)
        admin.compute.wait_for_delete(server, interval=0.1, wait=30)
        admin.image.delete_image(image)
    finally:
        for proc in agents.values():
            if proc.poll() is None:
                stop_agent(proc)
        assert cloud.stop() == 0


def test_agent_refuses_the_memory_bus():
    result = subprocess.run([sys.executable, "-m", "overcast", "agent", "compute", "--host", "x"],
                            capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if not k.startswith("OVERCAST_")})
    assert result.returncode == 2 and "amqp" in result.stderr


def test_agent_heartbeats_reach_the_controller(tmp_path, amqp_url):
    env = {**FAST_HASH, "OVERCAST_BUS_URL": amqp_url, "OVERCAST_COMPUTE_AGENT": "false"}
    cloud = CloudProcess(tmp_path / "data", env=env).start()
    agent = start_agent(tmp_path, amqp_url, "node-c")
    try:
        token = connect(cloud).auth_token
        url = f"{cloud.url}/compute/v2.1/os-services?binary=nova-compute"

        def listed():
            services = httpx.get(url, headers={"X-Auth-Token": token}).json()["services"]
            return services and services[0]["state"] == "up" and services[0]["host"] == "node-c"

        wait_for(listed, what="node-c up in os-services")
    finally:
        stop_agent(agent)
        assert cloud.stop() == 0


def test_server_changes_are_notified_on_the_bus(tmp_path, amqp_url):
    seen: list[str] = []

    async def listen(stop: asyncio.Event):
        bus = Bus(make_transport(amqp_url), host="listener")
        await bus.start()

        async def on_note(envelope):
            seen.append(envelope["event_type"])

        await bus.subscribe_notifications(on_note)
        ready.set()
        await stop.wait()
        await bus.stop()

    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop_event = asyncio.Event()
    thread = threading.Thread(target=lambda: loop.run_until_complete(listen(stop_event)), daemon=True)
    thread.start()
    assert ready.wait(20)
    cloud = CloudProcess(tmp_path / "data", env={**FAST_HASH, "OVERCAST_BUS_URL": amqp_url}).start()
    try:
        admin = connect(cloud)
        image = admin.image.create_image(name="tiny", data=b"\0" * 1024, disk_format="raw",
                                         container_format="bare", visibility="public")
        server = admin.compute.create_server(name="noted", image_id=image.id, flavor_id="42")
        admin.compute.wait_for_server(server, interval=0.1, wait=30)
        admin.compute.stop_server(server)
        admin.compute.wait_for_server(server, status="SHUTOFF", interval=0.1, wait=30)
        admin.compute.delete_server(server)
        wait_for(lambda: "compute.instance.delete.end" in seen, what="the delete notification")
        for event in ("compute.instance.create.start", "compute.instance.create.end", "compute.instance.update",
                      "compute.instance.power_off.end"):
            assert event in seen
        admin.image.delete_image(image)
    finally:
        loop.call_soon_threadsafe(stop_event.set)
        thread.join(10)
        assert cloud.stop() == 0


def start_network_agent(tmp_path, amqp_url: str, host: str) -> subprocess.Popen:
    log = open(tmp_path / f"network-agent-{host}.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "overcast", "agent", "network", "--host", host, "--driver", "fake",
                             "--bus-url", amqp_url], env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)


def test_a_network_agent_on_another_host_serves_dhcp_and_plugs_its_servers_ports(tmp_path, amqp_url):
    env = {**FAST_HASH, "OVERCAST_BUS_URL": amqp_url, "OVERCAST_COMPUTE_AGENT": "false",
           "OVERCAST_NETWORK_AGENT": "false"}
    cloud = CloudProcess(tmp_path / "data", env=env).start()
    agents = [start_network_agent(tmp_path, amqp_url, "node-n"), start_agent(tmp_path, amqp_url, "node-n")]
    try:
        admin = connect(cloud)
        alive = lambda: sorted(a.binary for a in admin.network.agents(host="node-n") if a.is_alive)  # noqa: E731
        wait_for(lambda: len(alive()) == 4, timeout=60, what="the four network agents of node-n alive")
        wait_for(lambda: "node-n" in resources(cloud, admin), timeout=60, what="node-n's hypervisor")  # schedulable
        net = admin.network.create_network(name="split-net")
        admin.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.77.0.0/24")

        def dhcp_port():  # made by the agent through the controller, bound to its host, ACTIVE once served
            ports = list(admin.network.ports(network_id=net.id, device_owner="network:dhcp"))
            return ports and ports[0].binding_host_id == "node-n" and ports[0].status == "ACTIVE"

        wait_for(dhcp_port, timeout=60, what="node-n's DHCP port")
        image = admin.image.create_image(name="tiny", data=b"\0" * 1024, disk_format="raw",
                                         container_format="bare", visibility="public")
        server = admin.compute.create_server(name="split-vm", image_id=image.id, flavor_id="42",
                                             networks=[{"uuid": net.id}])
        server = admin.compute.wait_for_server(server, interval=0.1, wait=60)
        (port,) = admin.network.ports(device_id=server.id)
        assert port.binding_host_id == "node-n" and port.status == "ACTIVE"  # plugged by node-n's network agent
        admin.compute.delete_server(server)
        wait_for(lambda: not list(admin.network.ports(device_id=server.id)), timeout=60, what="the server's port freed")
        admin.network.delete_network(net)
        admin.image.delete_image(image)
    finally:
        for proc in agents:
            if proc.poll() is None:
                stop_agent(proc)
        assert cloud.stop() == 0


def start_volume_agent(tmp_path, amqp_url: str, host: str) -> subprocess.Popen:
    log = open(tmp_path / f"volume-agent-{host}.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "overcast", "agent", "volume", "--host", host, "--driver", "file",
                             "--data-dir", str(tmp_path / host), "--bus-url", amqp_url], env=dict(os.environ),
                            stdout=log, stderr=subprocess.STDOUT)


def test_a_volume_agent_on_another_host_keeps_the_volumes(tmp_path, amqp_url):
    """`overcast agent volume`: the only cinder-volume of the cloud, on "another host" with
    its own data directory; images reach it through the controller over the bus."""
    env = {**FAST_HASH, "OVERCAST_BUS_URL": amqp_url, "OVERCAST_VOLUME_AGENT": "false"}
    cloud = CloudProcess(tmp_path / "data", env=env).start()
    agent = start_volume_agent(tmp_path, amqp_url, "node-v")
    files = lambda: {p.name for p in (tmp_path / "node-v" / "volumes").glob("*-*")}  # noqa: E731
    try:
        admin = connect(cloud)
        volumes = lambda: [s for s in admin.block_storage.services() if s.binary == "cinder-volume"]  # noqa: E731
        wait_for(lambda: [s.host for s in volumes() if s.state == "up"] == ["node-v@file"], timeout=30,
                 what="node-v's cinder-volume up")
        volume = admin.block_storage.create_volume(size=1, name="remote")
        volume = admin.block_storage.wait_for_status(volume, "available", interval=0.1, wait=30)
        assert volume.host == "node-v@file#file" and f"volume-{volume.id}.qcow2" in files()
        assert not (tmp_path / "data" / "volumes").exists() or not any((tmp_path / "data" / "volumes").iterdir())
        snapshot = admin.block_storage.create_snapshot(volume_id=volume.id, name="remote-snap")
        snapshot = admin.block_storage.wait_for_status(snapshot, "available", interval=0.1, wait=30)
        assert f"snapshot-{snapshot.id}.qcow2" in files()
        image = admin.image.create_image(name="tiny", data=b"overcast" + b"\0" * (1 << 20), disk_format="raw",
                                         container_format="bare", visibility="public")
        from_image = admin.block_storage.create_volume(size=1, name="from-image", image_id=image.id)
        from_image = admin.block_storage.wait_for_status(from_image, "available", interval=0.1, wait=60)
        assert from_image.is_bootable and f"volume-{from_image.id}.qcow2" in files()
        # the agent restarts: its volumes are still there and served
        assert stop_agent(agent) == 0
        agent = start_volume_agent(tmp_path, amqp_url, "node-v")
        wait_for(lambda: [s.state for s in volumes()] == ["up"], timeout=30, what="node-v back")
        admin.block_storage.delete_snapshot(snapshot)
        admin.block_storage.wait_for_delete(snapshot, interval=0.1, wait=30)
        for made in (volume, from_image):
            admin.block_storage.delete_volume(made)
            admin.block_storage.wait_for_delete(made, interval=0.1, wait=30)
        assert files() == set()
        admin.image.delete_image(image)
    finally:
        if agent.poll() is None:
            stop_agent(agent)
        assert cloud.stop() == 0
