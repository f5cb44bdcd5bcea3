"""A small synchronous QMP client (QEMU Machine Protocol over a unix socket).

One session per operation: connect, read the greeting, leave capabilities negotiation,
run commands, close. QEMU's monitor serves one client at a time, so callers serialize
sessions per guest (the driver holds a lock per instance).
"""

from __future__ import annotations

import json
import socket
import time


class QMPError(Exception):
    """QEMU answered with an error, closed the socket, or did not answer in time."""


class QMPSession:
    def __init__(self, path: str, timeout: float = 5.0):
        self.path = path
        self.timeout = timeout
        self.events: list[dict] = []
        self._sock: socket.socket | None = None
        self._file = None

    def __enter__(self) -> QMPSession:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError as error:
            sock.close()
            raise QMPError(f"cannot connect to the QMP socket: {error}") from error
        self._sock, self._file = sock, sock.makefile("rwb")
        greeting = self._read()
        if "QMP" not in greeting:
            self.close()
            raise QMPError(f"unexpected QMP greeting {greeting!r}")
        self.execute("qmp_capabilities")
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for thing in (self._file, self._sock):
            if thing is not None:
                try:
                    thing.close()
                except OSError:
                    pass
        self._file = self._sock = None

    def _read(self) -> dict:
        try:
            line = self._file.readline()
        except (OSError, socket.timeout) as error:
            raise QMPError(f"QMP read failed: {error}") from error
        if not line:
            raise QMPError("QEMU closed the QMP socket")
        return json.loads(line)

    def execute(self, command: str, **arguments):
        """Run ``command`` and return its ``return`` value; raise QMPError on an error."""
        message = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        try:
            self._file.write(json.dumps(message).encode() + b"\n")
            self._file.flush()
        except OSError as error:
            raise QMPError(f"QMP write failed: {error}") from error
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise QMPError(f"{command}: {reply['error'].get('desc', reply['error'])}")
            return reply.get("return")

    def wait_event(self, name: str, timeout: float) -> dict | None:
        """The first event ``name`` (already received or arriving within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["event"] == name:
                    self.events.remove(event)
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._sock.settimeout(left)
            try:
                reply = self._read()
            except QMPError:
                return None
            finally:
                if self._sock is not None:
                    self._sock.settimeout(self.timeout)
            if "event" in reply:
                self.events.append(reply)
