"""GET of any metadata path, for the guest named by the proxy's headers."""

from starlette.responses import Response

from overcast.metadata import signature


def show(req):
    headers = req.headers
    address = headers.get(signature.FORWARDED_FOR, "").split(",")[0].strip()
    body, content_type = req.state.metadata.lookup(req.params.get("path", ""),
                                                   headers.get(signature.NETWORK_ID, ""), address,
                                                   headers.get(signature.SIGNATURE, ""))
    return Response(body, media_type=content_type)
