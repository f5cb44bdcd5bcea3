"""The real `swift` CLI (python-swiftclient) against a test cloud, and the plain-HTTP
bits object storage tests share."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SWIFT = str(Path(sys.executable).with_name("swift"))


def swift_env(cloud, user: str = "admin", password: str | None = None, project: str | None = None) -> dict:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("OS_")},
            "OS_AUTH_URL": cloud.auth_url, "OS_USERNAME": user,
            "OS_PASSWORD": password if password is not None else cloud.passwords()[user],
            "OS_PROJECT_NAME": project or user, "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_AUTH_TYPE": "password", "OS_IDENTITY_API_VERSION": "3"}


def swift(cloud, *args, cwd=None, env: dict | None = None, user: str = "admin") -> str:
    """Run ``swift *args``; its stdout (fails the test when it exits non-zero)."""
    result = subprocess.run([SWIFT, *args], env=env or swift_env(cloud, user), capture_output=True, text=True,
                            timeout=120, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def token(conn) -> dict:
    """The X-Auth-Token header of an openstacksdk connection."""
    return {"X-Auth-Token": conn.auth_token}
