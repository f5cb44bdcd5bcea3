"""Waiting on a Cinder resource's status over raw HTTP, for the volume tests."""

from __future__ import annotations

import time


def wait_status(http, path: str, key: str, status: str, timeout: float = 60) -> dict:
    """GET ``path`` until its ``key`` body has ``status`` (``deleted``: until 404); the body."""
    deadline = time.monotonic() + timeout
    while True:
        got = http.get(path)
        if status == "deleted" and got.status_code == 404:
            return {}
        body = got.json().get(key, {}) if got.status_code == 200 else {}
        if body.get("status") == status:
            return body
        assert time.monotonic() < deadline, f"{path} is {body.get('status') or got.status_code}, not {status}"
        time.sleep(0.1)
