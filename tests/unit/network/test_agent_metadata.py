"""The network agent serves metadata exactly where it serves a network's DHCP (the proxy
lives in the DHCP namespace). Uses the agent tests' in-memory source."""

from __future__ import annotations

import asyncio

from overcast.network.agent import NetworkAgent
from overcast.network.drivers.fake import FakeNetworkDriver
from tests.unit.network.test_agent import HOST, Source, fixed


def test_metadata_follows_dhcp_hosting():
    source, driver = Source(), FakeNetworkDriver()
    agent = NetworkAgent(None, driver, HOST, source, metadata_upstream="http://127.0.0.1:8600/metadata")
    net, sub = source.network()
    source.add_port(network_id=net["id"], device_owner="network:dhcp", fixed_ips=fixed(sub, "10.0.0.2"),
                    device_id=f"dhcp-{HOST}-{net['id']}")
    asyncio.run(agent.resync())
    assert driver.list_metadata() == [net["id"]] and driver.metadata[net["id"]] == "http://127.0.0.1:8600/metadata"
    source.not_served.add(net["id"])  # an admin moved the network's DHCP to another agent
    asyncio.run(agent.on_network_update({"network_id": net["id"]}))
    assert driver.list_dhcp() == [] and driver.list_metadata() == []
    source.not_served.clear()
    asyncio.run(agent.on_network_update({"network_id": net["id"]}))
    assert driver.list_dhcp() == [net["id"]] and driver.list_metadata() == [net["id"]]


def test_make_agent_points_the_proxies_at_the_metadata_prefix(tmp_path):
    from overcast.common.config import Config
    from overcast.network.agent import make_agent

    config = Config()
    config.server.data_dir = str(tmp_path)
    agent = make_agent(config, None, None)
    assert agent.metadata_upstream == config.public_url + "/metadata"


def test_metadata_secret_is_made_once_and_shared(tmp_path):
    import os
    from concurrent.futures import ThreadPoolExecutor

    from overcast.common.config import Config
    from overcast.network.agent import metadata_secret

    config = Config()
    config.server.data_dir = str(tmp_path)
    with ThreadPoolExecutor(8) as pool:
        made = set(pool.map(lambda _: metadata_secret(config), range(32)))
    assert len(made) == 1 and len(made.pop()) == 64
    path = tmp_path / "network" / "metadata_secret"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path / "network") == ["metadata_secret"]  # no drafts left
    config.network.metadata_secret = "configured"
    assert metadata_secret(config) == "configured"
