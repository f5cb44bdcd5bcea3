"""Symlinks, as Swift's symlink middleware keeps them.

A symlink is a zero-byte object PUT with ``X-Symlink-Target: <container>/<object>`` (and
``X-Symlink-Target-Account``; the link's own account when left out). Its metadata keeps the
target under the header names; nothing else about it is special (its Content-Type is
``application/symlink`` unless given). ``X-Symlink-Target-Etag`` makes a static link: at
PUT the target must exist (409 otherwise) with that ETag (409 on a mismatch), and its size
and Content-Type are kept; following a static link whose target changed since is a 409
too. Static links are followed through other static links; a dynamic link is not a valid
target for one.

GET and HEAD follow the link (as the caller: its access to the target container counts),
through at most ``SYMLOOP_MAX`` links (then 409), and answer with the target object plus a
``Content-Location`` naming it; a missing target is a 404. ``?symlink=get`` answers with
the link itself and its ``X-Symlink-*`` headers. A POST to a link changes the link's
metadata and answers 307 with the target as ``Location``; a POST may not set a target
(400). COPY and ``X-Copy-From`` copy the target (``?symlink=get``: the link). JSON listings
show ``symlink_path`` (``/v1/<account>/<container>/<object>``), and static links their
``symlink_etag`` and ``symlink_bytes``.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote, unquote

from overcast.common.errors import OvercastError
from overcast.objectstore import errors
from overcast.objectstore.api import access
from overcast.objectstore.api.common import check_name

SYMLOOP_MAX = 2  # Swift's default symloop_max
TARGET, ACCOUNT = "x-symlink-target", "x-symlink-target-account"
ETAG, BYTES = "x-symlink-target-etag", "x-symlink-target-bytes"
HEADERS = (TARGET, ACCOUNT, ETAG, BYTES)
FORM = "X-Symlink-Target header must be of the form <container name>/<object name>"


class SymlinkRedirect(OvercastError):
    status = 307
    title = "Temporary Redirect"
    message = "The requested POST was applied to a symlink. POST directly to the target to apply requested metadata."


def info() -> dict:
    """The ``symlink`` entry of /info."""
    return {"symloop_max": SYMLOOP_MAX, "static_links": True}


def is_link(row) -> bool:
    return bool(row is not None and (row.meta or {}).get(TARGET))


def wants_link(req) -> bool:
    """``?symlink=get``: the request is about the link itself, not its target."""
    return req.query.get("symlink") == "get"


def target_of(row, account: str) -> tuple[str, str, str]:
    """(account, container, object) a link points at."""
    container, _, name = unquote(row.meta[TARGET]).partition("/")
    return row.meta.get(ACCOUNT) or account, container, name


def path_of(row, account: str) -> str:
    """The target as Swift names it in Content-Location, Location and listings."""
    return f"/v1/{row.meta.get(ACCOUNT) or account}/{row.meta[TARGET]}"


def _parse_target(headers, account: str, container: str, name: str) -> tuple[str, str, str]:
    value = unquote(headers[TARGET])
    if value.startswith("/"):
        raise errors.PreconditionFailed(FORM)
    target_container, _, target_name = value.partition("/")
    if not target_container or not target_name:
        raise errors.PreconditionFailed(FORM)
    check_name(target_container, "container")
    check_name(target_name, "object")
    target_account = account
    if ACCOUNT in headers:
        target_account = unquote(headers[ACCOUNT])
        if not target_account:
            raise errors.PreconditionFailed("Account name cannot be empty")
        if "/" in target_account:
            raise errors.PreconditionFailed("Account name cannot contain slashes")
    if (target_account, target_container, target_name) == (account, container, name):
        raise errors.SwiftBadRequest("Symlink cannot target itself")
    return target_account, target_container, target_name


async def empty_body():
    """A link's body: nothing."""
    return
    yield b""


async def _no_body(req) -> None:
    headers = req.headers
    if "content-length" in headers:
        if headers["content-length"] != "0":
            raise errors.SwiftBadRequest("Symlink requests require a zero byte body")
        return
    async for chunk in req.raw.stream():  # chunked: the body must turn out empty
        if chunk:
            raise errors.SwiftBadRequest("Symlink requests require a zero byte body")


