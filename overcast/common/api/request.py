"""What a handler sees: the caller's context, the parsed body, the query, and policy."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from overcast.common.api.context import RequestContext
from overcast.common.errors import BadRequest, Forbidden

MAX_BODY = 1024 * 1024  # bytes of JSON a handler accepts


def reply(body: Any = None, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON response (or an empty one when ``body`` is None)."""
    if body is None:
        return Response(status_code=status, headers=headers)
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


class ApiRequest:
    """One API call, as handlers use it. Built by the route dispatcher."""

    def __init__(
        self, request: Request, body: bytes, rule: str | None, enforcer, context: RequestContext, prefix: str
    ):
        self.raw = request
        self.prefix = prefix
        self.body = body
        self.rule = rule
        self.enforcer = enforcer
        self.context = context
        self.authorized = rule is None
        self.version = None  # the Microversion asked for, on services that have them
        self.params = request.path_params
        self.query = request.query_params
        self.headers = request.headers
        self.state = request.app.state

    @property
    def method(self) -> str:
        return self.raw.method

    @property
    def base_url(self) -> str:
        """The public base URL of this service (scheme://host:port/prefix), no trailing slash."""
        host = self.raw.headers.get("host") or "127.0.0.1"
        return f"{self.raw.url.scheme}://{host}{self.prefix}"

    def json(self, required: bool = True) -> Any:
        """The JSON body. Raises BadRequest when it is missing (if required) or malformed."""
        if not self.body:
            if required:
                raise BadRequest("The request you have made requires a valid body.")
            return None
        if len(self.body) > MAX_BODY:
            raise BadRequest("Request body is too large.")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("Malformed request body: not valid JSON.") from None

    def allowed(self, target: dict | None = None, rule: str | None = None) -> bool:
        """Whether policy allows the route's rule (or ``rule``) on ``target``; never raises.

        For handlers that filter what they return instead of refusing the whole call.
        """
        self.authorized = True
        return self.enforcer.authorize(rule or self.rule, target or {}, self.context.creds())

    def authorize(self, target: dict | None = None, rule: str | None = None) -> None:
        """Check the route's policy rule (or ``rule``) against ``target``; raise Forbidden."""
        if not self.allowed(target, rule):
            self.authorized = False
            raise Forbidden(f"You are not authorized to perform the requested action: {rule or self.rule}.")
