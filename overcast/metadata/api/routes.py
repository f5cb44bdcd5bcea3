"""The metadata service's one route: every GET under its prefix is a path of the tree
``paths.py`` describes. No token: requests are trusted by their proxy's signature."""

from overcast.common.api.routing import Route
from overcast.metadata.api.documents import show

ROUTES = [Route("GET", "/{path:path}", show, auth=False)]
