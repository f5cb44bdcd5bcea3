"""AMQP 0-9-1 transport (RabbitMQ) on aio-pika.

Uses one robust connection and one channel with publisher confirms: after a
lost connection aio-pika reconnects and re-declares the queues, exchanges,
bindings and consumers this transport declared. Operations attempted while it
is reconnecting raise :class:`TransportError` (the bus retries them).

Queues and exchanges are not durable: they survive their consumers but not a
broker restart. Messages are acknowledged after the callback returns, so a
consumer that dies mid-message gets it redelivered elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aio_pika
import aio_pika.abc
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from yarl import URL

from .base import Callback, Transport, TransportError, finish_or_cancel

log = logging.getLogger(__name__)
_ERRORS = (*CONNECTION_EXCEPTIONS, asyncio.TimeoutError)


@contextlib.contextmanager
def _translated(action: str):
    """Raise the broker's and the socket's errors as TransportError."""
    try:
        yield
    except TransportError:
        raise
    except _ERRORS as exc:
        raise TransportError(f"{action}: {type(exc).__name__}: {exc}") from exc


class _Consumer:
    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self.queue = queue
        self.running: set[asyncio.Task] = set()


class AmqpTransport(Transport):
    """A :class:`Transport` on a RabbitMQ broker; see the module docstring.

    ``connect_timeout`` (seconds) bounds the first connection attempt;
    ``reconnect_interval`` (seconds) is the pause between reconnection
    attempts after the connection is lost. ``name`` labels the connection in
    the broker's management tools.
    """

    def __init__(
        self,
        url: str,
        *,
        prefetch: int = 10,
        connect_timeout: float = 5.0,
        reconnect_interval: float = 1.0,
        name: str = "overcast",
    ) -> None:
        super().__init__(prefetch=prefetch)
        self.url = url
        self.connect_timeout = connect_timeout
        self.reconnect_interval = reconnect_interval
        self.name = name
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: aio_pika.abc.AbstractRobustChannel | None = None
        self._queues: dict[str, aio_pika.abc.AbstractQueue] = {}
        self._exchanges: dict[str, aio_pika.abc.AbstractExchange] = {}
        self._consumers: dict[str, _Consumer] = {}

    @classmethod
    def from_url(cls, url: str, **options) -> AmqpTransport:
        """``amqp://user:password@host:port/vhost`` (or ``amqps://``)."""
        parsed = URL(url)
        if parsed.scheme not in ("amqp", "amqps") or not parsed.host:
            raise ValueError(f"not an AMQP URL: {url!r}")
        return cls(url, **options)

    def __repr__(self) -> str:
        return f"AmqpTransport({self._safe_url()!r})"

    def _safe_url(self) -> str:
        parsed = URL(self.url)
        return str(parsed.with_password("***")) if parsed.password else self.url

    async def connect(self) -> None:
        if self._connection is not None:
            return
        with _translated(f"cannot connect to {self._safe_url()}"):
            connection = await aio_pika.connect_robust(
                self.url,
                timeout=self.connect_timeout,
                reconnect_interval=self.reconnect_interval,
                client_properties={"connection_name": self.name},
            )
            try:
                channel = await connection.channel(publisher_confirms=True)
                await channel.set_qos(prefetch_count=self.prefetch)
            except BaseException:
                await connection.close()
                raise
        self._connection, self._channel = connection, channel

    async def close(self, timeout: float = 5.0) -> None:
        if self._connection is None:
            return
        await asyncio.gather(*(self.cancel(tag, timeout) for tag in list(self._consumers)))
        connection, channel = self._connection, self._channel
        self._connection, self._channel = None, None
        self._queues.clear()
        self._exchanges.clear()
        with contextlib.suppress(*_ERRORS):
            await channel.close()
            await channel.closed()
        with contextlib.suppress(*_ERRORS):
            await connection.close()

    async def declare_queue(self, name: str, *, exclusive: bool = False, auto_delete: bool = False) -> None:
        with _translated(f"cannot declare queue {name!r}"):
            self._queues[name] = await self._open().declare_queue(
                name, durable=False, exclusive=exclusive, auto_delete=auto_delete
            )

    async def declare_exchange(self, name: str) -> None:
        with _translated(f"cannot declare exchange {name!r}"):
            self._exchanges[name] = await self._open().declare_exchange(
                name, aio_pika.ExchangeType.FANOUT, durable=False
            )

    async def bind(self, queue: str, exchange: str) -> None:
        if queue not in self._queues or exchange not in self._exchanges:
            raise TransportError(f"cannot bind {queue!r} to {exchange!r}: not declared")
        with _translated(f"cannot bind {queue!r} to {exchange!r}"):
            await self._queues[queue].bind(self._exchanges[exchange])

    async def put(self, queue: str, body: bytes, *, ttl: float | None = None) -> None:
        message = aio_pika.Message(body, content_type="application/json", expiration=ttl)
        with _translated(f"cannot put on {queue!r}"):
            await self._open().default_exchange.publish(message, routing_key=queue, mandatory=False)

    async def publish(self, exchange: str, body: bytes) -> None:
        if exchange not in self._exchanges:
            raise TransportError(f"no exchange {exchange!r} declared on this transport")
        message = aio_pika.Message(body, content_type="application/json")
        with _translated(f"cannot publish to {exchange!r}"):
            await self._exchanges[exchange].publish(message, routing_key="", mandatory=False)

    async def consume(self, queue: str, callback: Callback) -> str:
        if queue not in self._queues:
            raise TransportError(f"cannot consume {queue!r}: not declared on this transport")
        consumer = _Consumer(self._queues[queue])

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            task = asyncio.current_task()
            consumer.running.add(task)
            try:
                await self._handle(queue, callback, message)
            finally:
                consumer.running.discard(task)

        with _translated(f"cannot consume {queue!r}"):
            tag = await consumer.queue.consume(on_message)
        self._consumers[tag] = consumer
        return tag

    async def cancel(self, tag: str, timeout: float = 5.0) -> None:
        consumer = self._consumers.pop(tag, None)
        if consumer is None:
            return
        with contextlib.suppress(*_ERRORS):
            await consumer.queue.cancel(tag)
        await finish_or_cancel(consumer.running, timeout)

    async def delete_queue(self, name: str) -> None:
        for tag, consumer in list(self._consumers.items()):
            if consumer.queue.name == name:
                await self.cancel(tag, timeout=0)
        self._queues.pop(name, None)
        with _translated(f"cannot delete queue {name!r}"):
            await self._open().queue_delete(name)

    async def delete_exchange(self, name: str) -> None:
        self._exchanges.pop(name, None)
        with _translated(f"cannot delete exchange {name!r}"):
            await self._open().exchange_delete(name)

    def _open(self) -> aio_pika.abc.AbstractRobustChannel:
        if self._channel is None:
            raise TransportError("AMQP transport is not connected")
        return self._channel

    async def _handle(
        self, queue: str, callback: Callback, message: aio_pika.abc.AbstractIncomingMessage
    ) -> None:
        """Run the callback; ack on return, reject on error, requeue if cancelled."""
        try:
            await callback(message.body)
        except asyncio.CancelledError:
            with contextlib.suppress(*_ERRORS):
                await message.nack(requeue=True)
            raise
        except Exception:
            log.exception("consumer of %s failed; message dropped", queue)
            outcome = message.reject(requeue=False)
        else:
            outcome = message.ack()
        try:
            await outcome
        except _ERRORS as exc:  # the channel was lost: the broker redelivers it
            log.warning("could not settle a message from %s: %s", queue, exc)
