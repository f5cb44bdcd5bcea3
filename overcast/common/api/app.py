"""The one ASGI app: every service mounted under its prefix, behind a short middleware list.

Middleware, outermost first (read top to bottom):
1. RequestIdMiddleware: gives every request an ``x-openstack-request-id`` and logs it.
Authentication and fault rendering happen per route (see routing.py), because each
service has its own fault style and public routes.
"""

from __future__ import annotations

import logging
import random
import time

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Router

from overcast.common.api.routing import build_routes, not_found_app

log = logging.getLogger("overcast.access")
_ids = random.Random()  # seeded from os.urandom once


def request_id_of_new_call() -> str:
    """``req-<uuid4>``. Request ids are not secrets: drawn without ``os.urandom``, whose
    system call lets go of the GIL on the event loop's thread for every request (a worker
    thread then holds it and the loop waits for the next switch)."""
    x = f"{_ids.getrandbits(128):032x}"
    return f"req-{x[:8]}-{x[8:12]}-4{x[13:16]}-{'89ab'[int(x[16], 16) & 3]}{x[17:20]}-{x[20:]}"


class RequestIdMiddleware:
    """Adds ``x-openstack-request-id: req-<uuid>`` to every response and logs the call."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = request_id_of_new_call()
        scope.setdefault("state", {})["request_id"] = request_id
        headers = [(b"x-openstack-request-id", request_id.encode())]
        if scope["path"].startswith("/compute"):  # Nova sends its own name for the id too
            headers.append((b"x-compute-request-id", request_id.encode()))
        if scope["path"].startswith("/swift"):  # Swift's transaction id: tx<21 hex>-<time in hex>
            trans = f"tx{request_id[4:].replace('-', '')[:21]}-{int(time.time()):010x}"
            headers.append((b"x-trans-id", trans.encode()))
        started = time.perf_counter()
        status = [0]

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + headers
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "%s %s %s %s %.1fms",
                    request_id,
                    scope["method"],
                    scope["path"],
                    status[0],
                    (time.perf_counter() - started) * 1000,
                )


def build_app(
    mounts: list[tuple[str, list, str]], state: dict, root_routes: list | None = None, lifespan=None
) -> Starlette:
    """Build the app from ``(prefix, route rows, fault style, microversion range or None)``.

    ``state`` becomes ``app.state`` (authenticator, enforcer, services); ``root_routes``
    are extra Starlette routes at ``/`` (the cloud's own index); ``lifespan`` starts and
    stops background work with the server.
    """
    routes = list(root_routes or [])
    for prefix, rows, style, versions in mounts:
        # no slash redirects inside a service: /v2/images/ is a missing image, not the list
        service_routes = build_routes(rows, style, prefix, versions)
        router = Router(routes=service_routes, default=not_found_app(style), redirect_slashes=False)
        routes.append(Mount(prefix, app=router))
    app = Starlette(routes=routes, middleware=[Middleware(RequestIdMiddleware)], lifespan=lifespan)
    for key, value in state.items():
        setattr(app.state, key, value)
    return app
