"""EC2 request signatures (versions 2 and 4), checked the way AWS computes them.

``/v3/ec2tokens`` receives what the EC2 API saw (access key, signature, host, verb, path,
query params, headers, body hash) and recomputes the signature with the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote


def _quote(value: str) -> str:
    return quote(str(value), safe="-_.~")


def _canonical_query(params: dict, skip: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != skip)
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in pairs)


def sign_v2(secret: str, verb: str, host: str, path: str, params: dict) -> str:
    method = params.get("SignatureMethod", "HmacSHA256")
    digest = hashlib.sha1 if method == "HmacSHA1" else hashlib.sha256
    text = "\n".join([verb.upper(), host.lower(), path or "/", _canonical_query(params, "Signature")])
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), digest).digest()).decode()


def _v4_parts(params: dict, headers: dict) -> dict | None:
    """Credential scope, signed headers and date from the Authorization header or query."""
    lowered = {k.lower(): v for k, v in headers.items()}
    authorization = lowered.get("authorization", "")
    if authorization.startswith("AWS4-HMAC-SHA256"):
        fields = dict(
            part.strip().split("=", 1) for part in authorization[len("AWS4-HMAC-SHA256"):].split(",") if "=" in part
        )
        credential, signed = fields.get("Credential", ""), fields.get("SignedHeaders", "")
        date = lowered.get("x-amz-date", "")
    elif params.get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256":
        credential, signed = params.get("X-Amz-Credential", ""), params.get("X-Amz-SignedHeaders", "")
        date = params.get("X-Amz-Date", "")
    else:
        return None
    scope = credential.split("/", 1)[1] if "/" in credential else ""
    return {"scope": scope, "signed": signed, "date": date, "headers": lowered}


def sign_v4(secret: str, verb: str, path: str, params: dict, headers: dict, body_hash: str) -> str | None:
    parts = _v4_parts(params, headers)
    if parts is None or parts["scope"].count("/") != 3:
        return None
    signed = [h for h in parts["signed"].split(";") if h]
    canonical_headers = "".join(f"{h}:{' '.join(str(parts['headers'].get(h, '')).split())}\n" for h in signed)
    request = "\n".join([
        verb.upper(),
        path or "/",
        _canonical_query(params, "X-Amz-Signature"),
        canonical_headers,
        ";".join(signed),
        body_hash or hashlib.sha256(b"").hexdigest(),
    ])
    to_sign = "\n".join([
        "AWS4-HMAC-SHA256", parts["date"], parts["scope"], hashlib.sha256(request.encode()).hexdigest()
    ])
    key = ("AWS4" + secret).encode()
    for piece in parts["scope"].split("/"):
        key = hmac.new(key, piece.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def verify(secret: str, credentials: dict) -> bool:
    """True when ``credentials["signature"]`` is right for the request it describes."""
    given = credentials.get("signature") or ""
    params = credentials.get("params") or {}
    headers = credentials.get("headers") or {}
    verb, host, path = credentials.get("verb", "GET"), credentials.get("host", ""), credentials.get("path", "/")
    if params.get("SignatureVersion") == "2":
        expected = sign_v2(secret, verb, host, path, params)
    else:
        expected = sign_v4(secret, verb, path, params, headers, credentials.get("body_hash", ""))
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)
