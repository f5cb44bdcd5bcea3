"""Object storage with the real clients: the swift CLI (python-swiftclient), the openstack
CLI, openstacksdk, and plain HTTP for public containers and the error cases."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import connect, random_name

SWIFT = str(Path(sys.executable).with_name("swift"))


def swift_env(cloud, user: str = "admin") -> dict:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("OS_")},
            "OS_AUTH_URL": cloud.auth_url, "OS_USERNAME": user, "OS_PASSWORD": cloud.passwords()[user],
            "OS_PROJECT_NAME": user, "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_AUTH_TYPE": "password", "OS_IDENTITY_API_VERSION": "3"}


def swift(cloud, *args, cwd=None, user: str = "admin") -> str:
    result = subprocess.run([SWIFT, *args], env=swift_env(cloud, user), capture_output=True, text=True, timeout=120,
                            cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def store(admin):
    return admin.object_store.get_endpoint()


def headers(conn) -> dict:
    return {"X-Auth-Token": conn.auth_token}


def test_swift_cli_upload_download_stat_post_delete_with_large_objects(cloud, tmp_path):
    data = os.urandom(2_500_000)
    (tmp_path / "blob.bin").write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    for container, extra in ((random_name("plain"), []), (random_name("dlo"), ["--segment-size", "1000000"]),
                             (random_name("slo"), ["--segment-size", "1000000", "--use-slo"])):
        swift(cloud, "upload", *extra, container, "blob.bin", cwd=tmp_path)
        assert "blob.bin" in swift(cloud, "list", container)
        swift(cloud, "download", container, "blob.bin", "-o", str(out / container), cwd=tmp_path)
        assert (out / container).read_bytes() == data
        swift(cloud, "post", "-m", "color:blue", container, "blob.bin")
        assert "Meta Color: blue" in swift(cloud, "stat", container, "blob.bin")
        swift(cloud, "delete", container)
        assert container not in swift(cloud, "list").split()
    stat = swift(cloud, "stat")
    assert "Account: AUTH_" in stat and "Containers:" in stat


@pytest.mark.cli
def test_openstack_cli_container_and_object(cli, tmp_path):
    container = random_name("osc")
    cli.run("container", "create", container)
    assert container in [row["Name"] for row in cli.run("container", "list")]
    source = tmp_path / "note.txt"
    source.write_text("hello swift\n")
    cli.run("object", "create", "--name", "note.txt", container, str(source))
    assert [row["Name"] for row in cli.run("object", "list", container)] == ["note.txt"]
    cli.ok("object", "save", "--file", str(tmp_path / "copy.txt"), container, "note.txt")
    assert (tmp_path / "copy.txt").read_text() == "hello swift\n"
    cli.ok("object", "delete", container, "note.txt")
    cli.ok("container", "delete", container)


def test_sdk_object_store_calls(demo):
    container = random_name("sdk")
    demo.object_store.create_container(name=container)
    demo.object_store.upload_object(container=container, name="a/b.txt", data=b"one")
    demo.object_store.upload_object(container=container, name="a/c.txt", data=b"two")
    names = sorted(o.name for o in demo.object_store.objects(container))
    assert names == ["a/b.txt", "a/c.txt"]
    assert demo.object_store.download_object("a/c.txt", container=container) == b"two"
    for name in names:
        demo.object_store.delete_object(name, container=container)
    demo.object_store.delete_container(container)


def test_public_read_acl_and_other_projects(cloud, admin, demo, store):
    container = random_name("pub")
    url = f"{store}/{container}"
    assert httpx.put(url, headers=headers(admin)).status_code == 201
    assert httpx.put(f"{url}/page.html", content=b"<p>hi</p>", headers=headers(admin)).status_code == 201
    assert httpx.get(f"{url}/page.html").status_code == 401
    assert httpx.get(f"{url}/page.html", headers=headers(demo)).status_code == 403
    httpx.post(url, headers={**headers(admin), "X-Container-Read": ".r:*"})
    assert httpx.get(f"{url}/page.html").content == b"<p>hi</p>"
    assert httpx.get(url).status_code == 401  # listing needs .rlistings
    httpx.post(url, headers={**headers(admin), "X-Container-Read": ".r:*,.rlistings"})
    assert httpx.get(url).text == "page.html\n"
    assert httpx.put(f"{url}/x", content=b"x", headers=headers(demo)).status_code == 403
    project = demo.current_project_id
    httpx.post(url, headers={**headers(admin), "X-Container-Write": f"{project}:*"})
    assert httpx.put(f"{url}/x", content=b"x", headers=headers(demo)).status_code == 201
    for name in ("page.html", "x"):
        httpx.delete(f"{url}/{name}", headers=headers(admin))
    assert httpx.delete(url, headers=headers(admin)).status_code == 204


def test_bad_input_answers_and_stores_nothing(cloud, admin, store, tmp_path):
    container = random_name("bad")
    url = f"{store}/{container}"
    assert httpx.get(url, headers={"X-Auth-Token": "nope"}).status_code == 401
    assert httpx.put(f"{store}/{'c' * 257}", headers=headers(admin)).status_code == 400
    httpx.put(url, headers=headers(admin))
    assert httpx.put(f"{url}/{'o' * 1025}", content=b"x", headers=headers(admin)).status_code == 400
    wrong = httpx.put(f"{url}/obj", content=b"data", headers={**headers(admin), "ETag": "0" * 32})
    assert wrong.status_code == 422
    assert httpx.get(f"{url}/obj", headers=headers(admin)).status_code == 404
    httpx.put(f"{url}/obj", content=b"data", headers=headers(admin))
    assert httpx.delete(url, headers=headers(admin)).status_code == 409
    # a client that hangs up mid-upload leaves no object and no stray file
    blobs = cloud.data_dir / "objects"
    before = sorted(p.name for p in blobs.iterdir())
    host, port = "127.0.0.1", cloud.port
    path = url.split(f":{port}", 1)[1] + "/partial"
    with socket.create_connection((host, port)) as sock:
        sock.sendall(f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nX-Auth-Token: {admin.auth_token}\r\n"
                     f"Content-Length: 1000000\r\n\r\n".encode() + b"x" * 1000)
        time.sleep(0.2)
    time.sleep(0.5)
    assert httpx.get(f"{url}/partial", headers=headers(admin)).status_code == 404
    assert sorted(p.name for p in blobs.iterdir()) == before
    httpx.delete(f"{url}/obj", headers=headers(admin))
    httpx.delete(url, headers=headers(admin))


def test_ranges_conditions_copy_expiry(cloud, admin, store):
    container = random_name("rng")
    url = f"{store}/{container}"
    httpx.put(url, headers=headers(admin))
    body = bytes(range(256)) * 4
    put = httpx.put(f"{url}/o", content=body, headers=headers(admin))
    etag = put.headers["etag"]
    assert etag == hashlib.md5(body).hexdigest()
    one = httpx.get(f"{url}/o", headers={**headers(admin), "Range": "bytes=10-19"})
    assert one.status_code == 206 and one.content == body[10:20] and one.headers["content-range"] == "bytes 10-19/1024"
    many = httpx.get(f"{url}/o", headers={**headers(admin), "Range": "bytes=0-1,-2"})
    assert many.status_code == 206 and "multipart/byteranges" in many.headers["content-type"]
    assert body[:2] in many.content and body[-2:] in many.content
    assert httpx.get(f"{url}/o", headers={**headers(admin), "Range": "bytes=5000-"}).status_code == 416
    assert httpx.get(f"{url}/o", headers={**headers(admin), "If-None-Match": etag}).status_code == 304
    assert httpx.get(f"{url}/o", headers={**headers(admin), "If-Match": "nope"}).status_code == 412
    copied = httpx.request("COPY", f"{url}/o", headers={**headers(admin), "Destination": f"{container}/o2"})
    assert copied.status_code == 201
    assert httpx.put(f"{url}/o3", headers={**headers(admin), "X-Copy-From": f"{container}/o",
                                           "Content-Length": "0"}).status_code == 201
    assert httpx.get(f"{url}/o3", headers=headers(admin)).content == body
    httpx.put(f"{url}/gone", content=b"soon", headers={**headers(admin), "X-Delete-After": "1"})
    time.sleep(1.2)
    assert httpx.get(f"{url}/gone", headers=headers(admin)).status_code == 404
    listed = httpx.get(f"{url}?format=json", headers=headers(admin)).json()
    assert [item["name"] for item in listed] == ["o", "o2", "o3"]
    for name in ("o", "o2", "o3"):
        httpx.delete(f"{url}/{name}", headers=headers(admin))
    assert httpx.delete(url, headers=headers(admin)).status_code == 204


def test_listing_delimiter_prefix_markers_formats(cloud, admin, store):
    container = random_name("lst")
    url = f"{store}/{container}"
    httpx.put(url, headers=headers(admin))
    names = ["a/1", "a/2", "b/1", "c", "d"]
    for name in names:
        httpx.put(f"{url}/{name}", content=b"x", headers=headers(admin))
    get = lambda q: httpx.get(f"{url}?{q}", headers=headers(admin)).text.split()  # noqa: E731
    assert get("delimiter=/") == ["a/", "b/", "c", "d"]
    assert get("prefix=a/") == ["a/1", "a/2"]
    assert get("marker=b/1") == ["c", "d"]
    assert get("end_marker=b") == ["a/1", "a/2"]
    assert get("reverse=on&limit=2") == ["d", "c"]
    assert get("path=a") == ["a/1", "a/2"]
    xml = httpx.get(f"{url}?format=xml", headers=headers(admin)).text
    assert xml.startswith("<?xml") and "<name>a/1</name>" in xml
    assert httpx.get(f"{url}?limit=10001", headers=headers(admin)).status_code == 412
    for name in names:
        httpx.delete(f"{url}/{name}", headers=headers(admin))
    httpx.delete(url, headers=headers(admin))
    info = httpx.get(f"{cloud.url}/swift/info").json()
    assert info["swift"]["max_file_size"] == 5 * 1024 ** 3


def test_account_metadata_and_counts(cloud, demo, store):
    demo_store = demo.object_store.get_endpoint()
    assert httpx.post(demo_store, headers={**headers(demo), "X-Account-Meta-Owner": "me"}).status_code == 204
    head = httpx.head(demo_store, headers=headers(demo))
    assert head.status_code == 204 and head.headers["x-account-meta-owner"] == "me"
    assert httpx.head(store, headers=headers(demo)).status_code == 403
    conn = connect(cloud, "demo")
    assert conn.object_store.get_account_metadata().metadata.get("owner") == "me"


def test_names_with_percent_signs_are_taken_literally(admin, store):
    container = random_name("pct")
    url = f"{store}/{container}"
    httpx.put(url, headers=headers(admin))
    assert httpx.put(f"{url}/50%2541", content=b"x", headers=headers(admin)).status_code == 201
    assert httpx.get(f"{url}?format=json", headers=headers(admin)).json()[0]["name"] == "50%41"
    assert httpx.delete(f"{url}/50%2541", headers=headers(admin)).status_code == 204
    httpx.delete(url, headers=headers(admin))
