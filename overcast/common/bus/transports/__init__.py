"""Pick a transport by the scheme of the bus URL (``[bus] url``).

``memory://`` runs everything in one process; ``amqp://user:pass@host:port/vhost``
talks to RabbitMQ. Modules are imported only when their transport is chosen,
so aio-pika is needed only for AMQP.
"""

from __future__ import annotations

from overcast.common.plugins import resolve

from .base import Transport, TransportError

#: scheme -> "module:class"; built-in and third-party transports alike.
TRANSPORTS: dict[str, str] = {
    "memory": "overcast.common.bus.transports.memory:MemoryTransport",
    "amqp": "overcast.common.bus.transports.amqp:AmqpTransport",
    "amqps": "overcast.common.bus.transports.amqp:AmqpTransport",
}


class UnknownTransport(ValueError):
    """The URL names a transport that is not in :data:`TRANSPORTS`."""


def resolve_transport(name: str) -> type[Transport]:
    """Return the Transport class for a scheme such as ``"amqp"``.

    Raises UnknownTransport, suggesting the closest known scheme.
    """
    return resolve("bus transport", name, TRANSPORTS, Transport, UnknownTransport, allow_paths=False)


def make_transport(url: str, **options) -> Transport:
    """Build an unconnected transport for ``url``; no I/O (call ``connect()``).

    ``options`` go to the transport (e.g. ``prefetch=10``). Raises
    UnknownTransport for an unknown scheme and ValueError for a malformed URL.
    """
    scheme, sep, _ = url.partition("://")
    if not sep or not scheme:
        raise ValueError(f"bus URL {url!r} has no scheme; expected e.g. 'memory://' or 'amqp://host/'")
    return resolve_transport(scheme).from_url(url, **options)


__all__ = ["TRANSPORTS", "Transport", "TransportError", "UnknownTransport", "make_transport", "resolve_transport"]
