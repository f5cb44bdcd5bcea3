"""Form POST uploads, as Swift's formpost middleware takes them from browsers.

A POST of ``multipart/form-data`` to ``/v1/<account>/<container>[/<prefix>]`` needs no token.
Its fields come first: ``redirect``, ``max_file_size``, ``max_file_count``, ``expires``,
``signature`` (and optionally ``x_delete_at`` / ``x_delete_after``, ``content-type`` and
``content-encoding`` for every file); each file part after them is stored as
``<prefix><filename>`` (with its part's Content-Type and Content-Encoding unless the form
set them), as a PUT of the owner would store it. When the first file arrives the form must be unexpired (401 ``Form
Expired``) and signed (401 ``Invalid Signature``): the signature is the HMAC of
``<path>\\n<redirect>\\n<max_file_size>\\n<max_file_count>\\n<expires>`` under one of the
account's or the container's temp URL keys, hex (SHA1, SHA256, SHA512 by length) or
``<digest>:<base64>``; the path is signed from ``/v1`` on or with the mount in front, as
for temp URLs. A file over ``max_file_size`` is a plain 400 and is not stored.

The answer is the status of the last upload (``201 Created``) or the failure (``400`` with
``max file count exceeded``, ``no files to process``; a failed upload's own answer) as a
short text, or with ``redirect`` a 303 to ``<redirect>?status=<code>&message=<message>``.
"""

from __future__ import annotations

import asyncio
import email.message
import functools
import hmac
import mimetypes
import time
from http import HTTPStatus
from urllib.parse import quote

from starlette.responses import Response

from overcast.common.api.faults import render
from overcast.common.errors import OvercastError
from overcast.objectstore import errors
from overcast.objectstore.api import objects, tempurl, versioning
from overcast.objectstore.api.common import check_name
from overcast.objectstore.api.multipart import MimeInvalid, MultipartReader

MAX_VALUE_LENGTH = 4096  # longer field values are cut, as Swift cuts them


class FormInvalid(Exception):
    """A 400 in Swift's words (``FormPost: <message>``)."""


class FormUnauthorized(Exception):
    """A 401 in Swift's words (``FormPost: <Message Titled>``)."""


class FileTooLarge(Exception):
    pass


def info() -> dict:
    """The ``formpost`` entry of /info."""
    return {"allowed_digests": sorted(tempurl.DIGESTS), "deprecated_digests": list(tempurl.DEPRECATED_DIGESTS)}


def _boundary(content_type: str) -> str | None:
    """The boundary of a multipart/form-data body, or None for any other body."""
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_type() != "multipart/form-data":
        return None
    return message.get_param("boundary")


def middleware(handler):
    """``handler`` behind Swift's formpost middleware: form uploads are served here instead."""

    @functools.wraps(handler)
    async def serve(req):
        boundary = _boundary(req.headers.get("content-type", ""))
        if boundary is None:
            return await handler(req)
        try:
            return await upload(req, boundary)
        except (FormInvalid, MimeInvalid, FileTooLarge) as error:
            text = "max_file_size exceeded" if isinstance(error, FileTooLarge) else str(error)
            return _text(400, f"FormPost: {text}")
        except FormUnauthorized as error:
            return Response(f"FormPost: {str(error).title()}", 401, media_type="text/html; charset=UTF-8")

    return serve


def _text(status: int, body: str) -> Response:
    return Response(body, status, media_type="text/plain")


async def upload(req, boundary: str) -> Response:
    reader = MultipartReader(req.raw.stream(), boundary)
    fields: dict[str, str] = {}
    status, message, count, failure = "", "", 0, None
    while (part := await reader.next_part()) is not None:
        if part.disposition == "form-data" and part.filename:
            count += 1
            if count > _integer(fields, "max_file_count"):
                status, message = "400 Bad Request", "max file count exceeded"
                break
            status, failure = await _store(req, fields, part)
            if not status.startswith("2"):
                break
        else:
            value = (await part.read(MAX_VALUE_LENGTH)).decode("utf-8", "surrogateescape")
            if part.name:
                fields[part.name.lower()] = value.rstrip("\r\n-")  # as Swift trims values
    if not status:
        status, message = "400 Bad Request", "no files to process"
    redirect = fields.get("redirect")
    if not redirect:
        if failure is not None:
            return failure
        return _text(int(status.split()[0]), status + (f"\r\nFormPost: {message.title()}" if message else ""))
    location = f"{redirect}{'&' if '?' in redirect else '?'}status={quote(status.split()[0])}&message={quote(message)}"
    body = f'<html><body><p><a href="{location}">Click to continue...</a></p></body></html>'
    return Response(body, 303, {"Location": location}, media_type="text/html; charset=UTF-8")


