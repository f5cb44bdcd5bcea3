"""The message bus: ``cast``, ``call`` (with a timeout), ``fanout`` and ``notify``.

    transport = make_transport("memory://")   # or "amqp://guest:guest@127.0.0.1:5672/"
    bus = Bus(transport, host="node1")
    await bus.start()
    await bus.serve("compute", {"build_server": build_server})
    await bus.cast("compute", "build_server", {"server_id": "..."})
    await bus.stop()

The bus (:mod:`.bus`) does serialization, replies, timeouts and retries once;
transports (:mod:`.transports`) only move bytes between queues.
"""

from .bus import Bus, BusError, BusTimeout, Message, RemoteError
from .transports import Transport, TransportError, UnknownTransport, make_transport

__all__ = [
    "Bus",
    "BusError",
    "BusTimeout",
    "Message",
    "RemoteError",
    "Transport",
    "TransportError",
    "UnknownTransport",
    "make_transport",
]
