"""The same cloud on PostgreSQL and RabbitMQ: the settings a multi-host deployment uses."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import httpx
import pytest

from cloudproc import CloudProcess
from conftest import FAST_HASH

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


@pytest.fixture
def postgres_url():
    import psycopg

    name = f"overcast_{uuid.uuid4().hex[:10]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL not reachable: {error}")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_cloud_on_postgres_and_rabbitmq(tmp_path, postgres_url):
    env = {**FAST_HASH, "OVERCAST_DATABASE_URL": postgres_url,
           "OVERCAST_BUS_URL": "amqp://guest:guest@127.0.0.1:5672/"}
    cloud = CloudProcess(tmp_path / "data", env=env).start()
    try:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": cloud.passwords()["admin"]}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        issued = httpx.post(f"{cloud.auth_url}/auth/tokens", json=body)
        assert issued.status_code == 201
        projects = httpx.get(f"{cloud.auth_url}/projects", headers={"X-Auth-Token": issued.headers["X-Subject-Token"]})
        assert sorted(p["name"] for p in projects.json()["projects"]) == ["admin", "demo", "service"]
        # heartbeats travelled over RabbitMQ into PostgreSQL (the first one is cast at start-up)
        for _ in range(50):
            status = subprocess.run([sys.executable, "-m", "overcast", "status", "--database-url", postgres_url],
                                    capture_output=True, text=True, timeout=60)
            if status.returncode == 0:
                break
            time.sleep(0.1)
        assert status.returncode == 0 and "overcast-identity" in status.stdout, status.stdout + status.stderr
    finally:
        assert cloud.stop() == 0
