"""Who may do what in Swift: the account owner (a token for project ``X`` with an operator
role, on account ``AUTH_X``), a ResellerAdmin anywhere, and others only as the
container's ``X-Container-Read`` / ``X-Container-Write`` ACLs say (Swift's keystoneauth
rules: ``.r:*`` public read of objects, ``.rlistings`` public listing, ``project:user``,
``project:*``, ``*:user``, and bare project ids). A valid temp URL stands in for the caller
as a :class:`TempURLGrant` (api/tempurl.py)."""

from __future__ import annotations

from dataclasses import dataclass

from overcast.common.errors import Unauthorized
from overcast.objectstore import errors

PREFIX = "AUTH_"
OPERATOR_ROLES = {"admin", "member"}
RESELLER_ROLE = "reselleradmin"


@dataclass(frozen=True)
class TempURLGrant:
    """The caller of a request signed with a temp URL key: it may act on the objects of
    ``account`` (an account key signed it) or of one ``container`` there (a container key)."""

    account: str
    container: str | None
    expires: int

    def covers(self, account: str, container) -> bool:
        name = getattr(container, "name", container)
        return account == self.account and (self.container is None or name == self.container)


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
    if ctx is None or isinstance(ctx, TempURLGrant):
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
        anonymous = ctx is None or isinstance(ctx, TempURLGrant)
        raise errors.SwiftUnauthorized() if anonymous else errors.SwiftForbidden()


def may_read(ctx, account: str, container, listing: bool) -> None:
    """Reading objects (or, with ``listing``, the container's listing)."""
    if isinstance(ctx, TempURLGrant):
        return _require_grant(ctx, account, container)
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
    if isinstance(ctx, TempURLGrant):
        return _require_grant(ctx, account, container)
    if is_owner(ctx, account):
        return
    if container is not None and _grants(ctx, _entries(container.write_acl)):
        return
    raise errors.SwiftUnauthorized() if ctx is None else errors.SwiftForbidden()


def _require_grant(grant: TempURLGrant, account: str, container) -> None:
    if container is None or not grant.covers(account, container):
        raise errors.SwiftUnauthorized()
