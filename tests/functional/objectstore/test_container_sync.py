"""Container sync with the swift CLI (`swift post -t ... -k ...`, `upload`, `delete`):
two accounts of one cloud, and two clouds (two `overcast up` on loopback) syncing to each
other in one realm, with the ordering by X-Timestamp and the refusals Swift answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest

from cloudproc import CloudProcess, free_port
from conftest import FAST_HASH, connect, random_name
from swiftcli import swift, swift_env, token

REALM_KEY = "realm-secret"
WAIT = 60.0  # seconds a change may take to arrive (rounds every 0.3 s; the machine is shared)


@pytest.fixture(scope="module")
def clouds(tmp_path_factory):
    """Two clouds, ``a`` and ``b``, in realm ``realm1`` (clusters A and B)."""
    base = tmp_path_factory.mktemp("sync")
    ports = {"a": free_port(), "b": free_port()}
    realms = base / "container-sync-realms.conf"
    realms.write_text("[realm1]\nkey = %s\n%s" % (REALM_KEY, "".join(
        f"cluster_{name} = http://127.0.0.1:{port}/swift/v1/\n" for name, port in ports.items())))
    started = {}
    try:
        for name, port in ports.items():
            (base / name).mkdir()
            env = {**FAST_HASH, "OVERCAST_OBJECTSTORE_SYNC_REALMS": str(realms),
                   "OVERCAST_OBJECTSTORE_SYNC_INTERVAL": "0.3", "OVERCAST_OBJECTSTORE_SYNC_CURRENT": f"//realm1/{name}"}
            started[name] = CloudProcess(base / name / "data", port=port, env=env).start()
        yield started
    finally:
        for proc in started.values():
            assert proc.stop() == 0


def store(cloud, user: str = "admin"):
    conn = connect(cloud, user)
    return conn, conn.object_store.get_endpoint()


def account(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def listing(conn, url: str) -> dict:
    answer = httpx.get(url, params={"format": "json"}, headers=token(conn))
    return {item["name"]: item for item in answer.json()} if answer.status_code == 200 else {}


def wait_for(check, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not synced in {WAIT} s: {what}")


def test_info_lists_the_realm_and_marks_this_cluster(clouds):
    info = httpx.get(f"{clouds['a'].url}/swift/info").json()["container_sync"]
    assert info == {"realms": {"REALM1": {"clusters": {"A": {"current": True}, "B": {}}}}}


def test_two_accounts_of_one_cloud_sync_uploads_and_deletions(clouds, tmp_path):
    cloud = clouds["a"]
    admin, admin_url = store(cloud)
    demo, demo_url = store(cloud, "demo")
    src, dst = random_name("src"), random_name("dst")
    swift(cloud, "post", "-t", f"//realm1/a/{account(demo_url)}/{dst}", "-k", "k1", src)
    swift(cloud, "post", "-k", "k1", dst, env=swift_env(cloud, "demo"))
    stat = swift(cloud, "stat", src)
    assert f"Sync To: //realm1/a/{account(demo_url)}/{dst}" in stat and "Sync Key: k1" in stat
    (tmp_path / "one.txt").write_bytes(b"first object\n")
    (tmp_path / "two.bin").write_bytes(bytes(range(256)) * 1000)  # past the small-object path
    swift(cloud, "upload", src, "one.txt", "two.bin", "-H", "X-Object-Meta-Color: blue", cwd=tmp_path)
    wait_for(lambda: set(listing(demo, f"{demo_url}/{dst}")) == {"one.txt", "two.bin"}, "uploads")
    # the same object, down to its time: the listings are equal
    assert listing(demo, f"{demo_url}/{dst}") == listing(admin, f"{admin_url}/{src}")
    got = httpx.get(f"{demo_url}/{dst}/two.bin", headers=token(demo))
    assert got.content == bytes(range(256)) * 1000 and got.headers["x-object-meta-color"] == "blue"
    swift(cloud, "delete", src, "one.txt")
    wait_for(lambda: set(listing(demo, f"{demo_url}/{dst}")) == {"two.bin"}, "deletion")
    # the demo user sees the target but not the key of the source
    assert httpx.head(f"{admin_url}/{src}", headers=token(demo)).status_code == 403
    swift(cloud, "delete", src)
    swift(cloud, "delete", dst, env=swift_env(cloud, "demo"))


def test_two_clouds_sync_both_ways(clouds, tmp_path):
    a_conn, a_url = store(clouds["a"])
    b_conn, b_url = store(clouds["b"])
    name = random_name("both")
    swift(clouds["a"], "post", "-t", f"//realm1/b/{account(b_url)}/{name}", "-k", "shared", name)
    swift(clouds["b"], "post", "-t", f"//realm1/a/{account(a_url)}/{name}", "-k", "shared", name)
    (tmp_path / "from-a").write_bytes(b"made in a")
    (tmp_path / "from-b").write_bytes(b"made in b")
    swift(clouds["a"], "upload", name, "from-a", cwd=tmp_path)
    swift(clouds["b"], "upload", name, "from-b", cwd=tmp_path)
    wait_for(lambda: set(listing(a_conn, f"{a_url}/{name}")) == set(listing(b_conn, f"{b_url}/{name}"))
             == {"from-a", "from-b"}, "both uploads on both sides")
    assert listing(a_conn, f"{a_url}/{name}") == listing(b_conn, f"{b_url}/{name}")
    assert httpx.get(f"{a_url}/{name}/from-b", headers=token(a_conn)).content == b"made in b"
    # a newer upload in b replaces a's copy; a deletion in a reaches b
    (tmp_path / "from-a").write_bytes(b"changed in b")
    swift(clouds["b"], "upload", name, "from-a", cwd=tmp_path)
    wait_for(lambda: httpx.get(f"{a_url}/{name}/from-a", headers=token(a_conn)).content == b"changed in b",
             "the newer upload")
    swift(clouds["a"], "delete", name, "from-b")
    wait_for(lambda: set(listing(b_conn, f"{b_url}/{name}")) == {"from-a"}, "the deletion")
    time.sleep(1.0)  # a few more rounds: nothing comes back
    assert set(listing(a_conn, f"{a_url}/{name}")) == set(listing(b_conn, f"{b_url}/{name}")) == {"from-a"}
    swift(clouds["a"], "post", "-t", "", name)  # sync off on both sides before the cleanup
    swift(clouds["b"], "post", "-t", "", name)
    swift(clouds["a"], "delete", name)
    swift(clouds["b"], "delete", name)


def signed(method: str, url: str, stamp: str, user_key: str, realm_key: str = REALM_KEY) -> dict:
    nonce = uuid.uuid4().hex
    path = httpx.URL(url).raw_path.decode()
    sig = hmac.new(realm_key.encode(), f"{method}\n{path}\n{stamp}\n{nonce}\n{user_key}".encode(),
                   hashlib.sha1).hexdigest()
    return {"X-Timestamp": stamp, "X-Container-Sync-Auth": f"realm1 {nonce} {sig}"}


def test_receiving_side_keeps_the_newest_by_timestamp(clouds):
    conn, url = store(clouds["b"])
    name = random_name("recv")
    box = f"{url}/{name}"
    httpx.put(box, headers={**token(conn), "X-Container-Sync-Key": "rk"}).raise_for_status()
    obj = f"{box}/doc"
    now = time.time()
    new, old = f"{now:016.5f}", f"{now - 100:016.5f}"
    answer = httpx.put(obj, content=b"newer", headers=signed("PUT", obj, new, "rk"))
    assert answer.status_code == 201, answer.text
    head = httpx.head(obj, headers=signed("HEAD", obj, new, "rk"))
    assert head.status_code == 200 and head.headers["x-timestamp"] == new
    # older than what is there: accepted, nothing stored
    assert httpx.put(obj, content=b"older", headers=signed("PUT", obj, old, "rk")).status_code == 202
    assert httpx.get(obj, headers=token(conn)).content == b"newer"
    assert httpx.delete(obj, headers=signed("DELETE", obj, old, "rk")).status_code == 409
    # a deletion newer than the object wins, and its tombstone keeps the older upload out
    newest = f"{now + 10:016.5f}"
    assert httpx.delete(obj, headers=signed("DELETE", obj, newest, "rk")).status_code == 204
    assert httpx.put(obj, content=b"stale", headers=signed("PUT", obj, new, "rk")).status_code == 202
    assert httpx.get(obj, headers=token(conn)).status_code == 404
    # the old full-URL form: the container's key and an X-Timestamp
    keyed = {"X-Container-Sync-Key": "rk", "X-Timestamp": f"{now + 20:016.5f}"}
    assert httpx.put(obj, content=b"keyed", headers=keyed).status_code == 201
    assert httpx.put(obj, content=b"x", headers={**keyed, "X-Container-Sync-Key": "wrong"}).status_code == 401
    # a bad signature, a wrong realm key or a wrong user key: 401
    for headers in (signed("PUT", obj, newest, "other"), signed("PUT", obj, newest, "rk", "bad-realm-key"),
                    {**signed("PUT", obj, newest, "rk"), "X-Container-Sync-Auth": "realm1 nonce"}):
        answer = httpx.put(obj, content=b"x", headers=headers)
        assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("SwiftContainerSync")
    assert httpx.get(obj, headers=token(conn)).content == b"keyed"
    httpx.delete(obj, headers=token(conn))
    httpx.delete(box, headers=token(conn))


def test_bad_targets_are_refused_as_swift_does(clouds):
    conn, url = store(clouds["a"])
    box = f"{url}/{random_name('bad')}"
    headers = token(conn)
    for target, message in (("//nowhere/a/AUTH_x/c", "No realm key for 'nowhere'"),
                            ("//realm1/zz/AUTH_x/c", "No cluster endpoint for 'realm1' 'zz'"),
                            ("//realm1/a/AUTH_x", "Invalid X-Container-Sync-To format"),
                            ("ftp://127.0.0.1/v1/AUTH_x/c", "Invalid scheme 'ftp'"),
                            ("http://192.0.2.1/v1/AUTH_x/c", "Invalid host '192.0.2.1'")):
        answer = httpx.put(box, headers={**headers, "X-Container-Sync-To": target})
        assert answer.status_code == 400 and message in answer.text, (target, answer.text)
    httpx.put(box, headers={**headers, "X-Versions-Enabled": "true"}).raise_for_status()
    answer = httpx.post(box, headers={**headers, "X-Container-Sync-To": "//realm1/b/AUTH_x/c"})
    assert answer.status_code == 400 and "object versioning" in answer.text
    httpx.post(box, headers={**headers, "X-Versions-Enabled": "false"})
    httpx.delete(box, headers=headers)
    assert json.loads(httpx.get(f"{clouds['a'].url}/swift/info").text)["container_sync"]["realms"]
