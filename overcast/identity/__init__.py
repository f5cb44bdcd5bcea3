"""Identity (Keystone v3, plus the v2.0 token and tenant calls)."""

from overcast.common.spec import ServiceSpec


def _routes():
    from overcast.identity.api.routes import ROUTES

    return ROUTES


def _policies():
    from overcast.identity.policies import RULES

    return RULES


def _build(config, db, services):
    from overcast.identity.service import IdentityService

    return IdentityService(config, db)


SPEC = ServiceSpec(
    name="identity",
    service_type="identity",
    catalog_name="keystone",
    prefix="/identity",
    endpoint_path="/v3",
    fault_style="identity",
    routes=_routes,
    policies=_policies,
    build=_build,
)
