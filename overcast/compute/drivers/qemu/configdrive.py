"""The config drive: an ISO 9660 image labelled ``config-2`` that cloud-init (and the
test guest) read when there is no metadata service, laid out as nova writes it:

    openstack/latest/meta_data.json, user_data, network_data.json, vendor_data.json,
    vendor_data2.json
    ec2/latest/meta-data.json, user-data

The documents themselves come from :mod:`overcast.metadata.documents`, which the metadata
service serves too, so both ways a guest reads its metadata agree. Built with pycdlib
(Rock Ridge and Joliet names, so any guest sees the real file names).
"""

from __future__ import annotations

import io
from pathlib import Path

from overcast.metadata.documents import documents

from ..base import InstanceSpec


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
