"""Database backends for contract tests: SQLite always, PostgreSQL and MariaDB on loopback.

Each test gets a fresh, empty database. The servers are the ones this machine runs on
127.0.0.1 (PostgreSQL 5432 with trust auth, MariaDB 3306 as root with no password); when
one is unreachable its tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import os
import uuid

import pytest

POSTGRES = os.environ.get("OVERCAST_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MARIADB = os.environ.get("OVERCAST_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/")


def _unreachable(name: str, error: Exception):
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not reachable in CI: {error}")
    pytest.skip(f"{name} not reachable: {error}")


def _postgres_database():
    import psycopg

    name = f"overcast_{uuid.uuid4().hex[:10]}"
    admin_url = POSTGRES
    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        _unreachable("PostgreSQL", error)
    base = admin_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _mariadb_database():
    import pymysql

    name = f"overcast_{uuid.uuid4().hex[:10]}"
    try:
        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
    except pymysql.Error as error:
        _unreachable("MariaDB", error)
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    yield MARIADB.rstrip("/") + f"/{name}"
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


@pytest.fixture(params=[
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
    elif request.param == "postgres":
        yield from _postgres_database()
    else:
        yield from _mariadb_database()
