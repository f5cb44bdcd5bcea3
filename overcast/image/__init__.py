"""Image (Glance v2): upload, share and serve VM images."""

from overcast.common.spec import ServiceSpec

SPEC = ServiceSpec(
    name="image",
    service_type="image",
    catalog_name="glance",
    prefix="/image",
    endpoint_path="",
    fault_style="image",
    routes_ref="overcast.image.api.routes:ROUTES",
    policies_ref="overcast.image.policies:RULES",
    service_ref="overcast.image.service:ImageService",
)
