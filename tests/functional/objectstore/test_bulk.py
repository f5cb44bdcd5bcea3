"""Bulk delete and extract archive: the swift CLI's bulk deletes, and plain HTTP for the
answer formats and the failures."""

from __future__ import annotations

import io
import subprocess
import tarfile

import httpx
import pytest

from conftest import connect, random_name
from swiftcli import SWIFT, swift_env, token


@pytest.fixture(scope="module")
def store(admin):
    return admin.object_store.get_endpoint()


@pytest.fixture
def newcomer(cloud, admin):
    """A user alone in a new project (its account starts empty); (user name, password, connection)."""
    project = admin.identity.create_project(name=random_name("bulk"), domain_id="default")
    password = random_name("pw")
    user = admin.identity.create_user(name=random_name("bulk"), password=password, domain_id="default",
                                      default_project_id=project.id)
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    yield user.name, password, connect(cloud, user.name, password=password, project=project.name), project.name
    admin.identity.delete_user(user)
    admin.identity.delete_project(project)


def bulk(url: str, conn, lines: list[str], method: str = "POST", accept: str | None = "application/json", **extra):
    headers = {**(token(conn) if conn is not None else {}), **({"Accept": accept} if accept else {}), **extra}
    answer = httpx.request(method, f"{url}?bulk-delete", content="\n".join(lines).encode(), headers=headers)
    assert answer.status_code == 200
    return answer.json() if accept == "application/json" else answer.text


