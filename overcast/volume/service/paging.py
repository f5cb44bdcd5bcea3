"""One page of an ordered list of rows, as Cinder pages its listings."""

from __future__ import annotations

from overcast.volume import errors


def page(rows: list, marker: str | None, limit: int | None, offset: int = 0) -> list:
    """The rows after the one whose id is ``marker`` (400 MarkerNotFound when absent), then
    ``offset`` skipped and at most ``limit`` kept."""
    if marker:
        index = next((i for i, r in enumerate(rows) if r.id == marker), None)
        if index is None:
            raise errors.MarkerNotFound(marker)
        rows = rows[index + 1:]
    rows = rows[offset:]
    return rows[:limit] if limit is not None else rows
