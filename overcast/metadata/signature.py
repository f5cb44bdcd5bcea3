"""How a metadata proxy vouches for a request and the metadata service checks it.

The proxy (``network/drivers/linux/metadata.py``) sees the guest's source address on a
network it serves; the service trusts that pair only when it is signed with the secret
both share (``overcast.network.agent.metadata_secret``), as Neutron's metadata agent
signs the instance id it forwards. The signature is the hex HMAC-SHA256 of
``"<network id>:<address>"``.
"""

from __future__ import annotations

import hashlib
import hmac

FORWARDED_FOR = "X-Forwarded-For"
NETWORK_ID = "X-Neutron-Network-ID"
SIGNATURE = "X-Overcast-Metadata-Signature"


def sign(secret: str, network_id: str, address: str) -> str:
    message = f"{network_id}:{address}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, network_id: str, address: str, signature: str) -> bool:
    """Whether ``signature`` is this pair's (compared in constant time); never with no secret."""
    if not secret or not network_id or not address or not signature:
        return False
    return hmac.compare_digest(sign(secret, network_id, address), signature.strip().lower())
