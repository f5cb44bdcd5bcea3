"""Server groups as Nova's JSON, shaped by the requested microversion.

Below 2.64 a group shows ``policies`` (a one-item list) and an always-empty
``metadata``; from 2.64 ``policy`` and ``rules``. From 2.13 it names its project and user.
"""

from __future__ import annotations


def server_group(row, members: list[str], version) -> dict:
    body = {"id": row.uuid, "name": row.name}
    if version.at_least("2.64"):
        body["policy"] = row.policy
        body["rules"] = {key: int(value) for key, value in (row.rules or {}).items()}
    else:
        body["policies"] = [row.policy] if row.policy else []
        body["metadata"] = {}
    body["members"] = list(members)
    if version.at_least("2.13"):
        body["project_id"] = row.project_id
        body["user_id"] = row.user_id
    return body
