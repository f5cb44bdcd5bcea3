"""What another thread asks of a live migration while ``live_migration`` runs it: abort
or force it to complete. Drivers keep one ``LiveSignals`` per host; ``live_migration``
registers the instance for the time it runs and polls, ``live_migration_abort`` and
``live_migration_force_complete`` (called from another thread, as Nova's compute manager
does) set the flags. Asking about an instance that is not migrating does nothing.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Signals:
    abort: threading.Event = field(default_factory=threading.Event)
    force: threading.Event = field(default_factory=threading.Event)


class LiveSignals:
    def __init__(self):
        self._running: dict[str, Signals] = {}
        self._guard = threading.Lock()
        #: ``listener(uuid)``, set by the agent: a migration switched to post-copy (the
        #: guest runs at the destination; it can no longer be aborted)
        self.post_copy_listener: Callable[[str], None] | None = None

    def report_post_copy(self, uuid: str) -> None:
        """Called by the driver's ``live_migration`` when ``uuid`` switched to post-copy."""
        if self.post_copy_listener is not None:
            self.post_copy_listener(uuid)

    @contextlib.contextmanager
    def running(self, uuid: str):
        """Register ``uuid``'s migration for the duration of the block; its Signals."""
        signals = Signals()
        with self._guard:
            self._running[uuid] = signals
        try:
            yield signals
        finally:
            with self._guard:
                if self._running.get(uuid) is signals:
                    del self._running[uuid]

    def _set(self, uuid: str, which: str) -> bool:
        with self._guard:
            signals = self._running.get(uuid)
        if signals is None:
            return False
        getattr(signals, which).set()
        return True

    def abort(self, uuid: str) -> bool:
        """Ask ``uuid``'s migration to stop; False when none runs."""
        return self._set(uuid, "abort")

    def force(self, uuid: str) -> bool:
        """Ask ``uuid``'s migration to converge now; False when none runs."""
        return self._set(uuid, "force")
