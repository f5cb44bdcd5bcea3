"""MetadataService: what an instance reads about itself at http://169.254.169.254.

Guests never reach it directly. A metadata proxy in the DHCP namespace of their network
(``network/drivers/linux/metadata.py``) forwards each request here with the guest's
source address (``X-Forwarded-For``), the network (``X-Neutron-Network-ID``) and a
signature of the two (``signature.py``). The service trusts nothing else: unsigned or
badly signed requests get 403; the instance is the ``device_id`` of the ``compute:*``
port holding that address on that network (404 when none), so a guest only ever reads
its own documents. The documents are the config drive's (``documents.py``), built from
the server as the compute service sends it to its host, with the port's floating IP;
besides them a guest may post its (encrypted) password once, which
``os-server-password`` then shows.

Everything is read from the database through the compute and network services' Python
interfaces, so any number of API processes serve it alike.
"""

from __future__ import annotations

from overcast.common.api.context import RequestContext
from overcast.common.errors import BadRequest, Conflict
from overcast.metadata import paths, signature
from overcast.metadata.documents import VERSION, documents
from overcast.metadata.errors import InstanceNotFound, MetadataForbidden, MetadataNotFound

READER = RequestContext(user_id="metadata", roles=["admin"], request_id="metadata")
MAX_PASSWORD = 256  # bytes a guest may post as its password (Nova's limit)


class MetadataService:
    def __init__(self, config, db, compute=None, network=None, secret: str | None = None):
        self.config = config
        self.db = db
        self.compute = compute
        self.network = network
        self._secret = secret  # None: read (or made) on first use, from the network config

    def start(self) -> None:
        """Nothing to prepare: the documents are read on each request."""

    @property
    def secret(self) -> str:
        if not self._secret:
            from overcast.network.agent import metadata_secret

            self._secret = metadata_secret(self.config)
        return self._secret

    def check(self, network_id: str, address: str, signed: str) -> None:
        """Raise MetadataForbidden unless a proxy of this cloud signed (network, address)."""
        if not signature.verify(self.secret, network_id, address, signed):
            raise MetadataForbidden()

    def instance_documents(self, network_id: str, address: str) -> dict[str, bytes]:
        """The documents of the instance with the fixed ``address`` on ``network_id``
        (config drive paths -> content); InstanceNotFound when no instance holds it."""
        return self._documents(*self._instance(network_id, address))

    def lookup(self, path: str, network_id: str, address: str, signed: str) -> tuple[bytes, str]:
        """(body, content type) of ``path`` for the guest a proxy vouches for."""
        self.check(network_id, address, signed)
        row, port = self._instance(network_id, address)
        files = self._documents(row, port)
        files[f"openstack/{VERSION}/password"] = (row.system_metadata or {}).get("password", "").encode()
        return paths.resolve(files, path)

    def save_password(self, path: str, network_id: str, address: str, signed: str, body: bytes) -> None:
        """Keep the (encrypted) password a guest posts to ``/openstack/<version>/password``,
        once: a second one is refused with 409 until an admin clears it
        (``os-server-password``), as Nova does."""
        self.check(network_id, address, signed)
        if not paths.is_password(path):
            raise MetadataNotFound()
        if len(body) > MAX_PASSWORD:
            raise BadRequest("Request is too large.")
        row, _ = self._instance(network_id, address)
        meta = dict(row.system_metadata or {})
        if meta.get("password"):
            raise Conflict("Password already set.")
        meta["password"] = body.decode("utf-8", "replace")
        self.compute.progress.apply(row.uuid, {"system_metadata": meta}, check_task=False)

    def _instance(self, network_id: str, address: str):
        """(server row, port found by the network service) of the address's instance."""
        from overcast.compute.errors import ServerNotFound

        found = self.network.instance_at(network_id, address) if self.network is not None else None
        if found is None or self.compute is None:
            raise InstanceNotFound(address=address, network_id=network_id)
        try:
            return self.compute.servers.show(READER, found["device_id"]), found
        except ServerNotFound:
            raise InstanceNotFound(address=address, network_id=network_id) from None

    def _documents(self, row, port: dict) -> dict[str, bytes]:
        """The config drive's documents for the server, with the port's floating IPs."""
        from overcast.compute.agent import instance_spec

        vifs = self.compute.network_api.vifs(row.uuid)
        for vif in vifs:
            if vif["id"] == port["port_id"]:
                vif["floating_ips"] = port["floating_ips"]
        row.net_vifs = vifs
        return documents(instance_spec(self.compute.spec_payload(row)))
