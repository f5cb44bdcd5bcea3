"""The Transport contract: the few broker primitives the bus is built on.

Vocabulary (AMQP 0-9-1, which the memory transport imitates):

- a *queue* holds message bodies (``bytes``) until a consumer takes them; when
  several consumers read one queue, each message goes to exactly one of them
  (competing consumers);
- an *exchange* here is always a fanout exchange: it copies every message
  published to it into every queue bound to it, and keeps nothing itself;
- a *consumer* is a callback attached to a queue. A delivery is acknowledged
  when the callback returns. A delivery whose callback is cancelled (consumer
  cancelled past its grace period, connection lost, process killed) is not
  acknowledged and goes back to the queue, so it can be delivered again:
  whatever runs in a callback must be idempotent.

Transports move opaque bytes. Serialization, topics, replies, timeouts and
retries live once in :class:`overcast.common.bus.Bus`.

Every method is a coroutine and must be called from the event loop that
called :meth:`Transport.connect`. Errors from the broker or the connection
are raised as :class:`TransportError` (the bus retries those).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Callable

#: A consumer callback: gets one message body; returning acknowledges it.
Callback = Callable[[bytes], Awaitable[None]]


class TransportError(Exception):
    """The broker refused an operation or could not be reached."""


async def finish_or_cancel(tasks: set[asyncio.Task], timeout: float) -> None:
    """Wait up to ``timeout`` seconds for in-flight deliveries, then cancel the rest.

    Returns once every task is done. For :meth:`Transport.cancel` implementations.
    """
    if tasks:
        _, late = await asyncio.wait(set(tasks), timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)


class Transport(abc.ABC):
    """A connection to a message broker.

    ``prefetch`` bounds how many deliveries one consumer handles at once:
    callbacks for one consumer run concurrently, up to ``prefetch``, in no
    guaranteed order.
    """

    def __init__(self, *, prefetch: int = 10) -> None:
        if prefetch < 1:
            raise ValueError(f"prefetch must be >= 1, got {prefetch}")
        self.prefetch = prefetch

    @classmethod
    @abc.abstractmethod
    def from_url(cls, url: str, **options) -> "Transport":
        """Build an unconnected transport from its URL; no I/O.

        Raises ValueError if the URL is malformed for this transport.
        """

    @abc.abstractmethod
    async def connect(self) -> None:
        """Open the connection. Idempotent.

        Blocks until connected (network transports: up to a few seconds).
        Raises TransportError if the broker cannot be reached.
        """

    @abc.abstractmethod
    async def close(self, timeout: float = 5.0) -> None:
        """Cancel this transport's consumers (see :meth:`cancel`), drop its
        exclusive queues and disconnect. Idempotent.

        Blocks up to ``timeout`` seconds for in-flight callbacks.
        """

    @abc.abstractmethod
    async def declare_queue(
        self, name: str, *, exclusive: bool = False, auto_delete: bool = False
    ) -> None:
        """Create the queue if it does not exist. Idempotent.

        ``exclusive``: the queue belongs to this connection and is deleted when
        it closes. ``auto_delete``: the queue is deleted when its last consumer
        is cancelled. A plain queue outlives its consumers and keeps messages
        put while nobody consumes.
        Blocks for one broker round trip. Raises TransportError.
        """

    @abc.abstractmethod
    async def declare_exchange(self, name: str) -> None:
        """Create the fanout exchange if it does not exist. Idempotent.

        Blocks for one broker round trip. Raises TransportError.
        """

    @abc.abstractmethod
    async def bind(self, queue: str, exchange: str) -> None:
        """Make the exchange copy its messages into the queue. Idempotent.

        Both must exist. Blocks for one broker round trip. Raises TransportError.
        """

    @abc.abstractmethod
    async def put(self, queue: str, body: bytes, *, ttl: float | None = None) -> None:
        """Put one message on the named queue.

        A message put on a queue that does not exist is dropped silently.
        With ``ttl`` (seconds) the message is discarded, undelivered, once it
        has waited that long. Blocks until the broker has accepted the message.
        Raises TransportError.
        """

    @abc.abstractmethod
    async def publish(self, exchange: str, body: bytes) -> None:
        """Copy one message into every queue bound to the exchange.

        With no queue bound the message is dropped. The exchange must have
        been declared. Blocks until the broker has accepted the message.
        Raises TransportError.
        """

    @abc.abstractmethod
    async def consume(self, queue: str, callback: Callback) -> str:
        """Start calling ``callback(body)`` for each message on the queue.

        Returns a consumer tag for :meth:`cancel`. The queue must have been
        declared through this transport. A callback that raises is logged and
        its message is dropped (not redelivered). Returns once the consumer is
        registered; deliveries then run as tasks. Raises TransportError.
        """

    @abc.abstractmethod
    async def cancel(self, tag: str, timeout: float = 5.0) -> None:
        """Stop a consumer. Idempotent (unknown tags are ignored).

        No new deliveries start. Blocks up to ``timeout`` seconds for in-flight
        callbacks, then cancels the rest; their messages go back to the queue.
        """

    @abc.abstractmethod
    async def delete_queue(self, name: str) -> None:
        """Delete the queue and the messages in it. Idempotent.

        Consumers of the queue stop receiving. Raises TransportError.
        """

    @abc.abstractmethod
    async def delete_exchange(self, name: str) -> None:
        """Delete the exchange and its bindings. Idempotent. Raises TransportError."""
