"""Listing servers: Nova's filters, sort keys and marker paging, as SQL where it can be.

Only ``name`` (a regular expression) is matched in Python, over rows the SQL filters
already narrowed; ``ip``/``ip6`` become the ids of the servers whose ports match;
everything else is a WHERE clause on indexed columns.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, or_, select

from overcast.compute import errors, states
from overcast.compute.models import Instance, InstanceTag

SORT_KEYS = {
    "access_ip_v4": Instance.access_ip_v4, "access_ip_v6": Instance.access_ip_v6,
    "availability_zone": Instance.availability_zone, "config_drive": Instance.config_drive,
    "created_at": Instance.created_at, "display_description": Instance.display_description,
    "display_name": Instance.display_name, "host": Instance.host, "hostname": Instance.hostname,
    "image_ref": Instance.image_ref, "instance_type_id": Instance.flavor_id, "key_name": Instance.key_name,
    "launch_index": Instance.launch_index, "launched_at": Instance.launched_at, "locked": Instance.locked,
    "memory_mb": Instance.memory_mb, "node": Instance.node, "power_state": Instance.power_state,
    "progress": Instance.progress, "project_id": Instance.project_id, "root_gb": Instance.root_gb,
    "task_state": Instance.task_state, "terminated_at": Instance.terminated_at, "updated_at": Instance.updated_at,
    "user_id": Instance.user_id, "uuid": Instance.uuid, "vcpus": Instance.vcpus, "vm_state": Instance.vm_state,
    "ephemeral_gb": Instance.ephemeral_gb, "locked_by": Instance.locked_by,
}
ADMIN_SORT_KEYS = {"host", "node", "power_state"}  # others may not sort by these (Nova ignores... no, 403)


@dataclass
class ListQuery:
    project_id: str | None  # None: every project (admin all_tenants)
    filters: dict = field(default_factory=dict)
    sort: list[tuple[str, str]] = field(default_factory=lambda: [("created_at", "desc")])
    limit: int | None = None
    marker: str | None = None
    deleted: bool = False


def parse_time(value: str, name: str) -> datetime.datetime:
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise errors.ComputeInvalid(f"Invalid input for query parameters {name}. Value: {value}.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return parsed


def _tags(column_filter: str, tags: list[str]):
    has = [exists().where(InstanceTag.instance_uuid == Instance.uuid, InstanceTag.tag == tag) for tag in tags]
    return {"tags": and_(*has), "tags-any": or_(*has), "not-tags": ~and_(*has), "not-tags-any": ~or_(*has)}[column_filter]


def clauses(query: ListQuery) -> list:
    f = query.filters
    where = []
    if query.project_id is not None:
        where.append(Instance.project_id == query.project_id)
    since = f.get("changes-since")
    if since is None and not query.deleted:
        where.append(Instance.deleted.is_(False))
    elif query.deleted and since is None:
        where.append(Instance.deleted.is_(True))
    if since is not None:
        where.append(Instance.updated_at >= since)
    if f.get("changes-before") is not None:
        where.append(Instance.updated_at <= f["changes-before"])
    if "status" in f:
        vm_states, task_states = states.vm_states_for(f["status"])
        where.append(Instance.vm_state.in_(vm_states))
        if task_states:
            where.append(Instance.task_state.in_(task_states))
    for key, column in (("image", Instance.image_ref), ("flavor", Instance.flavor_id), ("host", Instance.host),
                        ("node", Instance.node), ("user_id", Instance.user_id), ("key_name", Instance.key_name),
                        ("reservation_id", Instance.reservation_id), ("vm_state", Instance.vm_state),
                        ("task_state", Instance.task_state), ("power_state", Instance.power_state),
                        ("availability_zone", Instance.availability_zone), ("uuid", Instance.uuid),
                        ("access_ip_v4", Instance.access_ip_v4), ("access_ip_v6", Instance.access_ip_v6),
                        ("hostname", Instance.hostname), ("launch_index", Instance.launch_index)):
        if key in f:
            where.append(column == f[key])
    if "uuids" in f:  # from the ip/ip6 filters, matched against the network service's ports
        where.append(Instance.uuid.in_(sorted(f["uuids"])))
    if "locked" in f:
        where.append(Instance.locked.is_(f["locked"]))
    if "config_drive" in f:
        where.append(Instance.config_drive.is_(f["config_drive"]))
    for key in ("launched_at", "terminated_at"):
        if key in f:
            where.append(getattr(Instance, key) >= f[key])
    for key in ("tags", "tags-any", "not-tags", "not-tags-any"):
        if f.get(key):
            where.append(_tags(key, f[key]))
    return where


def run(session, query: ListQuery) -> list[Instance]:
    where = clauses(query)
    order = []
    for key, direction in query.sort:
        column = SORT_KEYS[key]
        order.append(column.desc() if direction == "desc" else column.asc())
    order.append(Instance.uuid.desc() if query.sort[-1][1] == "desc" else Instance.uuid.asc())
    statement = select(Instance).where(*where).order_by(*order)
    name = query.filters.get("name")
    pattern = None
    if name is not None:
        try:
            pattern = re.compile(name)
        except re.error:
            pattern = re.compile(re.escape(name))
    marker_row = None
    if query.marker is not None:
        marker_row = session.get(Instance, query.marker)
        if marker_row is None or (query.project_id is not None and marker_row.project_id != query.project_id):
            raise errors.ComputeInvalid(f"marker [{query.marker}] not found")
        statement = statement.where(_after(marker_row, query.sort))
    if pattern is None and query.limit is not None:
        return list(session.scalars(statement.limit(query.limit)))
    rows = []
    for row in session.scalars(statement.execution_options(yield_per=500)):
        if pattern is not None and not pattern.search(row.display_name or ""):
            continue
        rows.append(row)
        if query.limit is not None and len(rows) >= query.limit:
            break
    return rows


def _after(marker: Instance, sort: list[tuple[str, str]]):
    """Rows strictly after ``marker`` in the sort order (uuid breaks ties)."""
    keys = [(SORT_KEYS[k], d) for k, d in sort] + [(Instance.uuid, sort[-1][1])]
    alternatives = []
    for index, (column, direction) in enumerate(keys):
        value = getattr(marker, column.key)
        same = [c == getattr(marker, c.key) for c, _ in keys[:index]]
        if value is None:
            step = column.is_not(None) if direction == "asc" else None
        else:
            step = column > value if direction == "asc" else or_(column < value, column.is_(None))
        if step is not None:
            alternatives.append(and_(*same, step))
    return or_(*alternatives) if alternatives else Instance.uuid != marker.uuid