def test_swift_cli_deletes_everything_in_bulk(cloud, newcomer, tmp_path):
    name, password, conn, project = newcomer
    env = swift_env(cloud, name, password=password, project=project)
    for index in range(6):
        (tmp_path / f"f{index}").write_text(str(index))
    for container in ("one", "two"):
        subprocess.run([SWIFT, "upload", container, *[f"f{i}" for i in range(6)]], env=env, cwd=tmp_path,
                       check=True, capture_output=True)
    # with one thread per kind, more than 2 objects go through ?bulk-delete
    run = subprocess.run([SWIFT, "--debug", "delete", "--object-threads", "1", "one"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "bulk-delete" in run.stderr
    # --all implies --versions: the listing has version ids (null here), deleted one by one, as with Swift
    run = subprocess.run([SWIFT, "delete", "--all", "--object-threads", "1"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert httpx.get(conn.object_store.get_endpoint(), headers=token(conn)).status_code == 204  # no container left


def test_bulk_delete_counts_and_reports_failures(admin, store):
    box, empty_box, full_box = random_name("bd"), random_name("bd-empty"), random_name("bd-full")
    for container in (box, empty_box, full_box):
        httpx.put(f"{store}/{container}", headers=token(admin)).raise_for_status()
    for name in ("a", "sp ace", "keep"):
        httpx.put(f"{store}/{box}/{name}", content=b"x", headers=token(admin)).raise_for_status()
    httpx.put(f"{store}/{full_box}/x", content=b"x", headers=token(admin)).raise_for_status()
    result = bulk(store, admin, [f"/{empty_box}", f"/{box}/a", f"{box}/sp%20ace", f"/{box}/missing", f"/{full_box}",
                                 "/no-such-container", ""])
    assert result == {"Number Deleted": 3, "Number Not Found": 2, "Response Status": "400 Bad Request",
                      "Response Body": "", "Errors": [[f"/{full_box}", "409 Conflict"]]}
    assert httpx.head(f"{store}/{empty_box}", headers=token(admin)).status_code == 404
    text = bulk(store + "/", admin, [f"/{full_box}/x", f"/{full_box}"], method="DELETE", accept=None)
    assert text.strip().splitlines() == ["Number Deleted: 2", "Number Not Found: 0", "Response Body: ",
                                         "Response Status: 200 OK", "Errors:"]
    xml = bulk(store, admin, [f"/{box}/missing"], accept="application/xml")
    assert xml.startswith("<delete>\n<number_deleted>0</number_deleted>\n<number_not_found>1</number_not_found>")
    assert httpx.get(f"{store}/{box}?format=json", headers=token(admin)).json()[0]["name"] == "keep"
    httpx.delete(f"{store}/{box}/keep", headers=token(admin))
    httpx.delete(f"{store}/{box}", headers=token(admin))


def test_bulk_delete_refusals(admin, demo, store):
    box = random_name("bd-auth")
    httpx.put(f"{store}/{box}", headers=token(admin)).raise_for_status()
    httpx.put(f"{store}/{box}/o", content=b"x", headers=token(admin)).raise_for_status()
    anonymous = bulk(store, None, [f"/{box}/o", f"/{box}"])
    assert anonymous["Errors"] == [[f"/{box}/o", "401 Unauthorized"], [f"/{box}", "401 Unauthorized"]]
    other = bulk(store, demo, [f"/{box}/o"])
    assert other["Errors"] == [[f"/{box}/o", "403 Forbidden"]] and other["Response Status"] == "400 Bad Request"
    too_many = bulk(store, admin, [f"/{box}/o{i}" for i in range(10001)])
    assert too_many["Response Status"] == "413 Request Entity Too Large"
    assert too_many["Response Body"] == "Maximum Bulk Deletes: 10000 per request"
    assert bulk(store, admin, [])["Response Body"] == "Invalid bulk delete."
    assert "406 Not Acceptable" in bulk(store, admin, [f"/{box}/o"], accept="image/png")
    wrong_type = bulk(store, admin, [f"/{box}/o"], **{"Content-Type": "application/json"})
    assert wrong_type["Response Status"] == "406 Not Acceptable"
    assert httpx.get(f"{store}/{box}/o", headers=token(admin)).status_code == 200  # all that left it alone
    assert bulk(f"{store}/{box}", admin, [f"/{box}/o", f"/{box}"])["Number Deleted"] == 2  # a container URL too


def test_bulk_delete_in_a_versioned_container_restores(admin, store):
    box, archive = random_name("bd-ver"), random_name("bd-arch")
    httpx.put(f"{store}/{archive}", headers=token(admin)).raise_for_status()
    httpx.put(f"{store}/{box}", headers={**token(admin), "X-Versions-Location": archive}).raise_for_status()
    for body in (b"old", b"new"):
        httpx.put(f"{store}/{box}/o", content=body, headers=token(admin)).raise_for_status()
    assert bulk(store, admin, [f"/{box}/o"])["Number Deleted"] == 1
    assert httpx.get(f"{store}/{box}/o", headers=token(admin)).content == b"old"
    assert bulk(store, admin, [f"/{box}/o", f"/{box}", f"/{archive}"])["Number Deleted"] == 3


def tar_of(files: dict[str, bytes], mode: str = "w", pax: dict | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode, format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.pax_headers = dict(pax or {})
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_extract_archive_uploads_a_tar(admin, store):
    box = random_name("ea")
    body = tar_of({f"{box}/a.txt": b"alpha", f"{box}/dir/b.bin": b"beta", "top-level.txt": b"skipped"},
                  pax={"SCHILY.xattr.user.mime_type": "text/x-custom", "SCHILY.xattr.user.meta.lunch": "soup"})
    answer = httpx.put(f"{store}/?extract-archive=tar", content=body,
                       headers={**token(admin), "Accept": "application/json", "X-Object-Meta-Batch": "7"})
    assert answer.status_code == 200
    assert answer.json() == {"Response Status": "201 Created", "Response Body": "", "Number Files Created": 2,
                             "Errors": []}
    got = httpx.get(f"{store}/{box}/dir/b.bin", headers=token(admin))
    assert got.content == b"beta" and got.headers["content-type"] == "text/x-custom"
    assert got.headers["x-object-meta-lunch"] == "soup" and got.headers["x-object-meta-batch"] == "7"
    # into a container and a prefix, gzipped
    gz = tar_of({"c.txt": b"gamma", "./d/e.txt": b"delta"}, mode="w:gz")
    answer = httpx.put(f"{store}/{box}/under?extract-archive=tar.gz", content=gz, headers=token(admin))
    assert answer.status_code == 200 and "Number Files Created: 2" in answer.text
    assert httpx.get(f"{store}/{box}/under/d/e.txt", headers=token(admin)).content == b"delta"
    bad = httpx.put(f"{store}/?extract-archive=tar", content=b"not a tar" * 100,
                    headers={**token(admin), "Accept": "application/json"}).json()
    assert bad["Response Status"] == "400 Bad Request" and bad["Response Body"].startswith("Invalid Tar File")
    assert httpx.put(f"{store}/?extract-archive=zip", content=b"", headers=token(admin)).status_code == 400
    assert httpx.put(store, headers=token(admin)).status_code == 405  # a plain account PUT
    names = [item["name"] for item in httpx.get(f"{store}/{box}?format=json", headers=token(admin)).json()]
    assert sorted(names) == ["a.txt", "dir/b.bin", "under/c.txt", "under/d/e.txt"]
    result = bulk(store, admin, [f"/{box}/{name}" for name in names] + [f"/{box}"])
    assert result["Number Deleted"] == 5


def test_bulk_in_info(cloud):
    info = httpx.get(f"{cloud.url}/swift/info").json()
    assert info["bulk_delete"] == {"max_deletes_per_request": 10000, "max_failed_deletes": 1000}
    assert info["bulk_upload"]["max_containers_per_extraction"] == 10000
