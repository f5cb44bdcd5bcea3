"""Hosts: service state from heartbeats, updates, deletes, node views, statistics, zones."""

from __future__ import annotations

import datetime
import uuid

import pytest

from overcast.common import heartbeats
from overcast.common.config import Config
from overcast.common.db import utcnow
from overcast.compute import errors
from overcast.compute.models import AggregateHost, ComputeNode, ComputeServiceRow, Instance
from overcast.compute.service.aggregates import Aggregates
from overcast.compute.service.hosts import Hosts


@pytest.fixture
def hosts(db):
    config = Config()
    config.compute.host = "local"
    return Hosts(db, config)


def add_host(db, host: str, beat: bool = True, zone: str = "nova") -> None:
    with db.session() as session:
        session.add(ComputeServiceRow(uuid=str(uuid.uuid4()), host=host, binary="nova-compute", topic="compute",
                                      zone=zone))
        session.add(ComputeNode(uuid=str(uuid.uuid4()), host=host, hypervisor_hostname=f"{host}.example",
                                hypervisor_type="fake", vcpus=8, memory_mb=4096, local_gb=100, vcpus_used=2,
                                memory_mb_used=1024, local_gb_used=10, reserved_host_memory_mb=512))
    if beat:
        heartbeats.record(db, "nova-compute", host, "compute")


def add_instance(db, host: str, task: str | None = None) -> str:
    ident = str(uuid.uuid4())
    with db.session() as session:
        session.add(Instance(uuid=ident, project_id="p", user_id="u", display_name=f"vm-{ident[:4]}", flavor_id="1",
                             flavor={}, vcpus=1, memory_mb=64, root_gb=1, host=host, node=host, task_state=task))
    return ident


def test_service_state_comes_from_heartbeats_and_forced_down(db, hosts):
    add_host(db, "h1")
    add_host(db, "h2", beat=False)
    with db.session() as session:
        session.add(ComputeServiceRow(uuid=str(uuid.uuid4()), host="h1", binary="nova-scheduler", zone="internal"))
    states = {(s.row.host, s.row.binary): s for s in hosts.list_services()}
    assert states["h1", "nova-compute"].up and not states["h2", "nova-compute"].up
    assert states["h2", "nova-compute"].updated_at is None
    assert states["h1", "nova-scheduler"].zone == "internal"
    hosts.set_service("h1", "nova-compute", forced_down=True)
    assert not hosts.list_services(host="h1", binary="nova-compute")[0].up


def test_old_heartbeat_is_down(db, hosts):
    add_host(db, "h1")
    with db.session() as session:
        session.get(heartbeats.ServiceRecord, ("nova-compute", "h1")).last_seen = utcnow() - datetime.timedelta(
            seconds=heartbeats.DOWN_AFTER + 1)
    assert not hosts.list_services()[0].up


def test_update_service_checks_like_nova(db, hosts):
    add_host(db, "h1")
    service = hosts.list_services()[0].row
    with pytest.raises(errors.ServiceNotFound):
        hosts.update_service(str(uuid.uuid4()), status="disabled")
    with pytest.raises(errors.ComputeInvalid, match="No updates were requested"):
        hosts.update_service(service.uuid, disabled_reason="why")
    with pytest.raises(errors.ComputeInvalid, match="'enabled' is invalid"):
        hosts.update_service(service.uuid, status="enabled", disabled_reason="why")
    state = hosts.update_service(service.uuid, status="disabled", disabled_reason="maintenance")
    assert state.row.disabled and state.row.disabled_reason == "maintenance"
    state = hosts.update_service(service.uuid, status="enabled")
    assert not state.row.disabled and state.row.disabled_reason is None
    with pytest.raises(errors.HostBinaryNotFound):
        hosts.set_service("nowhere", "nova-compute", disabled=True)
    with pytest.raises(errors.ComputeInvalid, match="nova-scheduler service is not supported"):
        hosts.set_service("h1", "nova-scheduler", disabled=True)


def test_delete_compute_service_takes_node_and_memberships(db, hosts):
    add_host(db, "h1")
    aggregates = Aggregates(db)
    agg = aggregates.create("rack", "az1")
    aggregates.add_host(agg.id, "h1")
    server = add_instance(db, "h1")
    service = hosts.list_services()[0].row
    with pytest.raises(errors.ComputeConflict):
        hosts.delete_service(service.uuid, by_uuid=True)
    with db.session() as session:
        session.get(Instance, server).deleted = True
    hosts.delete_service(str(service.id), by_uuid=False)
    assert hosts.list_services() == [] and hosts.list_nodes() == []
    with db.session() as session:
        assert session.query(AggregateHost).count() == 0
    with pytest.raises(errors.ServiceNotFound, match="not found"):
        hosts.delete_service(service.uuid, by_uuid=True)


def test_nodes_usage_servers_pattern_marker(db, hosts):
    add_host(db, "local")
    add_host(db, "other")
    add_instance(db, "local")
    add_instance(db, "local", task="rebooting")
    first, second = hosts.list_nodes(detail=True)
    assert first.instances == 2 and first.workload == 1 and second.instances == 0
    assert first.usage["memory_mb_used"] == 1536 and first.usage["free_ram_mb"] == 2560
    assert first.uptime and " up " in first.uptime and second.uptime is None
    assert [s.node.host for s in hosts.list_nodes(pattern="oth")] == ["other"]
    with pytest.raises(errors.NotFound):
        hosts.list_nodes(pattern="nomatch")
    assert [s.node.host for s in hosts.list_nodes(marker=first.node.uuid, by_uuid=True)] == ["other"]
    assert [s.node.host for s in hosts.list_nodes(limit=1)] == ["local"]
    with pytest.raises(errors.ComputeInvalid, match="marker"):
        hosts.list_nodes(marker="999")
    shown = hosts.get_node(first.node.uuid, by_uuid=True, with_servers=True)
    assert len(shown.servers) == 2
    with pytest.raises(errors.HypervisorNotFound):
        hosts.get_node("12345", by_uuid=False)


def test_statistics_skip_disabled_services(db, hosts):
    add_host(db, "h1")
    add_host(db, "h2")
    hosts.set_service("h2", "nova-compute", disabled=True)
    stats = hosts.statistics()
    assert stats["count"] == 1 and stats["vcpus"] == 8 and stats["memory_mb_used"] == 1536


def test_zones_available_and_not(db, hosts):
    add_host(db, "h1", zone="az1")
    add_host(db, "h2", zone="az2")
    hosts.set_service("h2", "nova-compute", disabled=True)
    available, unavailable, services = hosts.availability_zones()
    assert available == ["az1"] and unavailable == ["az2"] and len(services) == 2


def test_ids_no_database_holds_are_not_found(hosts):
    big = str(10 ** 20)
    with pytest.raises(errors.HypervisorNotFound):
        hosts.get_node(big, by_uuid=False)
    with pytest.raises(errors.ServiceNotFound):
        hosts.delete_service(big, by_uuid=False)
    with pytest.raises(errors.ComputeInvalid, match="marker"):
        hosts.list_nodes(marker=big)
