"""The Bus's own logic (serialization, errors, retries, replies) on the memory transport.

Behaviour every transport must share lives in tests/contract/test_transport.py.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
import pytest_asyncio

from overcast.common.bus import (
    Bus,
    BusError,
    BusTimeout,
    Message,
    RemoteError,
    TransportError,
    UnknownTransport,
    make_transport,
)
from overcast.common.bus.transports.memory import MemoryTransport


class FlakyTransport(MemoryTransport):
    """Fails the first ``failures`` puts with TransportError."""

    def __init__(self, name: str, failures: int) -> None:
        super().__init__(name)
        self.failures = failures

    async def put(self, queue, body, *, ttl=None):
        if self.failures:
            self.failures -= 1
            raise TransportError("broker is restarting")
        await super().put(queue, body, ttl=ttl)


@pytest.fixture
def url() -> str:
    return f"memory://unit-{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture
async def make_bus(url):
    buses: list[Bus] = []

    async def make(host: str = "node", transport=None, **options) -> Bus:
        bus = Bus(transport or make_transport(url), host, stop_timeout=0.2, retry_delay=0.001, **options)
        await bus.start()
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.stop()


async def eventually(predicate, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


# -- Message -------------------------------------------------------------------


def test_message_round_trips_through_bytes():
    message = Message("build_server", {"id": "s-1"}, version=2, reply_to="r", correlation_id="c")
    assert Message.from_bytes(message.to_bytes()) == message


def test_message_ignores_unknown_fields_and_defaults_missing_ones():
    message = Message.from_bytes(json.dumps({"kind": "ping", "added_in_v9": True}).encode())
    assert (message.kind, message.payload, message.version) == ("ping", {}, 1)
    assert message.reply_to is None and message.correlation_id is None


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"payload": {}}', b'{"kind": 3}'])
def test_message_from_malformed_bytes_raises_value_error(body):
    with pytest.raises(ValueError):
        Message.from_bytes(body)


# -- transports by URL ---------------------------------------------------------


def test_make_transport_unknown_scheme_suggests_the_closest():
    with pytest.raises(UnknownTransport, match="Did you mean 'amqp'"):
        make_transport("amqb://guest:guest@127.0.0.1:5672/")


def test_make_transport_without_scheme_raises_value_error():
    with pytest.raises(ValueError, match="no scheme"):
        make_transport("127.0.0.1:5672")


def test_make_transport_picks_by_scheme():
    assert isinstance(make_transport("memory://"), MemoryTransport)
    assert type(make_transport("amqp://guest:guest@127.0.0.1:5672/")).__name__ == "AmqpTransport"


@pytest.mark.asyncio
async def test_memory_transports_share_a_broker_per_name(url):
    first, same, other = MemoryTransport.from_url(url), MemoryTransport.from_url(url), MemoryTransport("other")
    for transport in (first, same, other):
        await transport.connect()
    await first.declare_queue("q")
    received = []

    async def collect(body: bytes) -> None:
        received.append(body)

    await same.consume("q", collect)
    await first.put("q", b"hello")
    with pytest.raises(TransportError):
        await other.consume("q", collect)
    await eventually(lambda: received == [b"hello"])
    for transport in (first, same, other):
        await transport.close()


# -- Bus errors ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_cast_before_start_raises_bus_error(url):
    with pytest.raises(BusError, match="not started"):
        await Bus(make_transport(url), "node").cast("compute", "ping", {})


@pytest.mark.asyncio
async def test_cast_with_non_json_payload_raises_type_error(make_bus):
    bus = await make_bus()
    with pytest.raises(TypeError):
        await bus.cast("compute", "ping", {"when": object()})


@pytest.mark.asyncio
async def test_call_unknown_kind_raises_remote_error(make_bus):
    caller, server = await make_bus("a"), await make_bus("b")
    await server.serve("compute", {"known": lambda payload: asyncio.sleep(0)})
    with pytest.raises(RemoteError) as caught:
        await caller.call("compute", "unknown", {}, timeout=1)
    assert caught.value.exc_type == "UnknownKind"
    assert (caught.value.topic, caught.value.kind) == ("compute", "unknown")


@pytest.mark.asyncio
async def test_unknown_kind_and_malformed_cast_do_not_stop_the_consumer(make_bus, url):
    sender, server = await make_bus("a"), await make_bus("b")
    received = []

    async def work(payload: dict) -> None:
        received.append(payload)

    await server.serve("compute", {"work": work})
    await sender.cast("compute", "nobody_handles_this", {})
    raw = MemoryTransport.from_url(url)
    await raw.connect()
    await raw.put("compute", b"\xff not json")
    await raw.close()
    await sender.cast("compute", "work", {"n": 1})
    await eventually(lambda: received == [{"n": 1}])


@pytest.mark.asyncio
async def test_call_with_non_json_result_raises_remote_error(make_bus):
    caller, server = await make_bus("a"), await make_bus("b")

    async def odd(payload: dict) -> dict:
        return {"value": {1, 2}}

    await server.serve("compute", {"odd": odd})
    with pytest.raises(RemoteError) as caught:
        await caller.call("compute", "odd", {}, timeout=1)
    assert caught.value.exc_type == "TypeError"


@pytest.mark.asyncio
async def test_notify_unknown_priority_raises_value_error(make_bus):
    bus = await make_bus()
    with pytest.raises(ValueError, match="priority"):
        await bus.notify("compute.instance.create.end", {}, "compute.node1", priority="LOUD")


@pytest.mark.asyncio
async def test_notify_without_any_subscriber_is_dropped(make_bus):
    publisher, listener = await make_bus("a"), await make_bus("b")
    await publisher.notify("compute.instance.delete.end", {"n": 1}, "compute.node1", priority="warn")
    received = []

    async def collect(envelope: dict) -> None:
        received.append(envelope)

    await listener.subscribe_notifications(collect)
    await publisher.notify("compute.instance.delete.end", {"n": 2}, "compute.node1", priority="warn")
    await eventually(lambda: len(received) == 1)
    assert received[0]["payload"] == {"n": 2} and received[0]["priority"] == "WARN"


# -- retries -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_cast_retries_on_transport_error(make_bus, url):
    received = []

    async def work(payload: dict) -> None:
        received.append(payload)

    server = await make_bus("b")
    await server.serve("compute", {"work": work})
    sender = await make_bus("a", FlakyTransport(url.partition("://")[2], failures=2))
    await sender.cast("compute", "work", {"n": 1})
    await eventually(lambda: received == [{"n": 1}])


@pytest.mark.asyncio
async def test_cast_gives_up_after_the_retries(make_bus, url):
    sender = await make_bus("a", FlakyTransport(url.partition("://")[2], failures=10), publish_retries=2)
    with pytest.raises(TransportError):
        await sender.cast("compute", "work", {})
    assert sender.transport.failures == 7


# -- calls and replies ---------------------------------------------------------


@pytest.mark.asyncio
async def test_handler_can_call_its_own_topic(make_bus):
    bus = await make_bus()

    async def inner(payload: dict) -> dict:
        return {"depth": payload["depth"]}

    async def outer(payload: dict) -> dict:
        return await bus.call("compute", "inner", {"depth": 2}, timeout=1)

    await bus.serve("compute", {"outer": outer, "inner": inner})
    assert await bus.call("compute", "outer", {}, timeout=1) == {"depth": 2}


@pytest.mark.asyncio
async def test_late_reply_is_dropped_and_the_next_call_works(make_bus):
    caller, server = await make_bus("a"), await make_bus("b")
    release = asyncio.Event()

    async def slow(payload: dict) -> dict:
        await release.wait()
        return {"late": True}

    async def fast(payload: dict) -> dict:
        return {"fast": True}

    await server.serve("compute", {"slow": slow, "fast": fast})
    with pytest.raises(BusTimeout):
        await caller.call("compute", "slow", {}, timeout=0.05)
    release.set()
    await asyncio.sleep(0.01)
    assert await caller.call("compute", "fast", {}, timeout=1) == {"fast": True}


@pytest.mark.asyncio
async def test_call_nobody_took_expires_unhandled(make_bus):
    caller, server = await make_bus("a"), await make_bus("b")
    with pytest.raises(BusTimeout):
        await caller.call("compute", "work", {"n": 1}, timeout=0.05)
    received = []

    async def work(payload: dict) -> None:
        received.append(payload)

    await server.serve("compute", {"work": work})
    await caller.cast("compute", "work", {"n": 2})
    await eventually(lambda: received == [{"n": 2}])


@pytest.mark.asyncio
async def test_stop_fails_a_pending_call_with_bus_error(make_bus):
    caller, server = await make_bus("a"), await make_bus("b")
    release = asyncio.Event()

    async def slow(payload: dict) -> None:
        await release.wait()

    await server.serve("compute", {"slow": slow})
    pending = asyncio.create_task(caller.call("compute", "slow", {}, timeout=5))
    await asyncio.sleep(0.02)
    await caller.stop()
    with pytest.raises(BusError, match="stopped"):
        await pending
    release.set()


@pytest.mark.asyncio
async def test_handler_can_still_cast_while_the_bus_stops(make_bus):
    sender, server, listener = await make_bus("a"), await make_bus("b"), await make_bus("c")
    release, received = asyncio.Event(), []

    async def work(payload: dict) -> None:
        await release.wait()
        await server.cast("reports", "finished", payload)

    async def finished(payload: dict) -> None:
        received.append(payload)

    await listener.serve("reports", {"finished": finished})
    await server.serve("compute", {"work": work})
    await sender.cast("compute", "work", {"n": 1})
    await asyncio.sleep(0.02)
    stopping = asyncio.create_task(server.stop())
    await asyncio.sleep(0.01)
    release.set()
    await stopping
    await eventually(lambda: received == [{"n": 1}])
