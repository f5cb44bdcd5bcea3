"""Who may do what in Swift: the account owner (a token for project ``X`` with an operator
role, on account ``AUTH_X``), a ResellerAdmin anywhere, and others only as the
container's ``X-Container-Read`` / ``X-Container-Write`` ACLs say (Swift's keystoneauth
rules: ``.r:*`` public read of objects, ``.rlistings`` public listing, ``project:user``,
``project:*``, ``*:user``, and bare project ids)."""

from __future__ import annotations

from overcast.common.errors import Unauthorized
from overcast.objectstore import errors

PREFIX = "AUTH_"
OPERATOR_ROLES = {"admin", "member"}
RESELLER_ROLE = "reselleradmin"


def caller(req):
    """The caller's context, or None for an anonymous request (no token). A bad token is 401."""
    if not req.headers.get("x-auth-token"):
        return None
    try:
        return req.state.authenticator.authenticate(req.headers, req.context.request_id)
    except Unauthorized:
        raise errors.SwiftUnauthorized() from None


def project_of(account: str) -> str:
    if not account.startswith(PREFIX) or len(account) == len(PREFIX):
        raise errors.SwiftNotFound()
    return account[len(PREFIX):]


def is_owner(ctx, account: str) -> bool:
    if ctx is None:
        return False
    if RESELLER_ROLE in ctx.roles:
        return True
    return ctx.project_id == project_of(account) and bool(OPERATOR_ROLES & set(ctx.roles))


def _entries(acl: str | None) -> list[str]:
    return [entry.strip() for entry in (acl or "").split(",") if entry.strip()]


def _grants(ctx, entries: list[str]) -> bool:
    if ctx is None:
        return False
    names = {ctx.project_id, getattr(ctx, "project_name", None)}
    users = {ctx.user_id}
    for entry in entries:
        if entry.startswith("."):
            continue
        project, sep, user = entry.partition(":")
        if not sep:
            if project in names or project == "*":
                return True
            continue
        if (project == "*" or project in names) and (user == "*" or user in users):
            return True
    return False


def require_owner(ctx, account: str) -> None:
    if not is_owner(ctx, account):
        raise errors.SwiftUnauthorized() if ctx is None else errors.SwiftForbidden()


def may_read(ctx, account: str, container, listing: bool) -> None:
    """Reading objects (or, with ``listing``, the container's listing)."""
    if is_owner(ctx, account):
        return
    entries = _entries(container.read_acl if container is not None else None)
    public = any(e.startswith(".r:") and not e.startswith(".r:-") for e in entries)
    if public and (not listing or ".rlistings" in entries):
        return
    if _grants(ctx, entries):
        return
    raise errors.SwiftUnauthorized() if ctx is None else errors.SwiftForbidden()


def may_write(ctx, account: str, container) -> None:
    if is_owner(ctx, account):
        return
    if container is not None and _grants(ctx, _entries(container.write_acl)):
        return
    raise errors.SwiftUnauthorized() if ctx is None else errors.SwiftForbidden()
