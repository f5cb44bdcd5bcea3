"""Extract archive (Swift's bulk middleware): ``PUT /v1/<account>[/<path>]?extract-archive=tar``
(or ``tar.gz``, ``tar.bz2``) stores each regular file of the tar as an object at
``<path>/<name in the tar>``; the first part of that is the container, created when
missing (files that would land at the account's top level are skipped). Each file is
stored as its own PUT would be, with the same token (versioning included), the request's
``X-Object-Meta-*`` and ``X-Delete-At``/``-After``, and the tar's ``user.mime_type`` /
``user.meta.*`` extended attributes as content type and metadata.

The answer is a 200 (api/heartbeat.py) with ``Number Files Created``, ``Response Status``
(``201 Created``; ``400 Bad Request`` for a tar with no file or a failure, ``502 Bad
Gateway`` after a server error), ``Response Body`` and ``Errors``. The body is spooled
(memory, then a temp file) before the answer starts.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import tarfile
import tempfile
import zlib
from urllib.parse import quote

from overcast.common.errors import OvercastError
from overcast.objectstore import errors
from overcast.objectstore.api import access, objects, versioning
from overcast.objectstore.api.common import MAX_CONTAINER_NAME, MAX_OBJECT_NAME, check_meta, check_name
from overcast.objectstore.api.heartbeat import LENGTH_REQUIRED, NOT_ACCEPTABLE, Abort, Run, output_format, status_line
from overcast.objectstore.service import MAX_OBJECT_SIZE

KINDS = {"tar": "", "tar.gz": "gz", "tar.bz2": "bz2"}
MAX_CONTAINERS = 10000
MAX_FAILED = 1000
MAX_PATH = MAX_OBJECT_NAME + MAX_CONTAINER_NAME + 2
SPOOL_IN_MEMORY = 8 * 1024 * 1024
CHUNK = 64 * 1024
UNAUTHORIZED = ("<html><h1>Unauthorized</h1><p>This server could not verify that you are authorized to access "
                "the document you requested.</p></html>")
XATTR_PREFIXES = ("SCHILY.xattr.user.", "LIBARCHIVE.xattr.user.")
log = logging.getLogger("overcast.objectstore")


def info() -> dict:
    """The ``bulk_upload`` entry of /info."""
    return {"max_containers_per_extraction": MAX_CONTAINERS, "max_failed_extractions": MAX_FAILED}


async def extract(req):
    kind = KINDS.get(req.query["extract-archive"].lower().strip("."))
    if kind is None:
        raise errors.SwiftBadRequest("Unsupported archive format")
    fmt = output_format(req.headers.get("accept"))
    run = Run(fmt, "extract", {"Response Status": "201 Created", "Response Body": "", "Number Files Created": 0})
    try:
        if fmt is None:
            raise Abort(406, NOT_ACCEPTABLE)
        if "content-length" not in req.headers and req.headers.get("transfer-encoding", "").lower() != "chunked":
            raise Abort(411, LENGTH_REQUIRED)
    except Abort as abort:
        run.fail(abort)
        return run.response()
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    async for chunk in req.raw.stream():
        await asyncio.to_thread(spool.write, chunk)
    spool.seek(0)
    return run.response(_extracting(req, run, spool, kind))


def _base(req) -> str:
    """Where the tar's files go: "" (the account), a container, or a container and a prefix."""
    parts = [req.params.get("container") or "", req.params.get("object") or ""]
    return "/".join(part for part in parts if part).rstrip("/")


