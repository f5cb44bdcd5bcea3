"""Timestamps as the OpenStack APIs write them (UTC, ISO 8601 with a Z)."""

from __future__ import annotations

import datetime


def iso(moment) -> str | None:
    """2026-11-22T02:30:03.000000Z (Keystone's form); ``moment`` is a datetime or epoch seconds."""
    if moment is None:
        return None
    return _naive(moment).isoformat(timespec="microseconds") + "Z"


def iso_seconds(moment) -> str | None:
    """2026-11-22T02:30:03Z (Glance's and Nova's form, no fraction)."""
    if moment is None:
        return None
    return _naive(moment).isoformat(timespec="seconds") + "Z"


def _naive(moment) -> datetime.datetime:
    """UTC without tzinfo (isoformat then adds no offset); epoch seconds accepted."""
    if isinstance(moment, (int, float)):
        return datetime.datetime.fromtimestamp(moment, datetime.UTC).replace(tzinfo=None)
    if moment.tzinfo is not None:
        return moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment
