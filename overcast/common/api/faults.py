"""Render an error in the fault style of the service that raised it.

Styles follow what each OpenStack service writes, because clients parse them:
- identity: {"error": {"code", "title", "message"}}
- compute: {"<camelName>": {"code", "message"}} with nova's key per status
- network: {"NeutronError": {"type", "message", "detail"}}
- image: {"message", "code": "404 Not Found", "title"} (WebOb's JSON error body)
- volume: as compute (Cinder's wsgi.Fault writes the same keys)
Unexpected exceptions become a generic 500 in the same style; the traceback goes to
the log only.
"""

from __future__ import annotations

import json
import logging

from starlette.responses import Response

from overcast.common.errors import OvercastError

log = logging.getLogger("overcast.api")

COMPUTE_KEYS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}


def _identity(error: OvercastError) -> dict:
    return {"error": {"code": error.status, "title": error.title, "message": error.text}}


def _compute(error: OvercastError) -> dict:
    key = COMPUTE_KEYS.get(error.status, "computeFault")
    return {key: {"code": error.status, "message": error.text}}


def _network(error: OvercastError) -> dict:
    return {"NeutronError": {"type": type(error).__name__, "message": error.text, "detail": ""}}


def _image(error: OvercastError) -> dict:
    """Glance answers with WebOb's JSON error body."""
    return {"message": error.text, "code": f"{error.status} {error.title}", "title": error.title}


STYLES = {"identity": _identity, "compute": _compute, "network": _network, "image": _image,
          "volume": _compute}  # Cinder's faults are Nova's: {"itemNotFound": {"code", "message"}}


def render(style: str, error: Exception, request_id: str = "") -> Response:
    """A JSON response for ``error`` in ``style``; non-overcast errors become a 500."""
    if not isinstance(error, OvercastError):
        log.error("unexpected error [%s]", request_id, exc_info=error)
        error = OvercastError()
    headers = dict(error.headers)
    if style == "swift":  # Swift answers errors with a line of HTML, and 304s with nothing
        text = "" if error.status == 304 else f"<html><h1>{error.title}</h1><p>{error.text}</p></html>"
        return Response(text, status_code=error.status, headers=headers, media_type="text/html; charset=UTF-8")
    body = STYLES.get(style, _identity)(error)
    return Response(json.dumps(body), status_code=error.status, headers=headers, media_type="application/json")
