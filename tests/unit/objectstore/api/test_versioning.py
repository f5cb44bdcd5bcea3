"""Versioning flags on containers and the archive's object names."""

from __future__ import annotations

import pytest

from overcast.objectstore import errors
from overcast.objectstore.api.versioning import container_flags, version_name

BOTH_OFF = {"x-versions-location": None, "x-history-location": None}


def test_container_flags_pick_one_mode():
    assert container_flags({"x-versions-location": "arch"}) == {"x-versions-location": "arch",
                                                                 "x-history-location": None}
    assert container_flags({"x-history-location": "arch"}) == {"x-history-location": "arch",
                                                               "x-versions-location": None}
    assert container_flags({"x-versions-location": "arch", "x-history-location": ""})["x-versions-location"] == "arch"
    assert container_flags({"x-versions-location": ""}) == BOTH_OFF
    assert container_flags({"x-remove-history-location": "x"}) == BOTH_OFF
    assert container_flags({"x-remove-versions-location": ""}) == {}
    with pytest.raises(errors.SwiftBadRequest):
        container_flags({"x-versions-location": "a", "x-history-location": "b"})
    with pytest.raises(errors.PreconditionFailed):
        container_flags({"x-versions-location": "a/b"})


def test_version_name_counts_bytes_and_pads_the_timestamp():
    assert version_name("obj", 1700000000.5) == "003obj/1700000000.50000"
    assert version_name("é", 12.0) == "002é/0000000012.00000"
