"""The documents an instance reads about itself, built once for both ways it reads them:
the config drive (``compute/drivers/qemu/configdrive.py`` writes them to an ISO) and the
metadata service at 169.254.169.254 (``metadata/service.py`` serves them over HTTP).

Paths are nova's config drive layout:

    openstack/latest/meta_data.json, network_data.json, vendor_data.json,
    vendor_data2.json, user_data (only when the server has user data)
    ec2/latest/meta-data.json, user-data (likewise)

Pure functions of an :class:`InstanceSpec`: no I/O, no database. The addresses come
from the spec's VIFs (``fixed_ips`` of each, and ``floating_ips`` when the caller knows
them: the metadata service does, a config drive written at boot has none yet).
"""

from __future__ import annotations

import ipaddress
import json

from overcast.compute.drivers.base import InstanceSpec

VERSION = "latest"


def ec2_id(uuid: str) -> str:
    """The EC2 form of an instance id (``i-`` and the first 8 hex digits of the uuid)."""
    return f"i-{uuid.replace('-', '')[:8]}"


def _addresses(spec: InstanceSpec, key: str) -> list[str]:
    """The IPv4 addresses under ``key`` (``fixed_ips`` or ``floating_ips``) of every VIF, in order."""
    found = []
    for vif in spec.vifs:
        for entry in vif.get(key) or []:
            address = entry.get("ip_address") if isinstance(entry, dict) else entry
            if address and ipaddress.ip_address(address).version == 4:
                found.append(address)
    return found


def _hostname(spec: InstanceSpec) -> str:
    return spec.hostname or spec.name


def _zone(spec: InstanceSpec) -> str:
    return spec.availability_zone or "nova"


def meta_data(spec: InstanceSpec) -> dict:
    """``openstack/latest/meta_data.json``."""
    keys = {"default": spec.key_data} if spec.key_data else {}
    return {"uuid": spec.uuid, "name": spec.display_name or spec.name, "hostname": _hostname(spec),
            "launch_index": 0, "availability_zone": _zone(spec), "project_id": spec.project_id,
            "meta": dict(spec.metadata), "devices": [], "public_keys": keys,
            "keys": [{"name": name, "type": "ssh", "data": key} for name, key in keys.items()]}


def network_data(spec: InstanceSpec) -> dict:
    """``openstack/latest/network_data.json``: a link per VIF, configured by DHCP."""
    links, networks = [], []
    for index, vif in enumerate(spec.vifs):
        link = vif.get("devname") or f"tap{index}"
        links.append({"id": link, "vif_id": vif.get("id"), "type": "bridge",
                      "ethernet_mac_address": vif.get("mac"), "mtu": vif.get("mtu")})
        networks.append({"id": f"network{index}", "type": "ipv4_dhcp", "link": link,
                         "network_id": vif.get("network_id", "")})
    return {"links": links, "networks": networks, "services": []}


def ec2_meta_data(spec: InstanceSpec) -> dict:
    """``ec2/latest/meta-data.json``: the EC2 ``meta-data/`` tree as nested dicts. A key
    ``_name`` names a directory in its parent's listing (``public-keys/`` lists ``0=default``)."""
    fixed, floating = _addresses(spec, "fixed_ips"), _addresses(spec, "floating_ips")
    keys = {"0": {"_name": "0=default", "openssh-key": spec.key_data}} if spec.key_data else {}
    return {"instance-id": ec2_id(spec.uuid), "hostname": _hostname(spec), "local-hostname": _hostname(spec),
            "local-ipv4": fixed[0] if fixed else "", "public-ipv4": floating[0] if floating else "",
            "placement": {"availability-zone": _zone(spec)}, "reservation-id": "", "public-keys": keys}


def documents(spec: InstanceSpec) -> dict[str, bytes]:
    """Path (as in the config drive) -> content."""
    files = {
        f"openstack/{VERSION}/meta_data.json": json.dumps(meta_data(spec)).encode(),
        f"openstack/{VERSION}/network_data.json": json.dumps(network_data(spec)).encode(),
        f"openstack/{VERSION}/vendor_data.json": b"{}",
        f"openstack/{VERSION}/vendor_data2.json": b"{}",
        f"ec2/{VERSION}/meta-data.json": json.dumps(ec2_meta_data(spec)).encode(),
    }
    if spec.user_data:
        files[f"openstack/{VERSION}/user_data"] = spec.user_data
        files[f"ec2/{VERSION}/user-data"] = spec.user_data
    return files
