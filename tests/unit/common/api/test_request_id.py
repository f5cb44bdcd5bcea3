"""Request ids: ``req-`` and a version 4 UUID, different for every call."""

from __future__ import annotations

import uuid

from overcast.common.api.app import request_id_of_new_call


def test_request_ids_are_uuid4_and_distinct():
    ids = [request_id_of_new_call() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        assert value.startswith("req-")
        parsed = uuid.UUID(value[4:])
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == value[4:]
