"""Scheduler claims on every database backend: concurrent claims never oversubscribe a
node, releases give back exactly once, and a resize claim moves to its instance."""

from __future__ import annotations

import threading
import uuid

import pytest

from overcast.common.db import Database
from overcast.common.db.migrate import upgrade
from overcast.compute.models import Allocation, ComputeNode
from overcast.compute.scheduler import RequestSpec, Scheduler


@pytest.fixture
def scheduler(database_url):
    db = Database(database_url)
    upgrade(db)
    with db.session() as session:
        node = ComputeNode(uuid=str(uuid.uuid4()), host="h1", hypervisor_hostname="h1", hypervisor_type="fake",
                           vcpus=4, memory_mb=4096, local_gb=100, cpu_allocation_ratio=1.0,
                           ram_allocation_ratio=1.0, disk_allocation_ratio=1.0, reserved_host_memory_mb=0)
        session.add(node)
    yield Scheduler(db), node.id
    db.close()


def _used(scheduler, node_id):
    with scheduler.db.session() as session:
        node = session.get(ComputeNode, node_id)
        return node.vcpus_used, node.memory_mb_used, node.local_gb_used


def test_concurrent_claims_never_oversubscribe(scheduler):
    sched, node_id = scheduler
    results = []
    barrier = threading.Barrier(12)

    def claim():
        barrier.wait()
        results.append(sched.claim(node_id, RequestSpec(str(uuid.uuid4()), 1, 512, 10)))

    threads = [threading.Thread(target=claim) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 4 and results.count(False) == 8
    assert _used(sched, node_id) == (4, 2048, 40)


def test_release_gives_back_once_even_when_racing(scheduler):
    sched, node_id = scheduler
    assert sched.claim(node_id, RequestSpec("vm-1", 2, 1024, 10))
    threads = [threading.Thread(target=sched.release, args=("vm-1",)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _used(sched, node_id) == (0, 0, 0)
    sched.release("vm-1")
    assert _used(sched, node_id) == (0, 0, 0)


def test_resize_claim_moves_to_the_instance(scheduler):
    sched, node_id = scheduler
    assert sched.claim(node_id, RequestSpec("vm-1", 1, 512, 10))
    assert sched.claim(node_id, RequestSpec("resize-vm-1", 2, 1024, 20))
    assert _used(sched, node_id) == (3, 1536, 30)
    sched.release("vm-1")  # confirm: the old flavor's claim goes, the new one is the instance's
    sched.move("resize-vm-1", "vm-1")
    with sched.db.session() as session:
        assert [(a.consumer, a.vcpus) for a in session.query(Allocation)] == [("vm-1", 2)]
    assert _used(sched, node_id) == (2, 1024, 20)
    assert not sched.claim(node_id, RequestSpec("vm-2", 3, 512, 10))
