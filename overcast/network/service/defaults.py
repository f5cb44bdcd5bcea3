"""What the cloud's network starts with, as DevStack sets it up: the external network
``public`` (flat, the default one, with a subnet for router gateways and floating IPs)
and a shared default IPv4 subnet pool that auto-allocated project networks draw from.

Made at start when the cloud has no external network and no default pool yet, so a
fresh cloud boots servers in any project (``networks: auto``) and gives them floating
IPs; an operator who deletes them keeps it that way until there is neither again.
Both ranges are settings (``network.public_cidr``, ``network.default_subnetpool``);
empty turns each off.
"""

from __future__ import annotations

import ipaddress
import logging

from sqlalchemy import select

from overcast.common.api.context import RequestContext
from overcast.network.models import Network, SubnetPool

log = logging.getLogger("overcast.network")
ADMIN = RequestContext(user_id="neutron", roles=["admin"], request_id="network-defaults")


def ensure_defaults(service, config) -> None:
    with service.db.session() as session:
        has_external = session.scalar(select(Network.id).where(Network.external.is_(True)).limit(1))
        has_pool = session.scalar(select(SubnetPool.id).where(SubnetPool.is_default.is_(True)).limit(1))
    if not has_external and config.public_cidr:
        _public(service, config.public_cidr)
    if not has_pool and config.default_subnetpool:
        service.subnetpools.create(ADMIN, [{
            "name": "shared-default-subnetpool-v4", "prefixes": [config.default_subnetpool],
            "default_prefixlen": config.default_prefixlen, "is_default": True, "shared": True, "project_id": ""}])


def _public(service, cidr: str) -> None:
    network = ipaddress.ip_network(cidr)
    hosts = list(network.hosts())
    (public,) = service.networks.create(ADMIN, [{
        "name": "public", "router:external": True, "is_default": True, "provider:network_type": "flat",
        "provider:physical_network": "public", "project_id": "", "description": "The external network"}])
    service.subnets.create(ADMIN, [{
        "name": "public-subnet", "network_id": public["id"], "ip_version": network.version, "cidr": str(network),
        "gateway_ip": str(hosts[0]), "enable_dhcp": False, "project_id": "",
        "allocation_pools": [{"start": str(hosts[min(9, len(hosts) - 1)]), "end": str(hosts[-1])}]}])
    log.info("made the external network public (%s)", cidr)
