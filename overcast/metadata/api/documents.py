"""GET of any metadata path, and POST of the password, for the guest named by the
proxy's headers."""

from starlette.responses import Response

from overcast.common.api import reply
from overcast.metadata import signature


def _guest(req) -> tuple[str, str, str]:
    """(network id, address, signature) the proxy sent."""
    headers = req.headers
    address = headers.get(signature.FORWARDED_FOR, "").split(",")[0].strip()
    return headers.get(signature.NETWORK_ID, ""), address, headers.get(signature.SIGNATURE, "")


def show(req):
    body, content_type = req.state.metadata.lookup(req.params.get("path", ""), *_guest(req))
    return Response(body, media_type=content_type)


def save_password(req):
    req.state.metadata.save_password(req.params.get("path", ""), *_guest(req), req.body)
    return reply(None, status=200)
