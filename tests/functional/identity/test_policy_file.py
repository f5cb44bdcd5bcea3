"""A policy.yaml in oslo.policy syntax overrides the default rules, and is re-read on change."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from cloudproc import CloudProcess
from conftest import FAST_HASH


def token(cloud: CloudProcess, user: str) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": cloud.passwords()[user]}}},
        "scope": {"project": {"name": user, "domain": {"id": "default"}}}}}
    return httpx.post(f"{cloud.auth_url}/auth/tokens", json=body).headers["X-Subject-Token"]


def test_policy_file_overrides_and_reloads(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    policy = data / "policy.yaml"
    policy.write_text('"identity:list_users": "rule:admin_required or role:member"\n')
    cloud = CloudProcess(data, env=FAST_HASH).start()
    try:
        headers = {"X-Auth-Token": token(cloud, "demo")}
        assert httpx.get(f"{cloud.auth_url}/users", headers=headers).status_code == 200
        assert httpx.get(f"{cloud.auth_url}/domains", headers=headers).status_code == 403  # untouched default
        policy.write_text('"identity:list_users": "!"\n')
        time.sleep(1.2)  # the file is looked at no more than once a second
        assert httpx.get(f"{cloud.auth_url}/users", headers=headers).status_code == 403
        admin = {"X-Auth-Token": token(cloud, "admin")}
        assert httpx.get(f"{cloud.auth_url}/users", headers=admin).status_code == 403  # "!" denies everyone
    finally:
        cloud.stop()


def test_malformed_policy_file_stops_start_up_with_a_clear_error(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "policy.yaml").write_text('"identity:list_users": "role:admin or or"\n')
    result = subprocess.run([sys.executable, "-m", "overcast", "up", "--data-dir", str(data), "--port", "1"],
                            capture_output=True, text=True, timeout=60, env={**os.environ, **FAST_HASH})
    assert result.returncode == 2
    assert "policy error" in result.stderr and "identity:list_users" in result.stderr
