"""The metadata service of a running cloud, asked the way the network agents' proxies
ask it: a server booted with the real clients (fake drivers), then its documents read
at /metadata with the signed headers, and refused without them."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import uuid

import httpx
import pytest

from conftest import random_name
from overcast.metadata.signature import FORWARDED_FOR, NETWORK_ID, SIGNATURE, sign

IP = shutil.which("ip", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


@pytest.fixture(scope="module")
def booted(admin):
    """A server with user data and a key pair on a network of its own: (server, network id, address)."""
    net = admin.network.create_network(name=random_name("mdnet"))
    admin.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.31.0.0/24")
    image = admin.image.create_image(name=random_name("mdimg"), data=b"\0" * 4096, disk_format="raw",
                                     container_format="bare")
    key = admin.compute.create_keypair(name=random_name("mdkey"))
    server = admin.compute.create_server(name=random_name("md"), image_id=image.id, flavor_id="42",
                                         networks=[{"uuid": net.id}], key_name=key.name,
                                         user_data=base64.b64encode(b"#!/bin/sh\necho hello\n").decode())
    server = admin.compute.wait_for_server(server, wait=60)
    address = server.addresses[net.name][0]["addr"]
    yield server, key, net.id, address
    admin.compute.delete_server(server, force=True)
    admin.compute.wait_for_delete(server, wait=30)
    admin.compute.delete_keypair(key)
    admin.image.delete_image(image)
    admin.network.delete_network(net)


def ask(cloud, path: str, network_id: str = "", address: str = "", secret: str | None = None) -> httpx.Response:
    headers = {FORWARDED_FOR: address, NETWORK_ID: network_id}
    if secret is not None:
        headers[SIGNATURE] = sign(secret, network_id, address)
    return httpx.get(f"{cloud.url}/metadata{path}", headers=headers, timeout=30)


def test_signed_requests_read_the_servers_documents(cloud, booted):
    server, key, network_id, address = booted
    assert ask(cloud, "/latest/meta-data/instance-id", network_id, address).status_code == 403  # unsigned
    secret = (cloud.data_dir / "network" / "metadata_secret").read_text().strip()
    assert ask(cloud, "/latest/meta-data/instance-id", network_id, address, "forged").status_code == 403
    reply = ask(cloud, "/latest/meta-data/instance-id", network_id, address, secret)
    assert reply.status_code == 200 and reply.text == "i-" + server.id.replace("-", "")[:8]
    assert ask(cloud, "/latest/meta-data/local-ipv4", network_id, address, secret).text == address
    assert ask(cloud, "/latest/meta-data/public-keys/0/openssh-key", network_id, address,
               secret).text.strip() == key.public_key.strip()
    assert ask(cloud, "/latest/user-data", network_id, address, secret).content == b"#!/bin/sh\necho hello\n"
    meta = json.loads(ask(cloud, "/openstack/latest/meta_data.json", network_id, address, secret).content)
    assert meta["uuid"] == server.id and meta["public_keys"] == {"default": key.public_key}
    assert meta["name"] == server.name and meta["hostname"] == server.hostname and meta["hostname"]
    assert ask(cloud, "/latest/meta-data/hostname", network_id, address, secret).text == server.hostname
    links = json.loads(ask(cloud, "/openstack/latest/network_data.json", network_id, address, secret).content)
    assert links["networks"][0]["network_id"] == network_id
    other = address.rsplit(".", 1)[0] + ".250"
    assert ask(cloud, "/latest/meta-data/instance-id", network_id, other, secret).status_code == 404


def test_a_posted_password_shows_in_os_server_password(cloud, booted, admin):
    server, _, network_id, address = booted
    ask(cloud, "/", network_id, address)  # the cloud makes its secret on first use
    secret = (cloud.data_dir / "network" / "metadata_secret").read_text().strip()
    headers = {FORWARDED_FOR: address, NETWORK_ID: network_id, SIGNATURE: sign(secret, network_id, address)}
    posted = httpx.post(f"{cloud.url}/metadata/openstack/latest/password", headers=headers, content=b"ZW5jcnlwdGVk")
    assert posted.status_code == 200, posted.text
    shown = httpx.get(f"{cloud.url}/compute/v2.1/servers/{server.id}/os-server-password",
                      headers={"X-Auth-Token": admin.auth_token}, timeout=30)
    assert shown.json() == {"password": "ZW5jcnlwdGVk"}
    again = httpx.post(f"{cloud.url}/metadata/openstack/latest/password", headers=headers, content=b"other")
    assert again.status_code == 409


@pytest.mark.skipif(os.geteuid() != 0 or IP is None, reason="needs root and iproute2's ip (network namespaces)")
def test_a_guest_reads_its_metadata_through_the_proxy(cloud, booted, tmp_path):
    """The whole path but the guest: a client in the network's ``qdhcp-`` namespace (a
    test namespace, random id), from the server's fixed address, asks 169.254.169.254;
    the Linux driver's proxy forwards it to this cloud's /metadata, signed."""
    from overcast.metadata import SPEC
    from overcast.network.drivers.linux.host import Host, dhcp_namespace
    from overcast.network.drivers.linux.metadata import MetadataProxies

    server, _, network_id, address = booted
    ask(cloud, "/", network_id, address)  # the cloud makes its secret on first use
    secret = (cloud.data_dir / "network" / "metadata_secret").read_text().strip()
    namespace = dhcp_namespace(network_id)
    assert namespace not in subprocess.run([IP, "netns", "list"], capture_output=True, text=True).stdout
    proxies = MetadataProxies(Host(tmp_path, prefix=f"t{uuid.uuid4().hex[:6]}"), secret)
    subprocess.run([IP, "netns", "add", namespace], check=True)
    try:
        for args in (["link", "set", "lo", "up"], ["address", "add", f"{address}/32", "dev", "lo"]):
            subprocess.run([IP, "netns", "exec", namespace, IP, *args], check=True)
        proxies.serve(network_id, cloud.url + SPEC.prefix)
        client = ("import http.client, sys\n"
                  "c = http.client.HTTPConnection('169.254.169.254', 80, timeout=20, source_address=(sys.argv[1], 0))\n"
                  "c.request('GET', sys.argv[2]); r = c.getresponse(); print(r.status, r.read().decode())\n")
        done = subprocess.run([IP, "netns", "exec", namespace, "python3", "-c", client, address,
                               "/latest/meta-data/instance-id"], capture_output=True, text=True, timeout=60)
        assert done.stdout.strip() == "200 i-" + server.id.replace("-", "")[:8], done.stderr
    finally:
        proxies.close()
        subprocess.run([IP, "netns", "delete", namespace], check=False)
