"""Pick a transport by the scheme of the bus URL (``[bus] url``).

``memory://`` runs everything in one process; ``amqp://user:pass@host:port/vhost``
talks to RabbitMQ. Modules are imported only when their transport is chosen,
so aio-pika is needed only for AMQP.
"""

from __future__ import annotations

import difflib
import importlib

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
    path = TRANSPORTS.get(name.lower())
    if path is None:
        close = difflib.get_close_matches(name.lower(), TRANSPORTS, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(TRANSPORTS))
        raise UnknownTransport(f"unknown bus transport {name!r}.{hint} Known transports: {known}.")
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


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
