"""What every network resource's logic shares: standard attributes as a dict, tags,
revision bumps, and who may see what."""

from __future__ import annotations

from sqlalchemy import or_, select

from overcast.common.db import utcnow
from overcast.common.times import iso_seconds
from overcast.network.models import Network, ResourceTag


def standard(row, tags: list[str] | None = None) -> dict:
    """id, name, project, description, tags, timestamps and revision of ``row``."""
    return {"id": row.id, "name": row.name, "tenant_id": row.project_id, "project_id": row.project_id,
            "description": row.description or "", "tags": sorted(tags or []),
            "created_at": iso_seconds(row.created_at), "updated_at": iso_seconds(row.updated_at),
            "revision_number": row.revision_number}


def tags_of(session, ids: list[str]) -> dict[str, list[str]]:
    """Resource id -> its tags, for a page of resources in one query."""
    found: dict[str, list[str]] = {}
    if not ids:
        return found
    for chunk in range(0, len(ids), 500):
        query = select(ResourceTag.resource_id, ResourceTag.tag).where(
            ResourceTag.resource_id.in_(ids[chunk:chunk + 500]))
        for resource_id, tag in session.execute(query):
            found.setdefault(resource_id, []).append(tag)
    return found


def bump(row) -> None:
    """Count an update: a new revision number and updated_at."""
    row.revision_number = (row.revision_number or 0) + 1
    row.updated_at = utcnow()


def apply(row, values: dict, columns: dict[str, str] | None = None) -> None:
    """Set ``values`` (API names) on ``row``; ``columns`` maps API names to other column names."""
    columns = columns or {}
    for name, value in values.items():
        setattr(row, columns.get(name, name), value)


def own(model, ctx):
    """The SQL condition for rows of the caller's project (everything for admins)."""
    if ctx.is_admin:
        return True
    return model.project_id == (ctx.project_id or "")


def visible_networks(ctx):
    """Networks the caller sees: its own, shared and external ones (all for admins)."""
    if ctx.is_admin:
        return True
    return or_(Network.project_id == (ctx.project_id or ""), Network.shared.is_(True), Network.external.is_(True))
