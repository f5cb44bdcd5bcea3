"""Stopping and starting again on the same data directory brings everything back."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import httpx

from cloudproc import CloudProcess
from overcast.services import SERVICES
from conftest import FAST_HASH, random_name


def test_restart_keeps_rows_keys_and_passwords(tmp_path):
    first = CloudProcess(tmp_path / "data", env=FAST_HASH).start()
    passwords = first.passwords()
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": passwords["admin"]}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    token = httpx.post(f"{first.auth_url}/auth/tokens", json=body).headers["X-Subject-Token"]
    name = random_name("kept")
    created = httpx.post(f"{first.auth_url}/projects", json={"project": {"name": name}},
                         headers={"X-Auth-Token": token})
    assert created.status_code == 201
    assert first.stop(signal.SIGINT) == 0

    second = CloudProcess(tmp_path / "data", env=FAST_HASH).start()  # another port, same data
    try:
        assert second.passwords() == passwords
        headers = {"X-Auth-Token": token}
        listed = httpx.get(f"{second.auth_url}/projects?name={name}", headers=headers)
        assert listed.status_code == 200 and listed.json()["projects"][0]["id"] == created.json()["project"]["id"]
        catalog = httpx.get(f"{second.auth_url}/auth/catalog", headers=headers).json()["catalog"]
        # the object store's and block storage's URLs name the token's project, as Keystone fills the template
        urls = {re.sub(r"(/AUTH_|/)[0-9a-f]{32}$", r"\1%(project_id)s", e["url"])
                for entry in catalog for e in entry["endpoints"]}
        expected = {f"{second.url}{spec.prefix}{spec.endpoint_path}" for spec in SERVICES if spec.in_catalog}
        assert urls == expected  # the catalog follows the new port
    finally:
        assert second.stop() == 0


def test_two_clouds_side_by_side_are_independent(tmp_path):
    one = CloudProcess(tmp_path / "one", env=FAST_HASH).start()
    two = CloudProcess(tmp_path / "two", env=FAST_HASH).start()
    try:
        assert one.passwords() != two.passwords()
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": one.passwords()["admin"]}}}}}
        assert httpx.post(f"{one.auth_url}/auth/tokens", json=body).status_code == 201
        assert httpx.post(f"{two.auth_url}/auth/tokens", json=body).status_code == 401
    finally:
        assert one.stop() == 0 and two.stop() == 0


def test_status_shows_services_up(tmp_path):
    cloud = CloudProcess(tmp_path / "data", env=FAST_HASH).start()
    try:
        for _ in range(50):  # the first heartbeat is cast at start-up
            result = subprocess.run([sys.executable, "-m", "overcast", "status", "--data-dir", str(cloud.data_dir)],
                                    capture_output=True, text=True, timeout=60)
            if result.returncode == 0:
                break
            time.sleep(0.1)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "overcast-identity" in result.stdout and " up " in result.stdout
    finally:
        cloud.stop()
