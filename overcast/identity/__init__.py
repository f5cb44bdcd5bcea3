"""Identity (Keystone v3, plus the v2.0 token and tenant calls)."""

from overcast.common.spec import ServiceSpec

SPEC = ServiceSpec(
    name="identity",
    service_type="identity",
    catalog_name="keystone",
    prefix="/identity",
    endpoint_path="/v3",
    fault_style="identity",
    routes_ref="overcast.identity.api.routes:ROUTES",
    policies_ref="overcast.identity.policies:RULES",
    service_ref="overcast.identity.service:IdentityService",
)
