"""Metadef tags: names in a namespace, unique ignoring case (as on Glance's MySQL collation)."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from overcast.common.db import Database, utcnow
from overcast.image.metadefs import errors, validation
from overcast.image.metadefs.models import MetadefNamespace, MetadefTag
from overcast.image.metadefs.queries import after, check_sort, child, flush, ordered, visible_namespace

TAG_SORT_KEYS = ("created_at", "updated_at", "name")


def _tag_taken(session, namespace: MetadefNamespace, name: str, besides: int | None = None) -> bool:
    query = select(MetadefTag.id).where(MetadefTag.namespace_id == namespace.id,
                                        func.lower(MetadefTag.name) == name.lower())
    if besides is not None:
        query = query.where(MetadefTag.id != besides)
    return session.scalars(query).first() is not None


def tags_in(session, namespace: MetadefNamespace) -> list[MetadefTag]:
    """The namespace's tags, oldest first."""
    return list(session.scalars(select(MetadefTag).where(MetadefTag.namespace_id == namespace.id)
                                .order_by(MetadefTag.created_at, MetadefTag.id)))


def add_tags(session, namespace: MetadefNamespace, names: list[str], now) -> list[MetadefTag]:
    """Insert tags (409 if one is taken, or named twice, ignoring case)."""
    rows, seen = [], set()
    for name in names:
        if name.lower() in seen or _tag_taken(session, namespace, name):
            raise errors.DuplicateTag(name, namespace.namespace)
        seen.add(name.lower())
        rows.append(MetadefTag(namespace_id=namespace.id, name=name, created_at=now, updated_at=now))
    session.add_all(rows)
    flush(session, errors.DuplicateTag(", ".join(names), namespace.namespace))
    return rows


class Tags:
    """The tags of the namespaces a caller sees."""

    def __init__(self, db: Database):
        self.db = db

    def list(self, ctx, namespace: str, *, sort_key: str = "created_at", sort_dir: str = "desc",
             limit: int | None = None, marker: str | None = None) -> list[MetadefTag]:
        """One page of a namespace's tags; ``marker`` is the last tag name of the previous page."""
        check_sort(sort_key, sort_dir, TAG_SORT_KEYS)
        columns = [getattr(MetadefTag, sort_key), MetadefTag.created_at, MetadefTag.id]
        with self.db.session() as session:
            parent = visible_namespace(session, ctx, namespace)
            query = select(MetadefTag).where(MetadefTag.namespace_id == parent.id)
            if marker is not None:
                anchor = child(session, MetadefTag, parent, marker, errors.TagNotFound)
                query = query.where(after(columns, [getattr(anchor, sort_key), anchor.created_at, anchor.id],
                                          sort_dir))
            query = ordered(query, columns, sort_dir)
            return list(session.scalars(query if limit is None else query.limit(limit)))

    def get(self, ctx, namespace: str, name: str) -> MetadefTag:
        with self.db.session() as session:
            return child(session, MetadefTag, visible_namespace(session, ctx, namespace), name, errors.TagNotFound)

    def create(self, ctx, namespace: str, name: str) -> MetadefTag:
        name = validation.tag_body({"name": name})["name"]
        with self.db.session() as session:
            return add_tags(session, visible_namespace(session, ctx, namespace), [name], utcnow())[0]

    def create_many(self, ctx, namespace: str, body: dict, append: bool = False) -> list[MetadefTag]:
        """Create tags from ``{"tags": [{"name": ...}]}``; unless ``append``, they replace
        the namespace's tags (Glance's ``X-Openstack-Append`` header)."""
        names = validation.tags_body(body)
        with self.db.session() as session:
            parent = visible_namespace(session, ctx, namespace)
            if not append:
                session.execute(delete(MetadefTag).where(MetadefTag.namespace_id == parent.id))
            return add_tags(session, parent, names, utcnow())

    def update(self, ctx, namespace: str, name: str, body: dict) -> MetadefTag:
        new_name = validation.tag_body(body)["name"]
        with self.db.session() as session:
            parent = visible_namespace(session, ctx, namespace)
            row = child(session, MetadefTag, parent, name, errors.TagNotFound)
            if _tag_taken(session, parent, new_name, besides=row.id):
                raise errors.DuplicateTag(new_name, namespace)
            row.name, row.updated_at = new_name, utcnow()
            flush(session, errors.DuplicateTag(new_name, namespace))
            return row

    def delete(self, ctx, namespace: str, name: str) -> None:
        with self.db.session() as session:
            parent = visible_namespace(session, ctx, namespace)
            row = child(session, MetadefTag, parent, name, errors.TagNotFound)
            if parent.protected:
                raise errors.Protected(f"tag {name}")
            session.delete(row)
