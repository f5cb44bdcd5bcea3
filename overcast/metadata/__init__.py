"""The metadata service (Nova's metadata API): what a guest reads at 169.254.169.254.
Guests reach it only through the network agents' proxies, which sign each request; it
takes no Keystone token (see service.py)."""

from overcast.common.spec import ServiceSpec

SPEC = ServiceSpec(
    name="metadata",
    service_type="metadata",
    catalog_name="nova-metadata",
    prefix="/metadata",
    endpoint_path="",
    fault_style="compute",
    routes_ref="overcast.metadata.api.routes:ROUTES",
    policies_ref="overcast.metadata.policies:RULES",
    service_ref="overcast.metadata.service:MetadataService",
    needs=("compute", "network"),
    in_catalog=False,  # as in Nova: guests find it at 169.254.169.254, not in the catalog
)
