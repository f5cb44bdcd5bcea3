"""The metadata service's URL tree over one instance's documents (``documents.py``),
answered as Nova's metadata API answers it:

- ``/``: the EC2 versions, one a line, ending with ``latest``;
- ``/<ec2 version>/``: ``dynamic/``, ``meta-data/`` and (when there is some) ``user-data``;
- ``/<ec2 version>/meta-data/...``: a directory lists its entries (directories end with
  ``/``; ``public-keys/`` lists ``0=<key name>``), a leaf is its text;
- ``/openstack``: the OpenStack versions; ``/openstack/<version>``: the files that
  version has; ``/openstack/<version>/<file>``: the file (JSON, the raw user data, or
  the ``password`` the guest posted, which the service adds to the documents).

Every known version serves today's documents; a file newer than the version asked for
is missing from it, as in Nova. A path that leads nowhere raises MetadataNotFound.
"""

from __future__ import annotations

import json

from overcast.metadata.documents import VERSION
from overcast.metadata.errors import MetadataNotFound

EC2_VERSIONS = ["1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
                "2008-02-01", "2008-09-01", "2009-04-04"]
OPENSTACK_VERSIONS = ["2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
                      "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14"]
#: OpenStack file -> the first version that has it (Nova's gates)
OPENSTACK_FILES = {"meta_data.json": "2012-08-10", "user_data": "2012-08-10", "password": "2013-04-04",
                   "vendor_data.json": "2013-10-17", "network_data.json": "2015-10-15",
                   "vendor_data2.json": "2016-10-06"}
TEXT, JSON, OCTETS = "text/plain", "application/json", "application/octet-stream"


def resolve(files: dict[str, bytes], path: str) -> tuple[bytes, str]:
    """(body, content type) of ``path`` (relative to the service's root) for the
    documents ``files``."""
    parts = [part for part in path.split("/") if part]
    if not parts:
        return _lines(EC2_VERSIONS + ["latest"]), TEXT
    if parts[0] == "openstack":
        return _openstack(files, parts[1:])
    return _ec2(files, parts)


def _lines(items: list[str]) -> bytes:
    return "\n".join(items).encode()


def _openstack(files: dict[str, bytes], parts: list[str]) -> tuple[bytes, str]:
    if not parts:
        return _lines(OPENSTACK_VERSIONS + ["latest"]), TEXT
    version = parts[0]
    if version != "latest" and version not in OPENSTACK_VERSIONS:
        raise MetadataNotFound()
    present = [name for name, since in OPENSTACK_FILES.items()
               if (version == "latest" or version >= since) and f"openstack/{VERSION}/{name}" in files]
    if len(parts) == 1:
        return _lines(present), TEXT
    if len(parts) > 2 or parts[1] not in present:
        raise MetadataNotFound()
    name = parts[1]
    kind = JSON if name.endswith(".json") else TEXT if name == "password" else OCTETS
    return files[f"openstack/{VERSION}/{name}"], kind


def is_password(path: str) -> bool:
    """Whether ``path`` is the password a guest may post (``/openstack/<version>/password``
    from 2013-04-04 on)."""
    parts = [part for part in path.split("/") if part]
    return (len(parts) == 3 and parts[0] == "openstack" and parts[2] == "password"
            and (parts[1] == "latest" or (parts[1] in OPENSTACK_VERSIONS and parts[1] >= OPENSTACK_FILES["password"])))


def _ec2(files: dict[str, bytes], parts: list[str]) -> tuple[bytes, str]:
    version = parts[0]
    if version != "latest" and version not in EC2_VERSIONS:
        raise MetadataNotFound()
    user_data = files.get(f"ec2/{VERSION}/user-data")
    tree = {"dynamic": {}, "meta-data": json.loads(files[f"ec2/{VERSION}/meta-data.json"])}
    if user_data is not None:
        tree["user-data"] = user_data
    node = tree
    for part in parts[1:]:
        if not isinstance(node, dict) or part.startswith("_") or part not in node:
            raise MetadataNotFound()
        node = node[part]
    if isinstance(node, dict):
        return _lines([value.get("_name", f"{key}/") if isinstance(value, dict) else key
                       for key, value in sorted(node.items()) if not key.startswith("_")]), TEXT
    if isinstance(node, bytes):
        return node, OCTETS
    if isinstance(node, list):
        return _lines([str(item) for item in node]), TEXT
    return str(node).encode(), TEXT
