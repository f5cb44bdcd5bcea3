"""Timestamps as the OpenStack APIs write them (UTC, ISO 8601 with a Z)."""

from __future__ import annotations

import datetime


def iso(moment) -> str | None:
    """2026-11-22T02:30:03.000000Z (Keystone's form); ``moment`` is a datetime or epoch seconds."""
    if moment is None:
        return None
    if isinstance(moment, (int, float)):
        moment = datetime.datetime.fromtimestamp(moment, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_seconds(moment) -> str | None:
    """2026-11-22T02:30:03Z (Glance's and Nova's form, no fraction)."""
    return iso(moment)[:19] + "Z" if moment is not None else None
