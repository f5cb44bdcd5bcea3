"""What the metadefs resources' queries share: the namespace lookup, child lookups, conflicts, paging.

Who sees a namespace: admins see all; others see public namespaces, namespaces without an
owner and their own project's private ones. A namespace the caller cannot see is
reported missing (404), as Glance does.
"""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from overcast.image.metadefs import errors
from overcast.image.metadefs.models import MetadefNamespace


def visibility_clause(ctx):
    """The namespaces ``ctx`` may see, as a WHERE clause; None for admins (all of them)."""
    if ctx.is_admin:
        return None
    return or_(MetadefNamespace.visibility == "public", MetadefNamespace.owner.is_(None),
               MetadefNamespace.owner == ctx.project_id)


def visible_namespace(session, ctx, name: str) -> MetadefNamespace:
    """The namespace called ``name`` if ``ctx`` sees it, else NamespaceNotFound."""
    query = select(MetadefNamespace).where(MetadefNamespace.namespace == name)
    if (clause := visibility_clause(ctx)) is not None:
        query = query.where(clause)
    row = session.scalars(query).first()
    if row is None:
        raise errors.NamespaceNotFound(name)
    return row


def child(session, model, namespace: MetadefNamespace, name: str, missing):
    """The ``model`` row called ``name`` in ``namespace``; ``missing(name, namespace)`` is raised if none."""
    row = session.scalars(select(model).where(model.namespace_id == namespace.id, model.name == name)).first()
    if row is None:
        raise missing(name, namespace.namespace)
    return row


def flush(session, conflict: errors.Conflict) -> None:
    """Flush, raising ``conflict`` if a unique constraint refuses it."""
    try:
        session.flush()
    except IntegrityError:
        raise conflict from None


# keyset paging

def nullable(column):
    return func.coalesce(column, "")  # sort and page NULLs like the empty string, on every backend


def ordered(query, columns, direction: str):
    return query.order_by(*[column.asc() if direction == "asc" else column.desc() for column in columns])


def after(columns, values, direction: str):
    """Rows strictly after ``values`` in the order of ``columns`` (keyset paging)."""
    clauses = []
    for index, column in enumerate(columns):
        beyond = column > values[index] if direction == "asc" else column < values[index]
        clauses.append(and_(*[columns[i] == values[i] for i in range(index)], beyond))
    return or_(*clauses)


def check_sort(key: str, direction: str, allowed) -> None:
    if key not in allowed:
        raise errors.MetadefInvalid(f"Invalid sort key: {key}")
    if direction not in ("asc", "desc"):
        raise errors.MetadefInvalid(f"Invalid sort direction: {direction}")
