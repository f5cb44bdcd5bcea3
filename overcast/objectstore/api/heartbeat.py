"""What Swift's bulk operations answer (bulk delete, extract archive): always a 200 whose
body holds the outcome, in the format the Accept header picks (text/plain by default, JSON
or XML, as swob's best_match picks among them), preceded by a space every HEARTBEAT
seconds of a long run so that the client does not hang up (Swift's heartbeat bodies)."""

from __future__ import annotations

import json
import re
import time
from xml.sax.saxutils import escape

from starlette.responses import StreamingResponse

HEARTBEAT = 10.0  # seconds between the whitespace a long run sends
FORMATS = ("text/plain", "application/json", "application/xml", "text/xml")
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 406: "Not Acceptable", 409: "Conflict", 411: "Length Required",
           412: "Precondition Failed", 413: "Request Entity Too Large", 422: "Unprocessable Entity",
           500: "Internal Error", 502: "Bad Gateway", 503: "Service Unavailable"}
TOKEN = r"[^()<>@,;:\\\"/\[\]?={}\x00-\x20\x7f]+"
NOT_ACCEPTABLE = ("<html><h1>Not Acceptable</h1><p>The resource is not available in a format acceptable to your "
                  "browser.</p></html>")
LENGTH_REQUIRED = "<html><h1>Length Required</h1><p>Content-Length header required.</p></html>"


class Abort(Exception):
    """Ends a bulk run early: its status and body become the Response Status and Body."""

    def __init__(self, status: int, body: str = ""):
        self.status, self.body = status, body
        super().__init__(body)


def status_line(status: int) -> str:
    return f"{status} {REASONS.get(status, '')}".rstrip()


def output_format(accept: str | None) -> str | None:
    """The answer's type for an Accept header; None when it accepts none of FORMATS (or
    cannot be parsed)."""
    if not accept:
        return FORMATS[0]
    ranges = []
    for part in accept.split(","):
        kind, *params = [p.strip() for p in part.split(";")]
        if not re.fullmatch(f"{TOKEN}/{TOKEN}", kind):
            return None
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    return None
        major, minor = kind.split("/")
        ranges.append((quality, "*" not in (major, minor), major, minor))
    ranges.sort(key=lambda r: (r[0], r[1]), reverse=True)
    for _, _, major, minor in ranges:
        for offer in FORMATS:
            offer_major, offer_minor = offer.split("/")
            if major in ("*", offer_major) and minor in ("*", offer_minor):
                return offer
    return None


def render(fmt: str | None, result: dict, failures: list, root: str) -> bytes:
    """The closing body: ``result``'s fields and the failed ``[path, status]`` pairs."""
    if fmt == "application/json":
        return json.dumps({**result, "Errors": failures}).encode("ascii")
    if fmt and fmt.endswith("/xml"):
        lines = [f"<{root}>\n"]
        for key in sorted(result):
            tag = key.replace(" ", "_").lower()
            lines.append(f"<{tag}>{escape(str(result[key]))}</{tag}>\n")
        lines.append("<errors>\n")
        lines += [f"<object><name>{escape(name)}</name><status>{escape(status)}</status></object>\n"
                  for name, status in failures]
        lines.append(f"</errors>\n</{root}>\n")
        return "".join(lines).encode("utf-8")
    lines = [f"{key}: {result[key]}\n" for key in sorted(result)] + ["Errors:\n"]
    lines += [f"{name}, {status}\n" for name, status in failures]
    return "".join(lines).encode("utf-8")


class Run:
    """One bulk run's bookkeeping: its result fields, its failures and its heartbeat."""

    def __init__(self, fmt: str | None, root: str, result: dict):
        self.fmt, self.root, self.result, self.failures = fmt, root, result, []
        self.last = time.monotonic()
        self.beat = b'<?xml version="1.0" encoding="UTF-8"?>\n' if fmt and fmt.endswith("/xml") else b" "
        self.separator = b""

    def due(self) -> bytes | None:
        """The heartbeat to send now, if one is due."""
        if time.monotonic() - self.last < HEARTBEAT:
            return None
        self.last = time.monotonic()
        chunk, self.beat, self.separator = self.beat, b" ", b"\r\n\r\n"
        return chunk

    def fail(self, abort: Abort) -> None:
        self.result["Response Status"], self.result["Response Body"] = status_line(abort.status), abort.body

    def closing(self) -> bytes:
        return self.separator + render(self.fmt, self.result, self.failures, self.root)

    def response(self, chunks=None) -> StreamingResponse:
        """The 200: ``chunks`` (an async iterator ending with ``closing()``), or just the closing body."""
        if chunks is None:
            async def just_closing():
                yield self.closing()
            chunks = just_closing()
        return StreamingResponse(chunks, 200, media_type=self.fmt or "text/html; charset=UTF-8")