async def link_fields(req, ctx, account: str, container, name: str, fields: dict) -> dict:
    """The fields of a link PUT (``fields`` as the upload would set them, updated); 400 for
    a body, 412 for a malformed target, 409 for a static link to a missing or other object."""
    headers = req.headers
    await _no_body(req)
    target = _parse_target(headers, account, container.name, name)
    meta = {**fields["meta"], TARGET: quote(f"{target[1]}/{target[2]}")}
    if ACCOUNT in headers:
        meta[ACCOUNT] = quote(target[0])
    etag = headers.get(ETAG)
    etag = etag.strip('"') if etag else None
    if etag and any(char in etag for char in ';"\\'):
        raise errors.SwiftBadRequest("Bad X-Symlink-Target-Etag format")
    if "content-type" not in headers and not etag:
        fields = {**fields, "content_type": "application/symlink"}
    if etag:
        location = f"/v1/{quote(target[0])}/{meta[TARGET]}"
        row = await _reach(req, ctx, target, location, etag, follow_soft=False)
        if row is None:
            raise _conflict("X-Symlink-Target does not exist", location)
        meta[ETAG], meta[BYTES] = etag, str(_size(row))
        if "content-type" not in headers:
            fields = {**fields, "content_type": row.content_type}
    return {**fields, "meta": meta}


def _size(row) -> int:
    return int(row.meta.get("x-slo-size", row.size))


def _etag(row) -> str:
    return row.meta.get("x-slo-etag", row.etag)


def _conflict(text: str, location: str) -> errors.SwiftConflict:
    error = errors.SwiftConflict(text)
    error.headers["Content-Location"] = location
    return error


async def _find(req, ctx, account: str, container_name: str, name: str):
    """(container, object or None) at a target, as ``ctx`` may read it (401/403 as a GET);
    None when the container is missing."""
    service = req.state.objectstore
    access.project_of(account)
    try:
        box, row = await asyncio.to_thread(service.locate, account, container_name, name)
    except errors.SwiftNotFound:
        access.require_owner(ctx, account)
        return None
    access.may_read(ctx, account, box, listing=False)
    return box, row


async def _reach(req, ctx, target: tuple[str, str, str], location: str, etag: str | None, follow_soft: bool):
    """The object a static link's ``target`` ends at (None when missing), checked against
    ``etag`` the way Swift walks links: static links are always followed, dynamic ones only
    when ``follow_soft``."""
    found = await _find(req, ctx, *target)
    if found is None or found[1] is None:
        return None
    return (await _walk(req, ctx, target[0], *found, etag, location, 0, follow_soft))[1]


async def _walk(req, ctx, account: str, container, row, etag, location, hops: int, follow_soft: bool = True):
    """(container, object, Content-Location) at the end of the links from ``row``."""
    while is_link(row) and (row.meta.get(ETAG) or follow_soft):
        if etag and etag != (row.meta.get(ETAG) or row.etag):
            raise _conflict("X-Symlink-Target-Etag headers do not match", location)
        if hops >= SYMLOOP_MAX:
            raise errors.SwiftConflict(f"Too many levels of symbolic links, maximum allowed is {SYMLOOP_MAX}")
        etag, location = row.meta.get(ETAG), path_of(row, account)
        account, container_name, name = target_of(row, account)
        found = await _find(req, ctx, account, container_name, name)
        if found is None or found[1] is None:
            error = errors.SwiftNotFound()
            error.headers["Content-Location"] = location
            raise error
        container, row = found
        hops += 1
    if etag and etag != _etag(row):
        raise _conflict(f"Object Etag {_etag(row)!r} does not match X-Symlink-Target-Etag header {etag!r}", location)
    return container, row, location


async def follow(req, ctx, account: str, container, row):
    """(container, object row, Content-Location or None) at the end of ``row``'s links; 404
    for a missing target, 409 past SYMLOOP_MAX links or for a changed static target."""
    return await _walk(req, ctx, account, container, row, None, None, 0)


def own_headers(row) -> dict[str, str]:
    """The ``X-Symlink-*`` headers of a link answered with ``?symlink=get``."""
    return {key.title(): row.meta[key] for key in HEADERS if row.meta.get(key)}


def redirect(row, account: str) -> SymlinkRedirect:
    """The 307 of a POST to a link."""
    error = SymlinkRedirect()
    error.headers["Location"] = path_of(row, account)
    if row.meta.get(ETAG):
        error.headers["X-Symlink-Target-Etag"] = row.meta[ETAG]
    return error


def kept(meta: dict) -> dict:
    """The link's own keys, which a POST keeps (Swift keeps them as sysmeta)."""
    return {key: meta[key] for key in HEADERS if key in (meta or {})}


def listing_fields(row, account: str) -> dict:
    """What a JSON listing adds for a link."""
    if not is_link(row):
        return {}
    fields = {"symlink_path": path_of(row, account)}
    if row.meta.get(ETAG):
        fields.update(symlink_etag=row.meta[ETAG], symlink_bytes=int(row.meta.get(BYTES, 0)))
    return fields
