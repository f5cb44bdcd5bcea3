"""Routes as data, and the dispatcher that turns a table of rows into ASGI routes.

A service's ``api/routes.py`` is a list of :class:`Route` rows. Rows sharing a path
become one Starlette route whose dispatcher picks the row by method, authenticates,
runs the handler (in the thread pool when it is a plain function), checks that the
row's policy rule was enforced, and renders errors in the service's fault style.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route as StarletteRoute

from overcast.common.api import faults
from overcast.common.api.context import RequestContext
from overcast.common.api.request import ApiRequest
from overcast.common.errors import MethodNotAllowed, NotFound, Unimplemented

log = logging.getLogger("overcast.api")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "COPY"]  # COPY: Swift


def not_implemented(req: ApiRequest):
    """The handler of every upstream operation overcast does not serve yet: a clean 501."""
    req.authorized = True
    raise Unimplemented()


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable
    rule: str | None = None  # policy rule the handler enforces; None: public or self-checked
    auth: bool = True  # False: no token needed (version documents, token issue)
    stream: bool = False  # True: the body is not read up front; the (async) handler streams it


def build_routes(rows: list[Route], style: str, prefix: str, versions=None) -> list[StarletteRoute]:
    """Group rows by path into Starlette routes with per-method dispatch."""
    by_path: dict[str, dict[str, Route]] = {}
    for row in rows:
        by_path.setdefault(row.path, {})[row.method] = row
        if row.method == "GET":
            by_path[row.path].setdefault("HEAD", row)
    return [
        StarletteRoute(path, _dispatcher(methods, style, prefix, versions), methods=ALL_METHODS)
        for path, methods in by_path.items()
    ]


def not_found_app(style: str):
    """ASGI app answering 404 in ``style`` (a service's unknown paths)."""

    async def app(scope, receive, send):
        request_id = scope.get("state", {}).get("request_id", "")
        response = faults.render(style, NotFound(), request_id)
        await response(scope, receive, send)

    return app


def _dispatcher(methods: dict[str, Route], style: str, prefix: str, versions):
    async def endpoint(request: Request):
        response = await _handle(request)
        if versions is not None and "version" in request.scope.get("state", {}):
            response.headers.update(versions.response_headers(request.scope["state"]["version"]))
        return response

    async def _handle(request: Request):
        state = request.scope.get("state", {})
        request_id = state.get("request_id", "")
        row = methods.get(request.method)
        try:
            if versions is not None:
                state["version"] = versions.minimum
                state["version"] = versions.requested(request.headers)
            if row is None:
                error = MethodNotAllowed()
                error.headers["Allow"] = ", ".join(sorted(methods))
                raise error
            context = RequestContext(request_id=request_id)
            if row.auth:
                context = request.app.state.authenticator.authenticate(request.headers, request_id)
            state["context"] = context
            body = b"" if row.stream else await request.body()
            req = ApiRequest(request, body, row.rule, request.app.state.enforcer, context, prefix)
            req.version = state.get("version")
            if inspect.iscoroutinefunction(row.handler):
                response = await row.handler(req)
            else:
                response = await run_in_threadpool(row.handler, req)
            if not req.authorized:
                raise RuntimeError(f"{row.handler.__qualname__} did not enforce {row.rule}")
            return response
        except Exception as error:  # every error leaves in the service's fault style
            return faults.render(style, error, request_id)

    return endpoint
