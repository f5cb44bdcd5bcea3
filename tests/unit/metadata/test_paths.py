"""The URL tree over one instance's documents, answered as Nova's metadata API answers."""

from __future__ import annotations

import json

import pytest

from overcast.compute.drivers.base import InstanceSpec
from overcast.metadata.documents import documents
from overcast.metadata.errors import MetadataNotFound
from overcast.metadata.paths import EC2_VERSIONS, OPENSTACK_VERSIONS, resolve

UUID = "8a6b3f4e-0000-4000-8000-000000000001"


def files(user_data: bytes | None = None, key: str | None = "ssh-rsa AAAA me") -> dict[str, bytes]:
    vifs = [{"id": "p1", "mac": "fa:16:3e:00:00:01", "network_id": "n1", "mtu": 1450,
             "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}], "floating_ips": ["172.24.4.9"]}]
    return documents(InstanceSpec(uuid=UUID, name="vm", vcpus=1, memory_mb=64, root_gb=1, vifs=vifs,
                                  user_data=user_data, key_data=key))


def text(path: str, docs: dict | None = None) -> str:
    body, _ = resolve(docs or files(), path)
    return body.decode()


def test_version_listings():
    assert text("") == "\n".join(EC2_VERSIONS + ["latest"])
    assert text("/openstack").split("\n")[-1] == "latest"
    assert text("openstack/").split("\n")[:-1] == OPENSTACK_VERSIONS


def test_openstack_files_by_version_and_user_data_only_when_there_is_some():
    assert text("openstack/latest").split("\n") == ["meta_data.json", "vendor_data.json", "network_data.json",
                                                    "vendor_data2.json"]
    with_data = files(user_data=b"#cloud-config\n")
    assert "user_data" in text("openstack/latest/", with_data).split("\n")
    assert resolve(with_data, "openstack/latest/user_data") == (b"#cloud-config\n", "application/octet-stream")
    with pytest.raises(MetadataNotFound):
        resolve(files(), "openstack/latest/user_data")
    assert text("openstack/2013-04-04") == "meta_data.json"  # older versions lack the newer files
    with pytest.raises(MetadataNotFound):
        resolve(files(), "openstack/2013-04-04/network_data.json")
    with pytest.raises(MetadataNotFound):
        resolve(files(), "openstack/1999-01-01/meta_data.json")
    body, kind = resolve(files(), "openstack/2018-08-27/meta_data.json")
    assert kind == "application/json" and json.loads(body)["uuid"] == UUID


def test_ec2_tree():
    assert text("latest") == "dynamic/\nmeta-data/"
    assert text("2009-04-04/") == "dynamic/\nmeta-data/"
    assert text("latest/", files(user_data=b"x")) == "dynamic/\nmeta-data/\nuser-data"
    assert resolve(files(user_data=b"x"), "latest/user-data")[0] == b"x"
    with pytest.raises(MetadataNotFound):
        resolve(files(), "latest/user-data")
    assert text("latest/meta-data/instance-id") == "i-8a6b3f4e"
    assert text("latest/meta-data/local-ipv4") == "10.0.0.5"
    assert text("latest/meta-data/public-ipv4") == "172.24.4.9"
    assert text("latest/meta-data/public-keys") == "0=default"
    assert text("latest/meta-data/public-keys/0") == "openssh-key"
    assert text("latest/meta-data/public-keys/0/openssh-key") == "ssh-rsa AAAA me"
    for missing in ("latest/meta-data/nothing", "latest/meta-data/public-keys/0/_name",
                    "latest/meta-data/instance-id/more", "1.5/meta-data/"):
        with pytest.raises(MetadataNotFound):
            resolve(files(), missing)