async def _extracting(req, run: Run, spool, kind: str):
    account, base = req.params["account"], _base(req)
    try:
        ctx = access.caller(req)
    except errors.SwiftUnauthorized:
        ctx = None
    accessed: set[str] = set()
    created = 0
    worst = 400
    try:
        tar = await asyncio.to_thread(tarfile.open, mode=f"r|{kind}", fileobj=spool)
        while True:
            if (beat := run.due()) is not None:
                yield beat
            member = await asyncio.to_thread(tar.next)
            if member is None or len(run.failures) >= MAX_FAILED:
                break
            if not member.isfile():
                continue
            path = member.name[2:] if member.name.startswith("./") else member.name
            path = path.lstrip("/")
            path = f"{base}/{path}" if base else path
            if "/" not in path:
                continue  # a file at the top level: no container to put it in
            shown = quote(path[:MAX_PATH], errors="surrogateescape")
            if member.size > MAX_OBJECT_SIZE:
                run.failures.append([shown, status_line(413)])
                continue
            container_name, name = path.split("/", 1)
            container_failure = None
            if container_name not in accessed:
                try:
                    if await _make_container(req, ctx, account, container_name):
                        created += 1
                        if created > MAX_CONTAINERS:
                            raise Abort(400, f"More than {MAX_CONTAINERS} containers to create from tar.")
                except (errors.SwiftBadRequest, errors.PreconditionFailed):
                    run.failures.append([shown, status_line(400)])
                    continue
                except OvercastError as error:  # the upload may still work, through an ACL
                    container_failure = [quote(f"/v1/{account}/{container_name}"[:MAX_PATH]), status_line(error.status)]
                    if error.status == 401:
                        raise Abort(401, UNAUTHORIZED) from None
            status = await _put_member(req, ctx, account, container_name, name, tar, member)
            accessed.add(container_name)
            if status // 100 == 2:
                run.result["Number Files Created"] += 1
                continue
            if container_failure:
                run.failures.append(container_failure)
            if status == 401:
                run.failures.append([shown, status_line(401)])
                raise Abort(401, UNAUTHORIZED)
            worst = 502 if status // 100 == 5 else worst
            run.failures.append([shown, status_line(status)])
        if run.failures:
            run.result["Response Status"] = status_line(worst)
        elif not run.result["Number Files Created"]:
            run.fail(Abort(400, "Invalid Tar File: No Valid Files"))
    except Abort as abort:
        run.fail(abort)
    except (tarfile.TarError, zlib.error, EOFError, OSError) as error:
        run.fail(Abort(400, f"Invalid Tar File: {error}"))
    except Exception:  # the 200 is out: the failure can only go in the body
        log.exception("extract archive failed")
        run.fail(Abort(500))
    finally:
        spool.close()
    yield run.closing()


async def _make_container(req, ctx, account: str, name: str) -> bool:
    """Create the container unless it exists (True when created)."""
    service = req.state.objectstore
    name = check_name(quote(name), "container")  # the tar's names are not url-encoded
    try:
        await asyncio.to_thread(service.container, account, name)
        return False
    except errors.SwiftNotFound:
        access.require_owner(ctx, account)
    return await asyncio.to_thread(service.put_container, account, name, {}, {})


async def _put_member(req, ctx, account: str, container_name: str, name: str, tar, member) -> int:
    """The status the PUT of one file of the tar gets."""
    service = req.state.objectstore
    try:
        container = await objects.open_container(req, ctx, account, check_name(quote(container_name), "container"),
                                                 write=True)
        name = check_name(quote(name), "object")
        fields = _fields(req, name, member)
        await versioning.keep_current(service, container, name)
        reader = await asyncio.to_thread(tar.extractfile, member)

        async def chunks():
            while data := await asyncio.to_thread(reader.read, CHUNK):
                yield data

        await service.put_object(container, name, chunks(), member.size, fields)
        return 201
    except OvercastError as error:  # each file answers as its own PUT would; the run goes on
        return error.status
    except (tarfile.TarError, zlib.error, EOFError, OSError):
        raise  # the tar itself is broken: the run stops
    except Exception:
        log.exception("extracting %r failed", name)
        return 500


def _fields(req, name: str, member) -> dict:
    meta = {key.lower(): value for key, value in req.headers.items() if key.lower().startswith("x-object-meta-")}
    content_type = None
    for key, value in member.pax_headers.items():
        for prefix in XATTR_PREFIXES:
            if key == prefix + "mime_type":
                content_type = value
            elif key.startswith(prefix + "meta."):
                meta["x-object-meta-" + key[len(prefix + "meta."):].lower()] = value
    check_meta(meta)
    return {"content_type": content_type or mimetypes.guess_type(name)[0] or "application/octet-stream",
            "meta": meta, "delete_at": objects.delete_at_from(req.headers)}
