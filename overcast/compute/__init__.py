"""Compute (Nova v2.1): flavors and keypairs so far; servers, the scheduler and agents next."""

from overcast.common.spec import ServiceSpec

SPEC = ServiceSpec(
    name="compute",
    service_type="compute",
    catalog_name="nova",
    prefix="/compute",
    endpoint_path="/v2.1",
    fault_style="compute",
    routes_ref="overcast.compute.api.routes:ROUTES",
    policies_ref="overcast.compute.policies:RULES",
    service_ref="overcast.compute.service:ComputeService",
    microversions_ref="overcast.compute.api.versions:RANGE",
    needs=("bus", "image", "network", "volume"),
)
