"""The metadata proxy: 169.254.169.254:80 inside each network's ``qdhcp-`` namespace,
forwarding every HTTP request to the metadata service (the role of Neutron's
neutron-ns-metadata-proxy and metadata agent together).

Guests route 169.254.169.254/32 to the DHCP port's address (dnsmasq hands them that
classless route); the namespace holds the address on its ``lo``, and a listening socket
made *inside* the namespace answers it. All proxies share one thread of this process
running an asyncio loop, so a network costs a socket, not a process: the socket is made
by switching the calling thread into the namespace with ``setns(2)`` and back (a socket
keeps the namespace it was made in), while the loop thread stays in the host's
namespace and reaches the upstream (the API, usually on loopback) from there.

Each request goes upstream with the guest's source address in ``X-Forwarded-For``, the
network in ``X-Neutron-Network-ID`` and their signature (``overcast.metadata.signature``);
whatever the guest itself sent in those headers is dropped. One request per connection,
answered with ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import ssl
import threading
import urllib.parse
from dataclasses import dataclass

from overcast.metadata import signature
from overcast.network.drivers.errors import NetworkDriverError

from .host import METADATA_IP, Host, dhcp_namespace, log

CLONE_NEWNET = 0x40000000
MAX_HEAD = 16 * 1024  # bytes of request line and headers a guest may send
MAX_BODY = 64 * 1024  # bytes of request body (Nova takes at most 256 for a password)
TIMEOUT = 30.0  # seconds a request may take, guest to upstream and back
#: headers never passed on: hop-by-hop ones, and the ones only the proxy may set
DROPPED = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
           "host", "content-length"}
DROPPED_PREFIXES = ("x-forwarded-", "x-neutron-", "x-overcast-", "x-instance-", "x-tenant-")


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


def listen_in(namespace: str, address: str, port: int) -> socket.socket:
    """A non-blocking TCP socket listening on ``address:port`` inside ``namespace``: this
    thread enters the namespace, makes the socket and returns to where it was."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
        try:
            _setns(target)
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind((address, port))
                    sock.listen(128)
                    sock.setblocking(False)
                except BaseException:
                    sock.close()
                    raise
            finally:
                _setns(home)  # a thread left in a tenant namespace would be far worse than a failed proxy
        finally:
            os.close(target)
    finally:
        os.close(home)
    return sock


@dataclass(frozen=True)
class Upstream:
    """Where requests go: ``http(s)://host:port/prefix``."""

    scheme: str
    host: str
    port: int
    netloc: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> "Upstream":
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NetworkDriverError(action="serve metadata", reason=f"upstream {url!r} is not an http URL")
        return cls(parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                   parts.netloc, parts.path.rstrip("/"))


class _Proxy:
    def __init__(self, network_id: str, inode: int, upstream: Upstream):
        self.network_id = network_id
        self.inode = inode  # of /run/netns/<name>: a namespace made again is a new one
        self.upstream = upstream
        self.server: asyncio.base_events.Server | None = None


