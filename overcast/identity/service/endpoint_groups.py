"""OS-EP-FILTER endpoint groups: named filters over the catalog's endpoints."""

from __future__ import annotations

import json

from sqlalchemy import select

from overcast.common.db import new_id
from overcast.identity import errors
from overcast.identity.models import EndpointGroup
from overcast.identity.service.base import SubService, must_get

FILTER_KEYS = {"service_id", "region_id", "interface"}


def _filters(value) -> dict:
    if not isinstance(value, dict) or not value or set(value) - FILTER_KEYS:
        raise errors.ValidationError(f"Invalid input for field 'filters': keys must be among {sorted(FILTER_KEYS)}")
    return value


class EndpointGroups(SubService):
    def get(self, group_id: str) -> EndpointGroup:
        with self.db.session() as session:
            return must_get(session, EndpointGroup, group_id, errors.EndpointGroupNotFound)

    def list(self, name: str | None = None) -> list[EndpointGroup]:
        query = select(EndpointGroup).order_by(EndpointGroup.name)
        if name is not None:
            query = query.where(EndpointGroup.name == name)
        with self.db.session() as session:
            return list(session.scalars(query))

    def create(self, fields: dict) -> EndpointGroup:
        with self.db.session() as session:
            row = EndpointGroup(id=new_id(), name=fields["name"], description=fields.get("description"),
                                filters=json.dumps(_filters(fields.get("filters"))))
            session.add(row)
            return row

    def update(self, group_id: str, fields: dict) -> EndpointGroup:
        with self.db.session() as session:
            row = must_get(session, EndpointGroup, group_id, errors.EndpointGroupNotFound)
            if "name" in fields:
                row.name = fields["name"]
            if "description" in fields:
                row.description = fields["description"]
            if "filters" in fields:
                row.filters = json.dumps(_filters(fields["filters"]))
            return row

    def delete(self, group_id: str) -> None:
        with self.db.session() as session:
            row = must_get(session, EndpointGroup, group_id, errors.EndpointGroupNotFound)
            session.delete(row)