def _integer(fields: dict, name: str, label: str | None = None) -> int:
    try:
        return int(fields.get(name) or 0)
    except ValueError:
        raise FormInvalid(f"{label or name} not an integer") from None


def _signed_paths(req) -> list[str]:
    path = f"/v1/{req.params['account']}/{req.params['container']}"
    if "object" in req.params:
        path += "/" + req.params["object"]
    return [mount + path for mount in dict.fromkeys(("", req.prefix))]


async def _check(req, fields: dict, container) -> None:
    """401 unless the form is unexpired and signed with one of the keys; 400 for bad fields."""
    service = req.state.objectstore
    account_meta = (await asyncio.to_thread(service.account, req.params["account"]))["meta"]
    keys = [key for key, _ in tempurl.signing_keys(account_meta, container)]
    if not keys:
        raise FormUnauthorized("invalid signature")
    _integer(fields, "max_file_size")
    if _integer(fields, "expires", "expired") < time.time():
        raise FormUnauthorized("form expired")
    try:
        digest, signature = tempurl.digest_of(fields.get("signature") or "")
    except ValueError:
        raise FormUnauthorized("invalid signature") from None
    if digest not in tempurl.DIGESTS:
        raise FormUnauthorized("invalid signature")
    values = [fields.get("redirect") or ""] + [fields.get(k) or "0" for k in ("max_file_size", "max_file_count",
                                                                                "expires")]
    for path in _signed_paths(req):
        body = "\n".join([path, *values]).encode("utf-8", "surrogateescape")
        for key in keys:
            if hmac.compare_digest(signature, hmac.new(key.encode("utf-8"), body, tempurl.DIGESTS[digest]).hexdigest()):
                return
    raise FormUnauthorized("invalid signature")


async def _store(req, fields: dict, part) -> tuple[str, Response | None]:
    """Store one file part; the status line of its PUT, and its answer when it failed."""
    service = req.state.objectstore
    try:
        container = await asyncio.to_thread(service.container, req.params["account"], req.params["container"])
    except errors.SwiftNotFound:
        container = None
    await _check(req, fields, container)
    limit = _integer(fields, "max_file_size")
    delete_at = _delete_at(fields)
    name = (req.params.get("object") or "") + (part.filename or "filename")
    content_type = (fields.get("content-type") or part.content_type or mimetypes.guess_type(name)[0]
                    or "application/octet-stream")
    encoding = fields.get("content-encoding") or part.headers.get("content-encoding")

    async def capped():
        size = 0
        async for chunk in part.chunks():
            size += len(chunk)
            if size > limit:
                raise FileTooLarge()
            yield chunk

    try:
        if container is None:
            raise errors.SwiftNotFound()
        check_name(name, "object")
        await versioning.keep_current(service, container, name)
        meta = {"content-encoding": encoding} if encoding else {}
        await service.put_object(container, name, capped(), None,
                                 {"content_type": content_type, "meta": meta, "delete_at": delete_at})
    except OvercastError as error:
        return f"{error.status} {HTTPStatus(error.status).phrase}", render("swift", error)
    return "201 Created", None


def _delete_at(fields: dict) -> int | None:
    headers = {}
    for name, meaning in (("x_delete_at", "Unix timestamp"), ("x_delete_after", "Number of seconds")):
        if name in fields:
            try:
                headers[name.replace("_", "-")] = str(int(fields[name]))
            except ValueError:
                raise FormInvalid(f"{name} not an integer: {meaning} required.") from None
    try:
        return objects.delete_at_from(headers)
    except errors.SwiftBadRequest as error:
        raise FormInvalid(error.text) from None
