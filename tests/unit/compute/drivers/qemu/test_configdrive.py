"""The config drive holds exactly the documents the metadata service serves."""

from __future__ import annotations

import io

import pytest

from overcast.compute.drivers.base import InstanceSpec
from overcast.compute.drivers.qemu.configdrive import write_config_drive
from overcast.metadata.documents import documents

pycdlib = pytest.importorskip("pycdlib", reason="the config drive is built with pycdlib")


def test_config_drive_holds_the_metadata_documents(tmp_path):
    spec = InstanceSpec(uuid="0b7c3d52-1111-4222-8333-444455556666", name="instance-0b7c3d52", vcpus=1,
                        memory_mb=64, root_gb=1, user_data=b"#!/bin/sh\n", key_data="ssh-rsa AAAA k",
                        hostname="web-1", display_name="web 1", project_id="p1",
                        vifs=[{"id": "port-1", "mac": "fa:16:3e:00:00:01", "network_id": "net-1", "mtu": 1450,
                               "fixed_ips": [{"subnet_id": "s", "ip_address": "10.0.0.7"}]}])
    target = tmp_path / "config.iso"
    write_config_drive(spec, target)
    iso = pycdlib.PyCdlib()
    iso.open(str(target))
    try:
        assert iso.pvd.volume_identifier.rstrip(b" ") == b"config-2"
        found = {}
        for path in documents(spec):
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path="/" + path)
            found[path] = out.getvalue()
    finally:
        iso.close()
    assert found == documents(spec)
    assert b'"hostname": "web-1"' in found["openstack/latest/meta_data.json"]
    assert b'"local-ipv4": "10.0.0.7"' in found["ec2/latest/meta-data.json"]
