"""In-process transport: queues and fanout exchanges inside one event loop.

Instant and deterministic; it documents the semantics real transports follow
(see :mod:`.base`). Transports made from the same URL in the same event loop
share one broker, so several buses in one process talk to each other:
``memory://`` is the default broker, ``memory://name`` a separate one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import weakref
from dataclasses import dataclass, field

from .base import Callback, Transport, TransportError, finish_or_cancel

log = logging.getLogger(__name__)
_brokers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop -> {name: _Broker}
_tags = itertools.count(1)


@dataclass(eq=False)
class _Queue:
    auto_delete: bool
    items: asyncio.Queue = field(default_factory=asyncio.Queue)  # (expiry or None, body)
    consumers: set = field(default_factory=set)


@dataclass(eq=False)
class _Broker:
    queues: dict[str, _Queue] = field(default_factory=dict)
    exchanges: dict[str, set[str]] = field(default_factory=dict)  # exchange -> bound queues


@dataclass(eq=False)
class _Consumer:
    name: str
    queue: _Queue
    callback: Callback
    task: asyncio.Task | None = None
    running: set[asyncio.Task] = field(default_factory=set)


class MemoryTransport(Transport):
    """A :class:`Transport` over plain asyncio queues; see the module docstring."""

    def __init__(self, name: str = "", *, prefetch: int = 10) -> None:
        super().__init__(prefetch=prefetch)
        self.name = name
        self._broker: _Broker | None = None
        self._consumers: dict[str, _Consumer] = {}
        self._exclusive: set[str] = set()

    @classmethod
    def from_url(cls, url: str, **options) -> MemoryTransport:
        """``memory://`` or ``memory://<broker name>``."""
        scheme, _, rest = url.partition("://")
        if scheme != "memory":
            raise ValueError(f"not a memory transport URL: {url!r}")
        return cls(rest.split("?")[0].strip("/"), **options)

    async def connect(self) -> None:
        if self._broker is None:
            named = _brokers.setdefault(asyncio.get_running_loop(), {})
            self._broker = named.setdefault(self.name, _Broker())

    async def close(self, timeout: float = 5.0) -> None:
        if self._broker is None:
            return
        await asyncio.gather(*(self.cancel(tag, timeout) for tag in list(self._consumers)))
        for name in self._exclusive:
            self._broker.queues.pop(name, None)
        self._exclusive.clear()
        self._broker = None

    async def declare_queue(self, name: str, *, exclusive: bool = False, auto_delete: bool = False) -> None:
        if name not in self._connected().queues:
            self._connected().queues[name] = _Queue(auto_delete)
            if exclusive:
                self._exclusive.add(name)

    async def declare_exchange(self, name: str) -> None:
        self._connected().exchanges.setdefault(name, set())

    async def bind(self, queue: str, exchange: str) -> None:
        broker = self._connected()
        if queue not in broker.queues or exchange not in broker.exchanges:
            raise TransportError(f"cannot bind {queue!r} to {exchange!r}: not declared")
        broker.exchanges[exchange].add(queue)

    async def put(self, queue: str, body: bytes, *, ttl: float | None = None) -> None:
        target = self._connected().queues.get(queue)
        if target is not None:
            target.items.put_nowait((None if ttl is None else time.monotonic() + ttl, body))

    async def publish(self, exchange: str, body: bytes) -> None:
        bound = self._connected().exchanges.get(exchange)
        if bound is None:
            raise TransportError(f"no exchange {exchange!r}")
        for queue in bound:
            await self.put(queue, body)

    async def consume(self, queue: str, callback: Callback) -> str:
        target = self._connected().queues.get(queue)
        if target is None:
            raise TransportError(f"cannot consume {queue!r}: not declared")
        tag = f"memory-{next(_tags)}"
        consumer = _Consumer(queue, target, callback)
        consumer.task = asyncio.create_task(self._deliver(consumer), name=f"bus consumer {queue}")
        target.consumers.add(consumer)
        self._consumers[tag] = consumer
        return tag

    async def cancel(self, tag: str, timeout: float = 5.0) -> None:
        consumer = self._consumers.pop(tag, None)
        if consumer is None:
            return
        consumer.task.cancel()
        await asyncio.wait([consumer.task])
        await finish_or_cancel(consumer.running, timeout)
        queue = consumer.queue
        queue.consumers.discard(consumer)
        if queue.auto_delete and not queue.consumers and self._broker:
            if self._broker.queues.get(consumer.name) is queue:
                del self._broker.queues[consumer.name]

    async def delete_queue(self, name: str) -> None:
        queue = self._connected().queues.pop(name, None)
        for bound in self._connected().exchanges.values():
            bound.discard(name)
        for consumer in queue.consumers if queue else ():
            consumer.task.cancel()  # no new deliveries; its owner's cancel() cleans up

    async def delete_exchange(self, name: str) -> None:
        self._connected().exchanges.pop(name, None)

    def _connected(self) -> _Broker:
        if self._broker is None:
            raise TransportError("memory transport is not connected")
        return self._broker

    async def _deliver(self, consumer: _Consumer) -> None:
        slots = asyncio.Semaphore(self.prefetch)
        while True:
            await slots.acquire()
            expires, body = await consumer.queue.items.get()
            if expires is not None and expires < time.monotonic():
                slots.release()
                continue
            task = asyncio.create_task(self._handle(consumer, expires, body))
            consumer.running.add(task)
            task.add_done_callback(consumer.running.discard)
            task.add_done_callback(lambda _: slots.release())

    async def _handle(self, consumer: _Consumer, expires: float | None, body: bytes) -> None:
        try:
            await consumer.callback(body)
        except asyncio.CancelledError:
            consumer.queue.items.put_nowait((expires, body))  # not acknowledged: redeliver
            raise
        except Exception:
            log.exception("consumer of %s failed; message dropped", consumer.name)
