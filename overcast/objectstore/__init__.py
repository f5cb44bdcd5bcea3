"""Object storage (the Swift v1 API): accounts, containers and objects."""

from overcast.common.spec import ServiceSpec

SPEC = ServiceSpec(
    name="objectstore",
    service_type="object-store",
    catalog_name="swift",
    prefix="/swift",
    endpoint_path="/v1/AUTH_%(project_id)s",
    fault_style="swift",
    routes_ref="overcast.objectstore.api.routes:ROUTES",
    policies_ref="overcast.objectstore.policies:RULES",
    service_ref="overcast.objectstore.service:ObjectStoreService",
    needs=("identity",),
)
