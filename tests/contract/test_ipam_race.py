"""IPAM on every database backend: threads racing for addresses never get the same one,
racing for one specific address exactly one wins, and a small pool runs out cleanly."""

from __future__ import annotations

import ipaddress
import threading

import pytest
from sqlalchemy import select

from overcast.common.api.context import RequestContext
from overcast.common.config import Config
from overcast.common.db import Database
from overcast.common.db.migrate import upgrade
from overcast.common.errors import OvercastError
from overcast.network import errors
from overcast.network.models import Subnet
from overcast.network.service import NetworkService

CTX = RequestContext(user_id="u", project_id="p", roles=["member", "reader"])


@pytest.fixture
def network(database_url):
    db = Database(database_url)
    upgrade(db)
    service = NetworkService(Config(), db)
    net = service.networks.create(CTX, [{"name": "race", "project_id": "p"}])[0]
    yield service, net
    db.close()


def _subnet(service, net, cidr):
    return service.subnets.create(CTX, [{"network_id": net["id"], "ip_version": 4, "cidr": cidr,
                                         "project_id": "p"}])[0]


def _race(count: int, work):
    results, failures = [], []
    barrier = threading.Barrier(count)

    def run():
        barrier.wait()
        try:
            results.append(work())
        except OvercastError as error:
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures


def _port(service, net, **values):
    return service.ports.create(CTX, [{"network_id": net["id"], "security_groups": [], **values}])[0]


def test_racing_ports_get_distinct_addresses(network):
    service, net = network
    _subnet(service, net, "10.20.0.0/24")
    results, failures = _race(12, lambda: _port(service, net))
    assert not failures
    got = [port["fixed_ips"][0]["ip_address"] for port in results]
    assert len(got) == 12 and len(set(got)) == 12
    again = _port(service, net)["fixed_ips"][0]["ip_address"]  # the cursor moved on, nothing was lost
    assert again not in got
    assert service.ipam.cursors.flush()
    with service.db.session() as session:  # saved after the commit (in it on SQLite)
        cursor = session.scalar(select(Subnet.next_ip_key))
    assert cursor and int(cursor, 16) > int(ipaddress.ip_address(max(got, key=ipaddress.ip_address)))


def test_racing_for_one_address_has_one_winner(network):
    service, net = network
    _subnet(service, net, "10.21.0.0/24")
    results, failures = _race(8, lambda: _port(service, net, fixed_ips=[{"ip_address": "10.21.0.50"}]))
    assert len(results) == 1 and len(failures) == 7
    assert all(isinstance(error, errors.IpAddressAlreadyAllocated) for error in failures)


def test_racing_past_exhaustion_fails_cleanly(network):
    service, net = network
    _subnet(service, net, "10.22.0.0/29")  # 5 addresses after the gateway
    results, failures = _race(8, lambda: _port(service, net))
    assert len(results) == 5 and len(failures) == 3
    assert all(isinstance(error, errors.IpAddressGenerationFailure) for error in failures)
    got = {port["fixed_ips"][0]["ip_address"] for port in results}
    assert got == {f"10.22.0.{n}" for n in range(2, 7)}
