"""The metadata service's routes: every GET under its prefix is a path of the tree
``paths.py`` describes; POST is for a guest's password. No token: requests are trusted
by their proxy's signature."""

from overcast.common.api.routing import Route
from overcast.metadata.api.documents import save_password, show

ROUTES = [Route("GET", "/{path:path}", show, auth=False),
          Route("POST", "/{path:path}", save_password, auth=False)]
