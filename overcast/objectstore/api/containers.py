"""/v1/{account} and /v1/{account}/{container}: listings, metadata, create, delete."""

from __future__ import annotations

import asyncio

from overcast.common.errors import MethodNotAllowed
from overcast.objectstore import errors
from overcast.objectstore.api import access, container_sync, object_versioning, symlink, versioning
from overcast.objectstore.api.common import (check_name, empty, http_date, iso, listing_from, meta_from, meta_headers,
                                             render_listing, wanted_format)

OWNER_ONLY = ("x-container-meta-temp-url-key", "x-container-meta-temp-url-key-2",
              *container_sync.OWNER_ONLY)  # Swift's swift_owner_headers


def _svc(req):
    return req.state.objectstore


def _account_headers(info: dict) -> dict[str, str]:
    return {"X-Account-Container-Count": str(info["containers"]), "X-Account-Object-Count": str(info["objects"]),
            "X-Account-Bytes-Used": str(info["bytes"]), "X-Timestamp": f"{info['created']:.5f}",
            "X-Account-Storage-Policy-Policy-0-Container-Count": str(info["containers"]),
            "X-Account-Storage-Policy-Policy-0-Object-Count": str(info["objects"]),
            "X-Account-Storage-Policy-Policy-0-Bytes-Used": str(info["bytes"]),
            **meta_headers(info["meta"])}


async def account_get(req):
    account = req.params["account"]
    ctx = access.caller(req)
    access.require_owner(ctx, account)
    listing = listing_from(req.query)
    info = await asyncio.to_thread(_svc(req).account, account)
    headers = _account_headers(info)
    if req.method == "HEAD":  # the counts, without reading a page of the listing
        return empty(204, headers)
    rows = await asyncio.to_thread(_svc(req).list_containers, account, listing)
    items = [{"subdir": row} if isinstance(row, str) else
             {"name": row.name, "count": row.object_count, "bytes": row.bytes_used,
              "last_modified": iso(row.updated_at)} for row in rows]
    return render_listing(wanted_format(req), "account", account, items, headers)


async def account_post(req):
    account = req.params["account"]
    ctx = access.caller(req)
    access.require_owner(ctx, account)
    meta = meta_from(req.headers, "account")
    for kind in ("bytes", "count"):  # Swift 2.34's X-Account-Quota-*, kept as the older meta form
        if f"x-account-quota-{kind}" in req.headers:
            meta[f"x-account-meta-quota-{kind}"] = req.headers[f"x-account-quota-{kind}"]
    if any(key.startswith("x-account-meta-quota-") for key in meta) and access.RESELLER_ROLE not in ctx.roles:
        raise errors.SwiftForbidden()  # only a reseller admin sets an account's quota
    await asyncio.to_thread(_svc(req).update_account, account, meta)
    return empty(204)


async def account_refused(req):
    """PUT and DELETE of an account: Swift refuses them unless it manages accounts (it does not)."""
    error = MethodNotAllowed("The method is not allowed for this resource.")
    error.headers["Allow"] = "GET, HEAD, OPTIONS, POST"
    raise error


def _acls(req) -> dict:
    acls = {}
    for header, column in (("x-container-read", "read_acl"), ("x-container-write", "write_acl")):
        if header in req.headers:
            acls[column] = req.headers[header]
        elif f"x-remove-{header[2:]}" in req.headers:
            acls[column] = None
    return acls


def _container_meta(req) -> dict:
    meta = meta_from(req.headers, "container")
    meta.update(versioning.container_flags(req.headers))
    meta.update(container_sync.settings(req, _svc(req)))
    return meta


async def _check_versioning(req, account: str, name: str, meta: dict) -> None:
    """Legacy and newer object versioning exclude each other on one container (400)."""
    flags = {key: meta[key] for key in (versioning.VERSIONS, versioning.HISTORY) if key in meta}
    if any(flags.values()) or object_versioning.HEADER in req.headers:
        try:
            row = await asyncio.to_thread(_svc(req).container, account, name)
        except errors.SwiftNotFound:
            return
        object_versioning.check_legacy(req, row.meta, flags)


