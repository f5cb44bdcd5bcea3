"""Container sync realms: the realms file, X-Container-Sync-To checks, signatures."""

from __future__ import annotations

import pytest

from overcast.objectstore import errors
from overcast.objectstore.sync_realms import SyncRealms, auth_valid, signature


@pytest.fixture
def realms(tmp_path):
    path = tmp_path / "container-sync-realms.conf"
    path.write_text("[DEFAULT]\nmtime_check_interval = 300\n"
                    "[Realm1]\nkey = k1\nkey2 = k2\ncluster_East = http://127.0.0.1:8080/swift/v1/\n"
                    "[empty]\nkey = k3\n")
    return SyncRealms(str(path), current="//realm1/east")


def test_realms_file_is_read_case_insensitively(realms):
    assert sorted(realms.realms()) == ["EMPTY", "REALM1"]
    assert realms.keys("realm1") == ["k1", "k2"] and realms.keys("nope") == []
    assert realms.endpoint("REALM1", "east") == "http://127.0.0.1:8080/swift/v1/"
    assert realms.info() == {"realms": {"REALM1": {"clusters": {"EAST": {"current": True}}}}}


def test_realm_targets_resolve_to_the_cluster_url(realms):
    target = realms.target("//realm1/east/AUTH_p/box/")
    assert (target.url, target.realm, target.realm_key) == ("http://127.0.0.1:8080/swift/v1/AUTH_p/box", "REALM1", "k1")
    assert realms.target("") is None


@pytest.mark.parametrize("value, message", [
    ("//realm1/east/AUTH_p", "Invalid X-Container-Sync-To format"),
    ("//other/east/AUTH_p/c", "No realm key for 'other'"),
    ("//empty/east/AUTH_p/c", "No cluster endpoint for 'empty' 'east'"),
    ("gopher://127.0.0.1/v1/a/c", "Invalid scheme 'gopher'"),
    ("http://127.0.0.1", "Path required"),
    ("http://127.0.0.1/v1/a/c?x=1", "Params, queries, and fragments not allowed"),
    ("http://10.1.1.1/v1/a/c", "Invalid host '10.1.1.1'"),
])
def test_bad_targets_are_400_with_swifts_message(realms, value, message):
    with pytest.raises(errors.SwiftBadRequest, match=message.replace("?", r"\?")):
        realms.target(value)


def test_full_urls_only_where_allowed(tmp_path):
    assert SyncRealms(allowed_hosts="127.0.0.1, ::1").target("http://127.0.0.1:8/v1/a/c").realm is None
    with pytest.raises(errors.SwiftBadRequest, match="Full URLs are not allowed"):
        SyncRealms(allow_full_urls=False).target("http://127.0.0.1:8/v1/a/c")


def test_signature_checks_method_path_timestamp_and_both_keys():
    sig = signature("PUT", "/v1/a/c/o", "1700000000.00000", "n1", "k2", "user")
    header = f"REALM1 n1 {sig}"
    assert auth_valid(header, "PUT", ["/v1/a/c/o"], "1700000000.00000", ["k1", "k2"], "user")
    assert not auth_valid(header, "DELETE", ["/v1/a/c/o"], "1700000000.00000", ["k1", "k2"], "user")
    assert not auth_valid(header, "PUT", ["/v1/a/c/p"], "1700000000.00000", ["k1", "k2"], "user")
    assert not auth_valid(header, "PUT", ["/v1/a/c/o"], "1700000000.00001", ["k1", "k2"], "user")
    assert not auth_valid(header, "PUT", ["/v1/a/c/o"], "1700000000.00000", ["k1"], "user")
    assert not auth_valid(header, "PUT", ["/v1/a/c/o"], "1700000000.00000", ["k1", "k2"], None)
    assert not auth_valid("REALM1 n1", "PUT", ["/v1/a/c/o"], "1700000000.00000", ["k2"], "user")
