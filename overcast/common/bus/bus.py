"""The message bus: cast, call, fanout and notifications over any Transport.

Routing, with ``topic`` a plain name such as ``compute`` or ``compute.node1``:

- ``cast`` and ``call`` put the message on the queue named ``topic``, which
  both sender and server declare, so a cast sent before the server starts
  waits for it. Servers of one topic compete: each message reaches one.
- ``fanout`` publishes to the exchange ``<topic>_fanout``; every
  ``serve(topic, ..., fanout=True)`` binds its own exclusive queue to it.
  Subscribers that are not running miss the message.
- a ``call`` carries ``reply_to`` (this bus's exclusive reply queue) and a
  ``correlation_id``; the server puts the reply there.
- ``notify`` puts an OpenStack-style envelope on the ``notifications`` queue.

Handlers must be idempotent by the IDs in their payload: AMQP redelivers a
message whose handler did not finish (lost connection, killed process), and
a retried publish can arrive twice.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .transports.base import Transport, TransportError

log = logging.getLogger(__name__)

Handler = Callable[[dict], Awaitable[Any]]
PRIORITIES = ("AUDIT", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SAMPLE")


class BusError(Exception):
    """Base of the bus's own errors."""


class BusTimeout(BusError, TimeoutError):
    """No reply to a call within its timeout."""

    def __init__(self, topic: str, kind: str, timeout: float | None = None) -> None:
        self.topic, self.kind, self.timeout = topic, kind, timeout
        within = f" within {timeout:g}s" if timeout is not None else ""
        super().__init__(f"no reply to {kind!r} on topic {topic!r}{within}")


class RemoteError(BusError):
    """The handler of a call raised; carries the remote exception's class name and message."""

    def __init__(self, exc_type: str, message: str, topic: str = "", kind: str = "") -> None:
        self.exc_type, self.message, self.topic, self.kind = exc_type, message, topic, kind
        super().__init__(f"{exc_type}: {message}")


@dataclass
class Message:
    """One bus message. Serialized as a JSON object; unknown fields are ignored
    and missing ones take the defaults below (additive changes only)."""

    kind: str
    payload: dict = field(default_factory=dict)
    version: int = 1
    msg_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    reply_to: str | None = None
    correlation_id: str | None = None

    def to_bytes(self) -> bytes:
        """Return the JSON encoding; raises TypeError/ValueError if the payload is not JSON."""
        data = {
            "kind": self.kind, "version": self.version, "payload": self.payload, "msg_id": self.msg_id,
        }
        if self.reply_to is not None:
            data["reply_to"] = self.reply_to
        if self.correlation_id is not None:
            data["correlation_id"] = self.correlation_id
        return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()

    @classmethod
    def from_bytes(cls, body: bytes) -> Message:
        """Decode a message; raises ValueError if it is not a JSON object with a string ``kind``."""
        data = json.loads(body)  # JSONDecodeError is a ValueError
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            raise ValueError("not a bus message: no 'kind'")
        payload = data.get("payload")
        version = data.get("version")
        return cls(
            kind=data["kind"],
            payload=payload if isinstance(payload, dict) else {},
            version=version if isinstance(version, int) else 1,
            msg_id=str(data.get("msg_id") or ""),
            reply_to=data.get("reply_to") or None,
            correlation_id=data.get("correlation_id") or None,
        )


def fanout_exchange(topic: str) -> str:
    """Name of the exchange that ``fanout(topic, ...)`` publishes to."""
    return f"{topic}_fanout"


