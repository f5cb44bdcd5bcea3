"""One behaviour suite for every Transport, and for the Bus running on it.

Every test runs on the memory transport and on AMQP. The AMQP cases carry the
``rabbitmq`` marker; they are skipped when the broker (``$OVERCAST_TEST_AMQP_URL``,
default guest@127.0.0.1:5672) is unreachable, and fail instead when ``$CI`` is set.
Names are random per test and deleted afterwards.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from overcast.common.bus import Bus, BusTimeout, RemoteError, TransportError, make_transport
from overcast.common.bus.bus import fanout_exchange

AMQP_URL = os.environ.get("OVERCAST_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
ENVELOPE_KEYS = {"event_type", "payload", "publisher_id", "priority", "message_id", "timestamp"}


def broker_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 5672), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(params=["memory", pytest.param("amqp", marks=pytest.mark.rabbitmq)])
def url(request) -> str:
    if request.param == "memory":
        return f"memory://contract-{uuid.uuid4().hex[:8]}"
    if not broker_reachable(AMQP_URL):
        reason = f"RabbitMQ is not reachable at {urlsplit(AMQP_URL).netloc.split('@')[-1]}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return AMQP_URL


class Broker:
    """Makes transports, buses and random names; cleans all of them up."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.names: list[str] = []
        self.transports = []
        self.buses: list[Bus] = []

    def name(self, prefix: str = "test") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.names.append(name)
        return name

    async def transport(self):
        transport = make_transport(self.url)
        await transport.connect()
        self.transports.append(transport)
        return transport

    async def bus(self, host: str = "node", notifications: str | None = None) -> Bus:
        bus = Bus(make_transport(self.url), host, stop_timeout=0.5,
                  notifications_topic=notifications or self.name("notifications"))
        await bus.start()
        self.buses.append(bus)
        return bus

    async def cleanup(self) -> None:
        for bus in self.buses:
            await bus.stop()
        for transport in self.transports:
            await transport.close(timeout=0.5)  # drops their exclusive queues
        janitor = make_transport(self.url)
        await janitor.connect()
        for name in self.names:
            await janitor.delete_queue(name)
            await janitor.delete_exchange(name)
            await janitor.delete_exchange(fanout_exchange(name))
        await janitor.close()


@pytest_asyncio.fixture
async def broker(url):
    broker = Broker(url)
    yield broker
    await broker.cleanup()


