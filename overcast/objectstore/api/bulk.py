"""Bulk operations, in front of the account, container and object handlers as Swift's bulk
middleware is: ``?bulk-delete`` (POST or DELETE) removes many objects and containers in
one request; ``?extract-archive=tar`` (PUT; api/archive.py) uploads the files of a tar.

A bulk delete's body lists url-encoded ``/container/object`` or ``/container`` paths, one a
line, at most 10000; objects go first, then containers (which must be empty by then). Each
item is checked and deleted as its own DELETE would be (versioning included), with the
same token. The answer is a 200 (api/heartbeat.py) with ``Number Deleted``, ``Number Not
Found``, ``Response Status`` (``200 OK``; else ``400 Bad Request``, or ``502 Bad Gateway``
after a server error), ``Response Body`` and ``Errors``: the paths that failed, each with
the status its DELETE got.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from urllib.parse import quote, unquote

from overcast.common.errors import OvercastError
from overcast.objectstore import errors
from overcast.objectstore.api import access, archive, objects
from overcast.objectstore.api.common import MAX_CONTAINER_NAME, MAX_OBJECT_NAME, check_name
from overcast.objectstore.api.heartbeat import LENGTH_REQUIRED, NOT_ACCEPTABLE, Abort, Run, output_format, status_line

MAX_DELETES = 10000
MAX_FAILED_DELETES = 1000
MAX_PATH = MAX_OBJECT_NAME + MAX_CONTAINER_NAME + 2
log = logging.getLogger("overcast.objectstore")


def info() -> dict:
    """The ``bulk_delete`` and ``bulk_upload`` entries of /info."""
    return {"bulk_delete": {"max_deletes_per_request": MAX_DELETES, "max_failed_deletes": MAX_FAILED_DELETES},
            "bulk_upload": archive.info()}


def middleware(handler):
    """``handler`` behind Swift's bulk middleware: bulk requests are served here instead."""

    @functools.wraps(handler)
    async def serve(req):
        if req.method in ("POST", "DELETE") and "bulk-delete" in req.query:
            return await delete(req)
        if req.method == "PUT" and "extract-archive" in req.query:
            return await archive.extract(req)
        return await handler(req)

    return serve


async def read_paths(req) -> list[str]:
    """The unquoted paths a bulk delete's body lists; Abort when it has too many or no length."""
    headers = req.headers
    if "content-length" not in headers and headers.get("transfer-encoding", "").lower() != "chunked":
        raise Abort(411, LENGTH_REQUIRED)
    paths, line = [], b""

    def take(raw: bytes) -> None:
        path = unquote(raw.strip().decode("utf-8", "surrogateescape"), errors="surrogateescape")
        if path:
            paths.append(path)
        if len(paths) > MAX_DELETES:
            raise Abort(413, f"Maximum Bulk Deletes: {MAX_DELETES} per request")

    async for chunk in req.raw.stream():
        line += chunk
        *complete, line = line.split(b"\n")
        for raw in complete:
            take(raw)
        if len(line) > MAX_PATH * 2:
            raise Abort(400, "Invalid File Name")
    take(line)
    return paths


async def delete(req):
    fmt = output_format(req.headers.get("accept"))
    run = Run(fmt, "delete", {"Response Status": "200 OK", "Response Body": "", "Number Deleted": 0,
                              "Number Not Found": 0})
    try:
        content_type = req.headers.get("content-type")
        if fmt is None or (content_type and not content_type.startswith("text/plain")):
            raise Abort(406, NOT_ACCEPTABLE)
        paths = await read_paths(req)  # all of it before answering: the answer streams
    except Abort as abort:
        run.fail(abort)
        return run.response()
    return run.response(_deleting(req, run, paths))


async def _deleting(req, run: Run, paths: list[str]):
    result = run.result
    worst = 400
    try:
        ctx = access.caller(req)
    except errors.SwiftUnauthorized:
        ctx = None  # then every item fails as an anonymous DELETE does
    account = req.params["account"]
    try:
        for path in [p for p in paths if "/" in p.strip("/")] + [p for p in paths if "/" not in p.strip("/")]:
            status = await _delete_item(req, ctx, account, path)
            if (beat := run.due()) is not None:
                yield beat
            if status // 100 == 2:
                result["Number Deleted"] += 1
            elif status == 404:
                result["Number Not Found"] += 1
            else:
                worst = 502 if status // 100 == 5 else worst
                run.failures.append([quote(path, errors="surrogateescape"), status_line(status)])
                if len(run.failures) >= MAX_FAILED_DELETES:
                    raise Abort(400, "Max delete failures exceeded")
        if run.failures:
            result["Response Status"] = status_line(worst)
        elif not (result["Number Deleted"] or result["Number Not Found"]):
            run.fail(Abort(400, "Invalid bulk delete."))
    except Abort as abort:
        run.fail(abort)
    except Exception:  # the 200 is out: the failure can only go in the body
        log.exception("bulk delete failed")
        run.fail(Abort(500))
    yield run.closing()


async def _delete_item(req, ctx, account: str, path: str) -> int:
    """The status a DELETE of ``path`` (``/container`` or ``/container/object``) gets."""
    service = req.state.objectstore
    container_name, _, name = path.lstrip("/").partition("/")
    try:
        container_name = check_name(container_name, "container")
        if not name:
            access.require_owner(ctx, account)
            await asyncio.to_thread(service.delete_container, account, container_name)
            return 204
        container = await objects.open_container(req, ctx, account, container_name, write=True)
        await objects.delete_one(service, container, check_name(name, "object"))
        return 204
    except OvercastError as error:  # each item answers as its own DELETE would; the run goes on
        return error.status
    except Exception:
        log.exception("bulk delete of %r failed", path)
        return 500
