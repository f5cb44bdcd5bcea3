"""Networking (the Neutron v2.0 API): networks, subnets, ports, routers, floating IPs,
security groups, quotas and agents."""

from overcast.common.spec import ServiceSpec

SPEC = ServiceSpec(
    name="network",
    service_type="network",
    catalog_name="neutron",
    prefix="/network",
    endpoint_path="",
    fault_style="network",
    routes_ref="overcast.network.api.routes:ROUTES",
    policies_ref="overcast.network.policies:RULES",
    service_ref="overcast.network.service:NetworkService",
    needs=("bus",),
)
