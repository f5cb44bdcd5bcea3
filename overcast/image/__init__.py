"""Image (Glance v2): upload, share and serve VM images."""

from overcast.common.spec import ServiceSpec


def _routes():
    from overcast.image.api.routes import ROUTES

    return ROUTES


def _policies():
    from overcast.image.policies import RULES

    return RULES


def _build(config, db, services):
    from overcast.image.service import ImageService

    return ImageService(config, db)


SPEC = ServiceSpec(
    name="image",
    service_type="image",
    catalog_name="glance",
    prefix="/image",
    endpoint_path="",
    fault_style="image",
    routes=_routes,
    policies=_policies,
    build=_build,
)
