"""Volume test fixtures: a raw block-storage client, waiting for statuses, a small image."""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest

from conftest import random_name


class Api:
    """/volume/v3/<project> with a connection's token and an optional microversion."""

    def __init__(self, cloud, conn, version: str | None = None):
        headers = {"X-Auth-Token": conn.auth_token}
        if version:
            headers["OpenStack-API-Version"] = f"volume {version}"
        self.http = httpx.Client(base_url=f"{cloud.url}/volume/v3/{conn.current_project_id}", headers=headers,
                                 timeout=30)

    def __getattr__(self, name):
        return getattr(self.http, name)

    def wait(self, volume_id: str, status: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            got = self.http.get(f"/volumes/{volume_id}")
            body = got.json().get("volume", {}) if got.status_code == 200 else {}
            if status == "deleted" and got.status_code == 404:
                return {}
            if body.get("status") == status:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"volume {volume_id} is {body.get('status') or got.status_code}, not {status}")
            time.sleep(0.1)

    def create(self, **fields) -> dict:
        fields.setdefault("size", 1)
        fields.setdefault("name", random_name("vol"))
        got = self.http.post("/volumes", json={"volume": fields})
        assert got.status_code == 202, got.text
        return got.json()["volume"]


@pytest.fixture
def api(cloud):
    """``api(conn, version=None, target=None)``: a block-storage client for ``conn`` on the
    session's cloud (or on ``target``, another CloudProcess)."""
    made = []

    def make(conn, version=None, target=None):
        made.append(Api(target or cloud, conn, version))
        return made[-1]

    yield make
    for client in made:
        client.http.close()


@pytest.fixture(scope="module")
def raw_image(admin):
    """A public 2 MiB raw image whose first bytes are known."""
    data = b"overcast-volume-test" + b"\0" * (2 * 1024 * 1024 - 20)
    image = admin.image.create_image(name=random_name("img"), disk_format="raw", container_format="bare",
                                     visibility="public", data=data)
    admin.image.wait_for_status(image, "active", wait=30)
    yield image, data
    admin.image.delete_image(image, ignore_missing=True)


@pytest.fixture
def volume_bytes(cloud, tmp_path):
    """``volume_bytes(volume_id, count)``: the first bytes of a file volume of the session's
    cloud, as a guest reads them."""
    def read(volume_id: str, count: int) -> bytes:
        path = next((cloud.data_dir / "volumes").glob(f"volume-{volume_id}.*"))
        out = tmp_path / f"{volume_id}.raw"
        subprocess.run(["qemu-img", "convert", "-U", "-O", "raw", str(path), str(out)], check=True,
                       capture_output=True)
        with open(out, "rb") as handle:
            return handle.read(count)

    return read
