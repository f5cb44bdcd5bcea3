"""A small closed-loop HTTP/1.1 load generator: asyncio, raw sockets, keep-alive.

Each of ``concurrency`` workers sends a pre-encoded request, reads the whole response,
records the latency, and sends the next one until the run's time is up; requests in
flight at the deadline are waited for (so every request the server started is counted,
and CPU/request from /proc is exact). Requests/s is completed requests over the time
from the start to the last completion.

The client is deliberately thin (no HTTP library, requests built once) so that it costs a
few tens of microseconds of CPU per request; ``Result.client_cpu`` is the process CPU the
client used during the run, to check it was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


def build_request(method: str, host: str, port: int, path: str, headers: dict | None = None,
                  body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: application/json",
             "User-Agent: overcast-bench"]
    for key, value in (headers or {}).items():
        lines.append(f"{key}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Closed(Exception):
    """The server closed a kept-alive connection before answering."""


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.connects = 0

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        self.connects += 1

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def _exchange(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        reader = self.reader
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if not error.partial:
                raise _Closed() from None
            raise
        except ConnectionResetError:
            raise _Closed() from None
        lines = head.split(b"\r\n")
        version, status = lines[0].split(b" ", 2)[:2]
        length, chunked = None, False
        keep = version == b"HTTP/1.1"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection":
                v = value.strip().lower()
                keep = v != b"close" if version == b"HTTP/1.1" else v == b"keep-alive"
        if int(status) in (204, 304) or int(status) < 200 or raw.startswith(b"HEAD "):
            body = b""  # no body by definition (RFC 9110 6.4.1), whatever the headers say
        elif chunked:
            parts = []
            while True:
                n = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                parts.append((await reader.readexactly(n + 2))[:n])
                if n == 0:
                    # trailers end with an empty line; we sent no TE header so expect none
                    break
            body = b"".join(parts)
        elif length is not None:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            keep = False
        if not keep:
            self.close()
        return int(status), body

    async def request(self, raw: bytes) -> tuple[int, int]:
        """(status, body size). Reconnects (once) when a kept-alive connection was closed."""
        status, body = await self.fetch(raw)
        return status, len(body)

    async def fetch(self, raw: bytes) -> tuple[int, bytes]:
        """(status, body). Reconnects (once) when a kept-alive connection was closed."""
        fresh = self.writer is None
        if fresh:
            await self._open()
        try:
            return await self._exchange(raw)
        except (_Closed, BrokenPipeError, ConnectionResetError):
            if fresh:
                raise
            self.close()
            await self._open()
            return await self._exchange(raw)


@dataclass
class Result:
    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0  # start to last completion
    client_cpu: float = 0.0  # seconds of this process's CPU during the run
    connects: int = 0
    body_bytes: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    @property
    def client_core_share(self) -> float:
        """Fraction of one core the client used."""
        return self.client_cpu / self.elapsed if self.elapsed else 0.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


async def _drive(host: str, port: int, concurrency: int, workers: int, requests, expect: int,
                 timeout: float) -> Result:
    """Run ``workers`` connections, each sending what ``requests()`` yields for it."""
    result = Result(concurrency)
    loop = asyncio.get_running_loop()
    connections = [Connection(host, port) for _ in range(workers)]
    ends: list[float] = []
    start = loop.time()

    async def worker(conn: Connection) -> None:
        clock = time.perf_counter
        for raw in requests():
            t0 = clock()
            try:
                status, size = await asyncio.wait_for(conn.request(raw), timeout)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, _Closed):
                conn.close()
                result.errors += 1
                ends.append(loop.time())
                continue
            t1 = clock()
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status == expect:
                result.latencies.append(t1 - t0)
                result.body_bytes += size
            else:
                result.errors += 1
            ends.append(loop.time())

    cpu0 = time.process_time()
    await asyncio.gather(*(worker(c) for c in connections))
    result.client_cpu = time.process_time() - cpu0
    result.elapsed = (max(ends) if ends else loop.time()) - start
    result.connects = sum(c.connects for c in connections)
    for conn in connections:
        conn.close()
    return result


async def _run(host: str, port: int, raw: bytes, concurrency: int, duration: float, expect: int,
               timeout: float) -> Result:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration

    def until_deadline():
        yield raw  # every worker sends at least one request, even with duration 0
        while loop.time() < deadline:
            yield raw

    return await _drive(host, port, concurrency, concurrency, until_deadline, expect, timeout)


def run(host: str, port: int, raw: bytes, concurrency: int, duration: float, expect: int = 200,
        timeout: float = 120.0) -> Result:
    """Drive ``raw`` (one encoded request) at ``host:port`` with ``concurrency`` workers for ``duration`` s."""
    return asyncio.run(_run(host, port, raw, concurrency, duration, expect, timeout))


async def _run_each(host: str, port: int, raws: list[bytes], concurrency: int, expect: int,
                    timeout: float) -> Result:
    todo = iter(raws)  # shared by the workers: each request is sent exactly once
    workers = min(concurrency, max(len(raws), 1))
    return await _drive(host, port, concurrency, workers, lambda: todo, expect, timeout)


def run_each(host: str, port: int, raws: list[bytes], concurrency: int, expect: int = 200,
             timeout: float = 120.0) -> Result:
    """Send each of ``raws`` (different encoded requests) once, ``concurrency`` at a time.

    For set-up work such as creating many resources in parallel batches; the Result has
    the same fields as ``run``'s (elapsed is the time to the last completion).
    """
    return asyncio.run(_run_each(host, port, raws, concurrency, expect, timeout))


async def _run_stream(host: str, port: int, next_request, concurrency: int, duration: float, expect: int,
                      timeout: float) -> Result:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration

    def stream():
        yield next_request()  # every worker sends at least one request, even with duration 0
        while loop.time() < deadline:
            yield next_request()

    return await _drive(host, port, concurrency, concurrency, stream, expect, timeout)


def run_stream(host: str, port: int, next_request, concurrency: int, duration: float, expect: int = 200,
               timeout: float = 120.0) -> Result:
    """Like ``run``, but each request is ``next_request()`` (encoded bytes), called once per request.

    For requests that must differ, such as PUTs of a new object name each time; building
    one costs the client a few microseconds more than ``run``'s pre-encoded request.
    """
    return asyncio.run(_run_stream(host, port, next_request, concurrency, duration, expect, timeout))
