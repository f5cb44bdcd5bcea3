"""The API glue every service shares: routes as data, requests, faults, the ASGI app."""

from overcast.common.api.context import RequestContext
from overcast.common.api.request import ApiRequest, reply
from overcast.common.api.routing import Route, not_implemented

__all__ = ["ApiRequest", "RequestContext", "Route", "not_implemented", "reply"]
