"""Block storage (Cinder v3): volumes, snapshots, types, quotas and attachments."""

from overcast.common.spec import ServiceSpec

SPEC = ServiceSpec(
    name="volume",
    service_type="block-storage",
    catalog_name="cinder",
    prefix="/volume",
    endpoint_path="/v3/%(project_id)s",
    fault_style="volume",
    routes_ref="overcast.volume.api.routes:ROUTES",
    policies_ref="overcast.volume.policies:RULES",
    service_ref="overcast.volume.service:VolumeService",
    microversions_ref="overcast.volume.api.versions:RANGE",
    needs=("bus", "image", "objectstore"),
)