class Bus:
    """cast / call / fanout / notify for one process, over one transport.

    ``host`` names this process in its reply and fanout queue names.
    Publishing retries ``publish_retries`` times on TransportError, waiting
    ``retry_delay`` seconds, doubled each time. ``stop_timeout`` (seconds) is
    how long :meth:`stop` waits for running handlers.
    """

    def __init__(
        self,
        transport: Transport,
        host: str,
        *,
        publish_retries: int = 3,
        retry_delay: float = 0.2,
        stop_timeout: float = 5.0,
        notifications_topic: str = "notifications",
    ) -> None:
        self.transport = transport
        self.host = host
        self.publish_retries = publish_retries
        self.retry_delay = retry_delay
        self.stop_timeout = stop_timeout
        self.notifications_topic = notifications_topic
        self.reply_queue = f"reply_{host}_{uuid.uuid4().hex[:12]}"
        self._pending: dict[str, asyncio.Future] = {}
        self._queues: set[str] = set()  # topic queues already declared
        self._exchanges: set[str] = set()
        self._consumers: list[str] = []  # serve() consumer tags
        self._reply_tag = ""
        self._started = False

    async def start(self) -> None:
        """Connect and start listening for replies. Idempotent.

        Blocks until connected; raises TransportError if the broker is
        unreachable (the transport is closed again).
        """
        if self._started:
            return
        await self.transport.connect()
        try:
            await self.transport.declare_queue(self.reply_queue, exclusive=True, auto_delete=True)
            self._reply_tag = await self.transport.consume(self.reply_queue, self._on_reply)
        except BaseException:
            await self.transport.close(0)
            raise
        self._started = True

    async def stop(self) -> None:
        """Stop serving, fail pending calls with BusError, close the transport. Idempotent.

        Blocks up to ``stop_timeout`` seconds for running handlers, then cancels
        them (their messages return to the queue). Until then handlers can
        still cast, and calls still get their replies.
        """
        if not self._started:
            return
        tags, self._consumers = self._consumers, []
        await asyncio.gather(*(self.transport.cancel(tag, self.stop_timeout) for tag in tags))
        self._started = False
        await self.transport.cancel(self._reply_tag, 0)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(BusError("bus stopped before the reply arrived"))
        await self.transport.close(self.stop_timeout)
        self._queues.clear()
        self._exchanges.clear()

    async def cast(self, topic: str, kind: str, payload: dict, *, version: int = 1) -> None:
        """Send to one server of ``topic``; returns once the broker has the message.

        Raises TypeError/ValueError if the payload is not JSON (before sending),
        TransportError if the broker stays unreachable through the retries.
        """
        self._check_started()
        body = Message(kind, payload, version).to_bytes()
        await self._retrying(f"cast {kind} to {topic}", partial(self._put_topic, topic, body, None))

    async def call(
        self, topic: str, kind: str, payload: dict, timeout: float = 5.0, *, version: int = 1
    ) -> Any:
        """Send to one server of ``topic`` and wait for its reply; returns the handler's result.

        Blocks up to ``timeout`` seconds, publishing included; raises
        BusTimeout(topic, kind) when they pass (the request expires unhandled
        if no server took it), RemoteError if the handler raised or ``kind``
        is unknown there, TypeError/ValueError if the payload is not JSON.
        """
        self._check_started()
        correlation_id = uuid.uuid4().hex
        message = Message(kind, payload, version, reply_to=self.reply_queue, correlation_id=correlation_id)
        body = message.to_bytes()
        future = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        try:
            async with asyncio.timeout(timeout):
                await self._retrying(f"call {kind} on {topic}", partial(self._put_topic, topic, body, timeout))
                reply = await future
        except TimeoutError:
            raise BusTimeout(topic, kind, timeout) from None
        finally:
            self._pending.pop(correlation_id, None)
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            raise RemoteError(str(error.get("type", "Exception")), str(error.get("message", "")), topic, kind)
        return reply.get("result")

    async def fanout(self, topic: str, kind: str, payload: dict, *, version: int = 1) -> None:
        """Send to every running ``fanout=True`` server of ``topic``; nobody listening: dropped.

        Returns once the broker has the message. Raises like :meth:`cast`.
        """
        self._check_started()
        body = Message(kind, payload, version).to_bytes()

        async def publish() -> None:
            exchange = fanout_exchange(topic)
            if exchange not in self._exchanges:
                await self.transport.declare_exchange(exchange)
                self._exchanges.add(exchange)
            await self.transport.publish(exchange, body)

        await self._retrying(f"fanout {kind} to {topic}", publish)

    async def notify(self, event_type: str, payload: dict, publisher_id: str, priority: str = "INFO") -> None:
        """Publish a notification envelope on the notifications topic.

        The envelope: ``{event_type, payload, publisher_id, priority,
        message_id, timestamp}`` (timestamp ``YYYY-MM-DD HH:MM:SS.ffffff``, UTC),
        as oslo.messaging writes it. The queue is declared by subscribers
        only: until one has subscribed once, notifications are dropped rather
        than piling up. Raises ValueError for an unknown priority, otherwise
        like :meth:`cast`.
        """
        level = priority.upper()
        if level not in PRIORITIES:
            raise ValueError(f"unknown notification priority {priority!r}; use one of {', '.join(PRIORITIES)}")
        envelope = {
            "event_type": event_type,
            "payload": payload,
            "publisher_id": publisher_id,
            "priority": level,
            "message_id": str(uuid.uuid4()),
            "timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f"),
        }
        self._check_started()
        body = Message("notification", envelope).to_bytes()
        topic = self.notifications_topic
        await self._retrying(f"notify {event_type}", partial(self.transport.put, topic, body))

    async def serve(self, topic: str, handlers: dict[str, Handler], fanout: bool = False) -> None:
        """Run ``handlers[kind](payload)`` for each message on ``topic`` until :meth:`stop`.

        Returns once consuming (it does not block for the serving). A handler
        returns the call's result (JSON: dict or None) and must be idempotent
        by ID. A raising handler is logged and, for a call, reported back as
        RemoteError; an unknown kind likewise. Neither stops the consumer.
        With ``fanout=True`` this process gets every ``fanout(topic)`` message.
        Serve a topic once per process with all its kinds: servers of a topic
        compete, so one lacking a kind would answer UnknownKind.
        Raises BusError if not started, TransportError from the broker.
        """
        self._check_started()
        known = dict(handlers)
        if fanout:
            queue = f"{fanout_exchange(topic)}_{self.host}_{uuid.uuid4().hex[:8]}"
            await self.transport.declare_exchange(fanout_exchange(topic))
            await self.transport.declare_queue(queue, exclusive=True, auto_delete=True)
            await self.transport.bind(queue, fanout_exchange(topic))
        else:
            queue = topic
            await self._declare_topic(topic)
        self._consumers.append(await self.transport.consume(queue, partial(self._dispatch, topic, known)))

    async def subscribe_notifications(self, callback: Handler) -> None:
        """Call ``callback(envelope)`` for each notification (see :meth:`notify`).

        Subscribers compete for notifications, like servers of a topic.
        Returns once consuming.
        """
        await self.serve(self.notifications_topic, {"notification": callback})

    # -- internals -----------------------------------------------------------

    def _check_started(self) -> None:
        if not self._started:
            raise BusError("the bus is not started; call start() first")

    async def _declare_topic(self, topic: str) -> None:
        if topic not in self._queues:
            await self.transport.declare_queue(topic)
            self._queues.add(topic)

    async def _put_topic(self, topic: str, body: bytes, ttl: float | None) -> None:
        await self._declare_topic(topic)
        await self.transport.put(topic, body, ttl=ttl)

    async def _retrying(self, what: str, operation: Callable[[], Awaitable[None]]) -> None:
        for attempt in itertools.count():
            try:
                return await operation()
            except TransportError as exc:
                if attempt >= self.publish_retries:
                    raise
                delay = self.retry_delay * 2**attempt
                log.warning("%s failed (%s); retry %d of %d in %.1fs", what, exc, attempt + 1,
                            self.publish_retries, delay)
                await asyncio.sleep(delay)

    async def _on_reply(self, body: bytes) -> None:
        try:
            reply = Message.from_bytes(body)
        except ValueError as exc:
            log.warning("dropped a malformed reply: %s", exc)
            return
        future = self._pending.get(reply.correlation_id or "")
        if future is None or future.done():
            log.debug("dropped a late or unknown reply %s", reply.correlation_id)
            return
        future.set_result(reply.payload)

    async def _dispatch(self, topic: str, handlers: dict[str, Handler], body: bytes) -> None:
        try:
            message = Message.from_bytes(body)
        except ValueError as exc:
            log.warning("dropped a malformed message on %s: %s", topic, exc)
            return
        result, error = None, None
        handler = handlers.get(message.kind)
        if handler is None:
            log.warning("no handler for kind %r on topic %s (msg_id %s)", message.kind, topic, message.msg_id)
            error = {"type": "UnknownKind", "message": f"no handler for {message.kind!r} on topic {topic!r}"}
        else:
            try:
                result = await handler(message.payload)
            except Exception as exc:
                log.exception("handler for %r on %s failed (msg_id %s)", message.kind, topic, message.msg_id)
                error = {"type": type(exc).__name__, "message": str(exc)}
        if message.reply_to:
            await self._reply(message, result, error)

    async def _reply(self, request: Message, result: Any, error: dict | None) -> None:
        correlation_id = request.correlation_id or request.msg_id
        try:
            payload = {"error": error} if error else {"result": result}
            body = Message("reply", payload, correlation_id=correlation_id).to_bytes()
        except (TypeError, ValueError) as exc:
            log.error("result of %r is not JSON: %s", request.kind, exc)
            error = {"type": type(exc).__name__, "message": f"result is not JSON: {exc}"}
            body = Message("reply", {"error": error}, correlation_id=correlation_id).to_bytes()
        try:
            await self._retrying(f"reply to {request.kind}", partial(self.transport.put, request.reply_to, body))
        except TransportError:
            log.exception("could not reply to %r (msg_id %s)", request.kind, request.msg_id)