class MetadataProxies:
    """The metadata proxies of one driver, by network id. ``serve`` and ``stop`` block
    for well under a second (an ``ip`` command and a hand-off to the proxies' thread)."""

    def __init__(self, host: Host, secret: str, port: int = 80):
        self.host = host
        self.secret = secret
        self.port = port
        self._proxies: dict[str, _Proxy] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- the contract ------------------------------------------------------------------

    def serve(self, network_id: str, upstream: str) -> None:
        """Answer 169.254.169.254:80 in the network's DHCP namespace, forwarding to
        ``upstream``. Idempotent: served already, only the upstream changes. The namespace
        missing (or the upstream not http): NetworkDriverError."""
        target = Upstream.parse(upstream)
        namespace = dhcp_namespace(network_id)
        with self._lock:
            try:
                inode = os.stat(f"/run/netns/{namespace}").st_ino
            except FileNotFoundError:
                raise NetworkDriverError(action="serve metadata",
                                         reason=f"namespace {namespace} does not exist") from None
            self.host.run("ip", "address", "replace", f"{METADATA_IP}/32", "dev", "lo", netns=namespace)
            proxy = self._proxies.get(network_id)
            if proxy is not None and proxy.inode == inode:
                proxy.upstream = target
                return
            if proxy is not None:  # its namespace was deleted and made again: the old socket is in the old one
                self._close(self._proxies.pop(network_id))
            proxy = _Proxy(network_id, inode, target)
            try:
                sock = listen_in(namespace, METADATA_IP, self.port)
            except OSError as error:  # the port taken (another proxy there), the namespace just deleted
                raise NetworkDriverError(action="serve metadata", reason=f"{namespace}: {error}") from None
            try:
                proxy.server = self._call(self._start(proxy, sock))
            except BaseException:
                sock.close()
                raise
            self._proxies[network_id] = proxy
            log.info("metadata proxy for network %s serves %s:%d, upstream %s", network_id, METADATA_IP,
                     self.port, upstream)

    def stop(self, network_id: str) -> None:
        """Close the network's proxy and take 169.254.169.254 off the namespace's ``lo``.
        Not served: no-op."""
        namespace = dhcp_namespace(network_id)
        with self._lock:
            proxy = self._proxies.pop(network_id, None)
            if proxy is not None:
                self._close(proxy)
            if namespace in self.host.namespaces():
                self.host.run("ip", "address", "del", f"{METADATA_IP}/32", "dev", "lo", netns=namespace, check=False)

    def list(self) -> list[str]:
        """The networks this driver instance serves metadata on."""
        with self._lock:
            return sorted(self._proxies)

    def close(self) -> None:
        """Stop every proxy and the proxies' thread (tests; the agent's process just exits)."""
        for network_id in self.list():
            self.stop(network_id)
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)

    # -- the proxies' thread -----------------------------------------------------------

    def _call(self, coroutine):
        """Run ``coroutine`` on the proxies' loop (started on first use) and wait for it."""
        if self._loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=self._run_loop, args=(loop,), name="metadata-proxies", daemon=True).start()
            self._loop = loop
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _close(self, proxy: _Proxy) -> None:
        if proxy.server is not None:
            self._call(self._shutdown(proxy.server))

    async def _start(self, proxy: _Proxy, sock: socket.socket):
        async def handle(reader, writer):
            await self._handle(proxy, reader, writer)

        return await asyncio.start_server(handle, sock=sock, limit=MAX_HEAD)

    @staticmethod
    async def _shutdown(server) -> None:
        server.close()  # requests under way finish (each within TIMEOUT)

    # -- one request -------------------------------------------------------------------

    async def _handle(self, proxy: _Proxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered = []  # set once the upstream's answer started: no error status may follow it

        try:
            client = writer.get_extra_info("peername")[0]
            await asyncio.wait_for(self._exchange(proxy, client, reader, writer, answered), TIMEOUT)
        except _Refused as refusal:
            writer.write(_status(refusal.status, refusal.reason))
        except asyncio.TimeoutError:
            if not answered:
                writer.write(_status(504, "Gateway Timeout"))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the guest (or the upstream) went away
        except Exception:  # the proxy must keep serving whatever one request does
            log.exception("metadata proxy for network %s: request failed", proxy.network_id)
            if not answered:
                writer.write(_status(502, "Bad Gateway"))
        finally:
            try:
                await writer.drain()
            except ConnectionError:
                pass
            writer.close()

    async def _exchange(self, proxy: _Proxy, client: str, reader, writer, answered: list) -> None:
        method, target, headers = await _read_head(reader)
        length = headers.get("content-length", "0")
        if "transfer-encoding" in headers:
            raise _Refused(411, "Length Required")
        if not length.isdigit():
            raise _Refused(400, "Bad Request")
        if int(length) > MAX_BODY:
            raise _Refused(413, "Request Entity Too Large")
        body = await reader.readexactly(int(length))
        upstream = proxy.upstream
        signed = signature.sign(self.secret, proxy.network_id, client)
        lines = [f"{method} {upstream.prefix}{target} HTTP/1.0", f"Host: {upstream.netloc}",
                 f"{signature.FORWARDED_FOR}: {client}", f"{signature.NETWORK_ID}: {proxy.network_id}",
                 f"{signature.SIGNATURE}: {signed}", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()
                  if name not in DROPPED and not name.startswith(DROPPED_PREFIXES)]
        try:
            up_reader, up_writer = await asyncio.open_connection(
                upstream.host, upstream.port, ssl=ssl.create_default_context() if upstream.scheme == "https" else None)
        except OSError as error:
            log.warning("metadata proxy for network %s: upstream %s unreachable: %s", proxy.network_id,
                        upstream.netloc, error)
            raise _Refused(502, "Bad Gateway") from None
        try:
            up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await up_writer.drain()
            while chunk := await up_reader.read(65536):
                answered[:] = [True]
                writer.write(chunk)
                await writer.drain()
        finally:
            up_writer.close()


class _Refused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]]:
    """(method, path with query, headers by lower-case name) of one request."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise _Refused(431, "Request Header Fields Too Large") from None
    text = head.decode("latin-1")[:-4]
    if any(ord(char) < 32 and char not in "\t\r\n" for char in text) or "\n" in text.replace("\r\n", ""):
        raise _Refused(400, "Bad Request")  # a bare LF or a control character could smuggle a header upstream
    request_line, *header_lines = text.split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise _Refused(400, "Bad Request")
    method, target = parts[0], parts[1]
    if target.startswith(("http://", "https://")):  # absolute form: keep the path and query only
        split = urllib.parse.urlsplit(target)
        target = split.path + (f"?{split.query}" if split.query else "")
    if not method.isalpha() or not target.startswith("/") or ".." in target.split("?")[0].split("/"):
        raise _Refused(400, "Bad Request")
    headers = {}
    for line in filter(None, header_lines):
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise _Refused(400, "Bad Request")
        headers[name.lower()] = value.strip()
    return method, target, headers


def _status(status: int, reason: str) -> bytes:
    text = f"{status} {reason}\n".encode()
    return (f"HTTP/1.0 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(text)}\r\n"
            "Connection: close\r\n\r\n").encode() + text
