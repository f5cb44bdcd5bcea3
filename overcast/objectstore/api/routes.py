"""The Swift route table. Every route checks its own access (tokens are optional: public
containers, temp URLs and form uploads serve anonymous callers). Writes go through
``bulk.middleware``, which serves ``?bulk-delete`` and ``?extract-archive`` before the
handler would, as Swift's bulk middleware sits in front of its proxy; POSTs then go through
``formpost.middleware`` (multipart/form-data uploads) and reads through
``staticweb.middleware`` (websites), in the order of Swift's proxy pipeline."""

from __future__ import annotations

from overcast.common.api import Route
from overcast.objectstore.api import containers, formpost, info, objects, staticweb
from overcast.objectstore.api.bulk import middleware as bulk

A = "/v1/{account}"
C = A + "/{container}"
O = C + "/{object:path}"

ACCOUNT = (("GET", containers.account_get), ("HEAD", containers.account_get),
           ("POST", bulk(containers.account_post)), ("PUT", bulk(containers.account_refused)),
           ("DELETE", bulk(containers.account_refused)))

ROUTES = [
    Route("GET", "/info", info.show, auth=False),
    Route("GET", "/healthcheck", info.healthcheck, auth=False),
    # clients that join paths leave a slash after the account
    *[Route(method, path, handler, auth=False, stream=method in ("POST", "PUT", "DELETE"))
      for path in (A, A + "/") for method, handler in ACCOUNT],
    Route("GET", C, staticweb.middleware(containers.container_get), auth=False),
    Route("HEAD", C, staticweb.middleware(containers.container_get), auth=False),
    Route("PUT", C, bulk(containers.container_put), auth=False, stream=True),
    Route("POST", C, bulk(formpost.middleware(containers.container_post)), auth=False, stream=True),
    Route("DELETE", C, bulk(containers.container_delete), auth=False, stream=True),
    Route("GET", O, staticweb.middleware(objects.get), auth=False),
    Route("HEAD", O, staticweb.middleware(objects.get), auth=False),
    Route("PUT", O, bulk(objects.put), auth=False, stream=True),
    Route("POST", O, bulk(formpost.middleware(objects.post)), auth=False, stream=True),
    Route("DELETE", O, bulk(objects.delete), auth=False, stream=True),
    Route("COPY", O, objects.copy, auth=False),
]
