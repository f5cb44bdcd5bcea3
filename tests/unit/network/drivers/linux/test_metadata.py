"""The metadata proxy for real: a namespace of the test's own (random name), a small
upstream HTTP server on 127.0.0.1, and a client run inside the namespace with
``ip netns exec``. Needs root and ``ip netns``; skips without them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from overcast.metadata import signature
from overcast.network.drivers.errors import NetworkDriverError
from overcast.network.drivers.linux.host import Host, dhcp_namespace
from overcast.network.drivers.linux.metadata import MetadataProxies

IP = shutil.which("ip", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="the metadata proxy test needs root (network namespaces)"),
    pytest.mark.skipif(IP is None, reason="the metadata proxy test needs iproute2's ip command"),
]
GUEST = "192.0.2.10"  # the client's source address inside the namespace (on its lo)
CLIENT = """
import http.client, sys
conn = http.client.HTTPConnection("169.254.169.254", 80, timeout=10, source_address=(sys.argv[1], 0))
conn.request("GET", sys.argv[2], headers={"X-Forwarded-For": "6.6.6.6", "X-Neutron-Network-ID": "forged",
                                          "X-Overcast-Metadata-Signature": "forged", "X-Other": "kept"})
reply = conn.getresponse()
print(reply.status, reply.read().decode())
"""


class Upstream:
    """An HTTP server on 127.0.0.1 that records what it is asked and answers ``name``."""

    def __init__(self, name: str):
        self.seen: list[tuple[str, list[tuple[str, str]]]] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append((self.path, list(self.headers.items())))
                body = name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metadata"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    command = [IP, *(["netns", "exec", netns, IP] if netns else []), *args]
    return subprocess.run(command, capture_output=True, text=True, check=check)


def ask(namespace: str, path: str) -> subprocess.CompletedProcess:
    return subprocess.run([IP, "netns", "exec", namespace, "python3", "-c", CLIENT, GUEST, path],
                          capture_output=True, text=True, timeout=30)


def lo_addresses(namespace: str) -> set[str]:
    links = json.loads(ip("-j", "address", "show", "dev", "lo", netns=namespace).stdout)
    return {entry["local"] for link in links for entry in link.get("addr_info", [])}


@pytest.fixture
def network(tmp_path):
    """A random network id whose ``qdhcp-`` namespace exists (with the guest's address
    on lo), deleted afterwards whatever happens."""
    network_id = str(uuid.uuid4())
    namespace = dhcp_namespace(network_id)
    ip("netns", "add", namespace)
    try:
        ip("link", "set", "lo", "up", netns=namespace)
        ip("address", "add", f"{GUEST}/32", "dev", "lo", netns=namespace)
        yield network_id
    finally:
        ip("netns", "delete", namespace, check=False)


@pytest.fixture
def proxies(tmp_path):
    made = MetadataProxies(Host(tmp_path, prefix=f"t{uuid.uuid4().hex[:6]}"), "s3cret")
    yield made
    made.close()


def test_proxy_forwards_signed_requests_and_stops_cleanly(network, proxies):
    namespace = dhcp_namespace(network)
    first, second = Upstream("first"), Upstream("second")
    thread_ns = os.readlink("/proc/thread-self/ns/net")
    try:
        proxies.serve(network, first.url)
        assert os.readlink("/proc/thread-self/ns/net") == thread_ns  # the serving thread came back home
        assert proxies.list() == [network]
        assert "169.254.169.254" in lo_addresses(namespace)

        done = ask(namespace, "/latest/meta-data/instance-id?x=1")
        assert done.stdout.strip() == "200 first", done.stderr
        path, headers = first.seen[-1]
        assert path == "/metadata/latest/meta-data/instance-id?x=1"
        values = {}
        for name, value in headers:
            values.setdefault(name.lower(), []).append(value)
        assert values["x-forwarded-for"] == [GUEST]  # the guest's own header is dropped
        assert values["x-neutron-network-id"] == [network]
        assert values["x-overcast-metadata-signature"] == [signature.sign("s3cret", network, GUEST)]
        assert signature.verify("s3cret", network, GUEST, values["x-overcast-metadata-signature"][0])
        assert values["x-other"] == ["kept"]

        proxies.serve(network, second.url)  # idempotent: the new upstream replaces the old
        assert proxies.list() == [network]
        assert ask(namespace, "/openstack").stdout.strip() == "200 second"
        assert second.seen[-1][0] == "/metadata/openstack"

        proxies.stop(network)
        assert proxies.list() == []
        assert "169.254.169.254" not in lo_addresses(namespace)
        assert ask(namespace, "/openstack").returncode != 0  # nothing answers any more
        proxies.stop(network)  # stopping twice is fine
    finally:
        first.close()
        second.close()


def test_proxy_refuses_a_missing_namespace_a_bad_upstream_and_a_taken_port(proxies, network, tmp_path):
    with pytest.raises(NetworkDriverError, match="does not exist"):
        proxies.serve(str(uuid.uuid4()), "http://127.0.0.1:1/metadata")
    with pytest.raises(NetworkDriverError, match="not an http URL"):
        proxies.serve(network, "ftp://127.0.0.1/metadata")
    assert proxies.list() == []
    proxies.serve(network, "http://127.0.0.1:1/metadata")
    other = MetadataProxies(Host(tmp_path, prefix="tother"), "s3cret")
    try:
        with pytest.raises(NetworkDriverError, match="in use"):
            other.serve(network, "http://127.0.0.1:1/metadata")
        assert other.list() == [] and proxies.list() == [network]
    finally:
        other.close()


def test_proxy_answers_502_when_the_upstream_is_down(network, proxies):
    proxies.serve(network, "http://127.0.0.1:9/metadata")  # discard port: nothing listens
    done = ask(dhcp_namespace(network), "/latest/meta-data/")
    assert done.stdout.startswith("502"), done.stderr


RAW = """
import socket, sys
s = socket.create_connection(("169.254.169.254", 80), timeout=10, source_address=(sys.argv[1], 0))
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
print(s.recv(4096).decode("latin-1").split("\\r\\n")[0])
"""


def test_proxy_refuses_malformed_and_smuggling_requests(network, proxies):
    upstream = Upstream("fine")
    try:
        proxies.serve(network, upstream.url)
        cases = {
            "GET / HTTP/1.1\\r\\nX-A: b\\nX-Forwarded-For: 6.6.6.6\\r\\n\\r\\n": "HTTP/1.0 400 Bad Request",
            "GET /../identity/v3 HTTP/1.1\\r\\n\\r\\n": "HTTP/1.0 400 Bad Request",
            "GET / HTTP/1.1\\r\\nContent-Length: 999999\\r\\n\\r\\n": "HTTP/1.0 413 Request Entity Too Large",
            "POST / HTTP/1.1\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n": "HTTP/1.0 411 Length Required",
            "GET /latest HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n": "HTTP/1.0 200 OK",
        }
        for request, status in cases.items():
            done = subprocess.run([IP, "netns", "exec", dhcp_namespace(network), "python3", "-c", RAW, GUEST, request],
                                  capture_output=True, text=True, timeout=30)
            assert done.stdout.strip() == status, (request, done.stdout, done.stderr)
        assert [path for path, _ in upstream.seen] == ["/metadata/latest"]  # only the good one went upstream
    finally:
        upstream.close()