async def container_put(req):
    account, name = req.params["account"], check_name(req.params["container"], "container")
    ctx = access.caller(req)
    access.require_owner(ctx, account)
    meta = _container_meta(req)
    await _check_versioning(req, account, name, meta)
    await container_sync.check_versioning(req, _svc(req), account, name, meta)
    created = await asyncio.to_thread(_svc(req).put_container, account, name, meta, _acls(req))
    await object_versioning.configure(req, _svc(req), account, name)
    return empty(201 if created else 202)


async def container_post(req):
    account, name = req.params["account"], check_name(req.params["container"], "container")
    ctx = access.caller(req)
    access.require_owner(ctx, account)
    meta = _container_meta(req)
    await _check_versioning(req, account, name, meta)
    await container_sync.check_versioning(req, _svc(req), account, name, meta)
    await asyncio.to_thread(_svc(req).update_container, account, name, meta, _acls(req))
    await object_versioning.configure(req, _svc(req), account, name)
    return empty(204)


async def container_delete(req):
    account, name = req.params["account"], check_name(req.params["container"], "container")
    ctx = access.caller(req)
    access.require_owner(ctx, account)
    await asyncio.to_thread(_svc(req).delete_container, account, name)
    return empty(204)


def container_headers(row, owner: bool) -> dict[str, str]:
    meta = {k: v for k, v in object_versioning.shown_meta(row.meta).items() if owner or k not in OWNER_ONLY}
    headers = {"X-Container-Object-Count": str(row.object_count), "X-Container-Bytes-Used": str(row.bytes_used),
               "X-Timestamp": f"{row.created_at:.5f}", "X-Storage-Policy": "Policy-0",
               "Last-Modified": http_date(row.updated_at), **meta_headers(meta)}
    if owner:
        if row.read_acl:
            headers["X-Container-Read"] = row.read_acl
        if row.write_acl:
            headers["X-Container-Write"] = row.write_acl
    return headers


async def container_get(req):
    account, name = req.params["account"], check_name(req.params["container"], "container")
    ctx = access.caller(req)
    access.project_of(account)
    try:
        row = await asyncio.to_thread(_svc(req).container, account, name)
    except errors.SwiftNotFound:
        access.require_owner(ctx, account)  # others learn nothing about what is missing
        raise
    access.may_read(ctx, account, row, listing=True)
    listing = listing_from(req.query)
    if req.method == "HEAD":  # the counters, without reading a page of the listing
        await asyncio.to_thread(_svc(req).sweep, row)
        row = await asyncio.to_thread(_svc(req).container, account, name)  # counters after reaping
        return empty(204, await _headers(req, ctx, account, row))
    fmt = wanted_format(req)
    if "versions" in req.query:
        return await object_versioning.listing(req, row, listing, fmt, await _headers(req, ctx, account, row))
    rows = await asyncio.to_thread(_svc(req).list_objects, row, listing)
    row = await asyncio.to_thread(_svc(req).container, account, name)  # counters after reaping
    headers = await _headers(req, ctx, account, row)
    items = [{"subdir": obj} if isinstance(obj, str) else
             {"hash": obj.meta.get("x-slo-etag", obj.etag), "last_modified": iso(obj.last_modified),
              "bytes": int(obj.meta.get("x-slo-size", obj.size)), "name": obj.name,
              "content_type": obj.content_type,
              **(symlink.listing_fields(obj, account) if fmt == "json" else {})} for obj in rows]
    return render_listing(fmt, "container", name, items, headers)


async def _headers(req, ctx, account: str, row) -> dict[str, str]:
    headers = container_headers(row, access.is_owner(ctx, account))
    if object_versioning.versions.archive_name(row.meta):  # older versions count as the container's bytes
        archived = await asyncio.to_thread(_svc(req).versions.archived_bytes, row)
        headers["X-Container-Bytes-Used"] = str(row.bytes_used + archived)
    return headers