async def eventually(predicate, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def collector():
    received: list = []

    async def collect(item) -> None:
        received.append(item)

    return received, collect


# -- transport primitives ------------------------------------------------------


@pytest.mark.asyncio
async def test_put_then_consume_delivers_the_body(broker):
    transport, queue = await broker.transport(), broker.name()
    await transport.declare_queue(queue)
    await transport.put(queue, b'{"n": 1}')
    received, collect = collector()
    await transport.consume(queue, collect)
    await eventually(lambda: received == [b'{"n": 1}'])


@pytest.mark.asyncio
async def test_put_to_missing_queue_is_dropped(broker):
    transport = await broker.transport()
    await transport.put(broker.name(), b"lost")  # no error


@pytest.mark.asyncio
async def test_declare_and_delete_are_idempotent(broker):
    transport, queue, exchange = await broker.transport(), broker.name(), broker.name()
    for _ in range(2):
        await transport.declare_queue(queue)
        await transport.declare_exchange(exchange)
        await transport.bind(queue, exchange)
    for _ in range(2):
        await transport.delete_queue(queue)
        await transport.delete_exchange(exchange)


@pytest.mark.asyncio
async def test_consume_undeclared_queue_raises(broker):
    transport = await broker.transport()
    with pytest.raises(TransportError):
        await transport.consume(broker.name(), collector()[1])


@pytest.mark.asyncio
async def test_publish_copies_to_every_bound_queue(broker):
    transport, exchange = await broker.transport(), broker.name()
    await transport.declare_exchange(exchange)
    inboxes = []
    for _ in range(2):
        queue = broker.name()
        await transport.declare_queue(queue, exclusive=True, auto_delete=True)
        await transport.bind(queue, exchange)
        received, collect = collector()
        await transport.consume(queue, collect)
        inboxes.append(received)
    await transport.publish(exchange, b"all")
    await eventually(lambda: all(inbox == [b"all"] for inbox in inboxes))


@pytest.mark.asyncio
async def test_cancelled_callback_message_is_redelivered(broker):
    transport, queue = await broker.transport(), broker.name()
    await transport.declare_queue(queue)
    started = asyncio.Event()

    async def stuck(body: bytes) -> None:
        started.set()
        await asyncio.sleep(30)

    tag = await transport.consume(queue, stuck)
    await transport.put(queue, b"again")
    await asyncio.wait_for(started.wait(), 3)
    await transport.cancel(tag, timeout=0.05)
    received, collect = collector()
    await transport.consume(queue, collect)
    await eventually(lambda: received == [b"again"])


@pytest.mark.asyncio
async def test_message_past_ttl_is_not_delivered(broker):
    transport, queue = await broker.transport(), broker.name()
    await transport.declare_queue(queue)
    await transport.put(queue, b"stale", ttl=0.05)
    await asyncio.sleep(0.2)
    await transport.put(queue, b"fresh", ttl=5)
    received, collect = collector()
    await transport.consume(queue, collect)
    await eventually(lambda: received == [b"fresh"])
    await asyncio.sleep(0.1)
    assert received == [b"fresh"]


@pytest.mark.asyncio
async def test_raising_callback_does_not_stop_the_consumer(broker):
    transport, queue = await broker.transport(), broker.name()
    await transport.declare_queue(queue)
    received = []

    async def picky(body: bytes) -> None:
        if body == b"bad":
            raise RuntimeError("boom")
        received.append(body)

    await transport.consume(queue, picky)
    await transport.put(queue, b"bad")
    await transport.put(queue, b"good")
    await eventually(lambda: received == [b"good"])


# -- the bus on each transport -------------------------------------------------


@pytest.mark.asyncio
async def test_cast_delivered_once_among_two_consumers(broker):
    topic = broker.name()
    sender, first, second = await broker.bus("a"), await broker.bus("b"), await broker.bus("c")
    got_first, on_first = collector()
    got_second, on_second = collector()
    await first.serve(topic, {"work": on_first})
    await second.serve(topic, {"work": on_second})
    for n in range(20):
        await sender.cast(topic, "work", {"n": n})
    await eventually(lambda: len(got_first) + len(got_second) >= 20)
    await asyncio.sleep(0.1)  # room for a duplicate to show up
    assert sorted(p["n"] for p in got_first + got_second) == list(range(20))
    assert got_first and got_second


@pytest.mark.asyncio
async def test_cast_before_serve_is_delivered(broker):
    topic = broker.name()
    sender, server = await broker.bus("a"), await broker.bus("b")
    await sender.cast(topic, "work", {"n": 1})
    received, collect = collector()
    await server.serve(topic, {"work": collect})
    await eventually(lambda: received == [{"n": 1}])


@pytest.mark.asyncio
async def test_call_returns_the_result(broker):
    topic = broker.name()
    caller, server = await broker.bus("a"), await broker.bus("b")

    async def add(payload: dict) -> dict:
        return {"sum": payload["a"] + payload["b"]}

    await server.serve(topic, {"add": add})
    assert await caller.call(topic, "add", {"a": 2, "b": 3}, timeout=3) == {"sum": 5}


@pytest.mark.asyncio
async def test_call_timeout_raises_bus_timeout_fast(broker):
    topic = broker.name()
    caller, server = await broker.bus("a"), await broker.bus("b")
    release = asyncio.Event()

    async def slow(payload: dict) -> dict:
        await release.wait()
        return {"late": True}

    await server.serve(topic, {"slow": slow})
    started = time.monotonic()
    with pytest.raises(BusTimeout) as caught:
        await caller.call(topic, "slow", {}, timeout=0.2)
    assert time.monotonic() - started < 1.0
    assert (caught.value.topic, caught.value.kind) == (topic, "slow")
    release.set()  # the late reply is dropped quietly


@pytest.mark.asyncio
async def test_remote_exception_comes_back_as_remote_error(broker):
    topic = broker.name()
    caller, server = await broker.bus("a"), await broker.bus("b")

    async def fail(payload: dict) -> None:
        raise ValueError("flavor m1.huge is too big")

    async def echo(payload: dict) -> dict:
        return payload

    await server.serve(topic, {"fail": fail, "echo": echo})
    with pytest.raises(RemoteError) as caught:
        await caller.call(topic, "fail", {}, timeout=3)
    assert caught.value.exc_type == "ValueError"
    assert caught.value.message == "flavor m1.huge is too big"
    assert await caller.call(topic, "echo", {"x": 1}, timeout=3) == {"x": 1}


@pytest.mark.asyncio
async def test_fanout_reaches_every_subscriber(broker):
    topic = broker.name()
    sender = await broker.bus("a")
    inboxes = []
    for host in ("b", "c"):
        received, collect = collector()
        await (await broker.bus(host)).serve(topic, {"refresh": collect}, fanout=True)
        inboxes.append(received)
    await sender.fanout(topic, "refresh", {"rev": 7})
    await eventually(lambda: all(inbox == [{"rev": 7}] for inbox in inboxes))


@pytest.mark.asyncio
async def test_notify_sends_the_openstack_envelope(broker):
    notifications = broker.name("notifications")
    publisher = await broker.bus("a", notifications)
    listener = await broker.bus("b", notifications)
    received, collect = collector()
    await listener.subscribe_notifications(collect)
    await publisher.notify("compute.instance.create.end", {"instance_id": "i-1"}, "compute.node1")
    await eventually(lambda: len(received) == 1)
    envelope = received[0]
    assert set(envelope) == ENVELOPE_KEYS
    assert envelope["event_type"] == "compute.instance.create.end"
    assert envelope["payload"] == {"instance_id": "i-1"}
    assert envelope["publisher_id"] == "compute.node1"
    assert envelope["priority"] == "INFO"
    assert len(envelope["message_id"]) == 36


@pytest.mark.asyncio
async def test_stop_leaves_no_tasks_behind(broker):
    topic = broker.name()
    bus = Bus(make_transport(broker.url), "solo", stop_timeout=0.2)
    await bus.start()
    release = asyncio.Event()

    async def stuck(payload: dict) -> None:
        await release.wait()

    await bus.serve(topic, {"stuck": stuck})
    await bus.serve(topic, {"stuck": stuck}, fanout=True)
    await bus.cast(topic, "stuck", {})
    await bus.fanout(topic, "stuck", {})
    await asyncio.sleep(0.1)
    await bus.stop()
    await bus.stop()  # idempotent
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == {asyncio.current_task()}
