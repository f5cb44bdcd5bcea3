"""Tags on any network resource (the standard-attr-tag extension): list, check, add one,
replace all, remove one, remove all. The resource must exist and be visible; the API
checks the resource's own update (or get) rule first."""

from __future__ import annotations

from sqlalchemy import delete, select

from overcast.network.errors import InvalidInput, TagNotFound
from overcast.network.models import ResourceTag
from overcast.network.service.records import bump

MAX_TAG = 60  # Neutron's limit on one tag's length


def check_tag(tag) -> str:
    if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG or "," in tag or "/" in tag:
        raise InvalidInput(reason=f"'{tag}' is not a valid tag")
    return tag


class Tags:
    def __init__(self, db):
        self.db = db

    def list(self, resource_id: str) -> list[str]:
        with self.db.session() as session:
            return sorted(session.scalars(select(ResourceTag.tag).where(ResourceTag.resource_id == resource_id)))

    def check(self, resource_id: str, tag: str) -> None:
        with self.db.session() as session:
            if session.get(ResourceTag, (resource_id, tag)) is None:
                raise TagNotFound(tag=tag)

    def add(self, row_loader, resource_type: str, resource_id: str, tag: str) -> None:
        check_tag(tag)
        with self.db.session() as session:
            if session.get(ResourceTag, (resource_id, tag)) is None:
                session.add(ResourceTag(resource_id=resource_id, tag=tag, resource_type=resource_type))
                self._bump(session, row_loader, resource_id)

    def replace(self, row_loader, resource_type: str, resource_id: str, tags: list) -> list[str]:
        if not isinstance(tags, list):
            raise InvalidInput(reason=f"'{tags}' is not a list")
        wanted = sorted({check_tag(tag) for tag in tags})
        with self.db.session() as session:
            session.execute(delete(ResourceTag).where(ResourceTag.resource_id == resource_id))
            session.add_all(ResourceTag(resource_id=resource_id, tag=tag, resource_type=resource_type)
                            for tag in wanted)
            self._bump(session, row_loader, resource_id)
        return wanted

    def remove(self, row_loader, resource_id: str, tag: str | None = None) -> None:
        with self.db.session() as session:
            query = delete(ResourceTag).where(ResourceTag.resource_id == resource_id)
            if tag is not None:
                if session.get(ResourceTag, (resource_id, tag)) is None:
                    raise TagNotFound(tag=tag)
                query = query.where(ResourceTag.tag == tag)
            session.execute(query)
            self._bump(session, row_loader, resource_id)

    @staticmethod
    def _bump(session, row_loader, resource_id: str) -> None:
        row = row_loader(session, resource_id)
        if row is not None:
            bump(row)
