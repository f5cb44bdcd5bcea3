"""The config drive: an ISO 9660 image labelled ``config-2`` that cloud-init (and the
test guest) read when there is no metadata service, laid out as nova writes it:

    openstack/latest/meta_data.json, user_data, network_data.json, vendor_data.json,
    vendor_data2.json
    ec2/latest/meta-data.json, user-data

Built with pycdlib (Rock Ridge and Joliet names, so any guest sees the real file names).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from ..base import InstanceSpec

VERSION = "latest"


def ec2_id(uuid: str) -> str:
    return f"i-{uuid.replace('-', '')[:8]}"


def documents(spec: InstanceSpec) -> dict[str, bytes]:
    """Path in the drive -> content."""
    keys = {"default": spec.key_data} if spec.key_data else {}
    meta = {"uuid": spec.uuid, "name": spec.name, "hostname": spec.name, "launch_index": 0,
            "availability_zone": "nova", "meta": dict(spec.metadata), "devices": [],
            "public_keys": keys,
            "keys": [{"name": name, "type": "ssh", "data": key} for name, key in keys.items()]}
    links, networks = [], []
    for index, vif in enumerate(spec.vifs):
        link = vif.get("devname") or f"tap{index}"
        links.append({"id": link, "vif_id": vif.get("id"), "type": "bridge",
                      "ethernet_mac_address": vif.get("mac"), "mtu": vif.get("mtu")})
        networks.append({"id": f"network{index}", "type": "ipv4_dhcp", "link": link,
                         "network_id": vif.get("network_id", "")})
    ec2 = {"instance-id": ec2_id(spec.uuid), "hostname": spec.name, "local-hostname": spec.name,
           "placement": {"availability-zone": "nova"}, "reservation-id": "",
           "public-keys": {"0": {"openssh-key": spec.key_data}} if spec.key_data else {}}
    files = {
        f"openstack/{VERSION}/meta_data.json": json.dumps(meta).encode(),
        f"openstack/{VERSION}/network_data.json": json.dumps({"links": links, "networks": networks,
                                                                "services": []}).encode(),
        f"openstack/{VERSION}/vendor_data.json": b"{}",
        f"openstack/{VERSION}/vendor_data2.json": b"{}",
        f"ec2/{VERSION}/meta-data.json": json.dumps(ec2).encode(),
    }
    if spec.user_data:
        files[f"openstack/{VERSION}/user_data"] = spec.user_data
        files[f"ec2/{VERSION}/user-data"] = spec.user_data
    return files


def _iso_name(part: str, is_file: bool, taken: set[str]) -> str:
    """An ISO 9660 level-4 name for ``part`` (the real name goes in Rock Ridge/Joliet)."""
    base = "".join(c if c.isalnum() else "_" for c in part.upper())[:30] or "X"
    name, n = base, 1
    while name in taken:
        name, n = f"{base[:27]}_{n}", n + 1
    taken.add(name)
    return f"{name};1" if is_file else name


def write_config_drive(spec: InstanceSpec, target: Path) -> None:
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=4, joliet=3, rock_ridge="1.09", vol_ident="config-2")
    made: dict[str, str] = {"": ""}  # real directory path -> ISO path
    taken: dict[str, set[str]] = {}
    try:
        for path, content in sorted(documents(spec).items()):
            parts = path.split("/")
            for depth in range(1, len(parts)):
                real = "/".join(parts[:depth])
                if real not in made:
                    parent = "/".join(parts[:depth - 1])
                    iso_path = made[parent] + "/" + _iso_name(parts[depth - 1], False, taken.setdefault(parent, set()))
                    iso.add_directory(iso_path, rr_name=parts[depth - 1], joliet_path="/" + real)
                    made[real] = iso_path
            parent = "/".join(parts[:-1])
            iso_path = made[parent] + "/" + _iso_name(parts[-1], True, taken.setdefault(parent, set()))
            iso.add_fp(io.BytesIO(content), len(content), iso_path, rr_name=parts[-1], joliet_path="/" + path)
        iso.write(str(target))
    finally:
        iso.close()
