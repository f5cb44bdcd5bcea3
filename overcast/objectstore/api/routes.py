"""The Swift route table. Every route checks its own access (tokens are optional: public
containers and, later, temp URLs serve anonymous callers)."""

from __future__ import annotations

from overcast.common.api import Route
from overcast.objectstore.api import containers, info, objects

A = "/v1/{account}"
C = A + "/{container}"
O = C + "/{object:path}"

ROUTES = [
    Route("GET", "/info", info.show, auth=False),
    Route("GET", "/healthcheck", info.healthcheck, auth=False),
    Route("GET", A, containers.account_get, auth=False),
    Route("HEAD", A, containers.account_get, auth=False),
    Route("POST", A, containers.account_post, auth=False),
    *[Route(method, A + "/", handler, auth=False)  # clients that join paths leave a slash
      for method, handler in (("GET", containers.account_get), ("HEAD", containers.account_get),
                              ("POST", containers.account_post))],
    Route("GET", C, containers.container_get, auth=False),
    Route("HEAD", C, containers.container_get, auth=False),
    Route("PUT", C, containers.container_put, auth=False),
    Route("POST", C, containers.container_post, auth=False),
    Route("DELETE", C, containers.container_delete, auth=False),
    Route("GET", O, objects.get, auth=False),
    Route("HEAD", O, objects.get, auth=False),
    Route("PUT", O, objects.put, auth=False, stream=True),
    Route("POST", O, objects.post, auth=False),
    Route("DELETE", O, objects.delete, auth=False),
    Route("COPY", O, objects.copy, auth=False),
]
