"""The files users source or point their clients at: clouds.yaml and *-openrc.sh."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import yaml

PASSWORDS = "passwords.yaml"


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def bootstrap_passwords(data_dir: Path, admin: str = "", demo: str = "") -> dict[str, str]:
    """The admin and demo passwords: given ones win, else the saved ones, else new random ones."""
    path = data_dir / PASSWORDS
    saved = yaml.safe_load(path.read_text()) if path.exists() else {}
    passwords = {
        "admin": admin or saved.get("admin") or secrets.token_urlsafe(12),
        "demo": demo or saved.get("demo") or secrets.token_urlsafe(12),
    }
    if passwords != saved:
        _write_private(path, yaml.safe_dump(passwords))
    return passwords


def _cloud(auth_url: str, user: str, password: str, project: str, region: str) -> dict:
    return {
        "auth": {
            "auth_url": auth_url,
            "username": user,
            "password": password,
            "project_name": project,
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        },
        "region_name": region,
        "identity_api_version": 3,
        "interface": "public",
    }


def _openrc(auth_url: str, user: str, password: str, project: str, region: str) -> str:
    return "\n".join(
        [
            "# overcast credentials; source this file: . ./" + f"{user}-openrc.sh",
            "for v in $(env | sed -n 's/^\\(OS_[A-Z_]*\\)=.*/\\1/p'); do unset $v; done",
            f"export OS_AUTH_URL={auth_url}",
            f"export OS_USERNAME={user}",
            f"export OS_PASSWORD='{password}'",
            f"export OS_PROJECT_NAME={project}",
            "export OS_USER_DOMAIN_NAME=Default",
            "export OS_PROJECT_DOMAIN_NAME=Default",
            f"export OS_REGION_NAME={region}",
            "export OS_IDENTITY_API_VERSION=3",
            "export OS_INTERFACE=public",
            "",
        ]
    )


def write(data_dir: Path, auth_url: str, passwords: dict, region: str, cloud_name: str = "overcast") -> Path:
    """Write clouds.yaml and admin-/demo-openrc.sh into the data dir; returns clouds.yaml's path."""
    clouds = {
        "clouds": {
            cloud_name: _cloud(auth_url, "admin", passwords["admin"], "admin", region),
            f"{cloud_name}-demo": _cloud(auth_url, "demo", passwords["demo"], "demo", region),
        }
    }
    path = data_dir / "clouds.yaml"
    _write_private(path, yaml.safe_dump(clouds, sort_keys=False))
    for user, project in (("admin", "admin"), ("demo", "demo")):
        _write_private(data_dir / f"{user}-openrc.sh", _openrc(auth_url, user, passwords[user], project, region))
    return path


def merge_user_clouds(clouds_file: Path, home: Path | None = None) -> Path:
    """Merge our entries into ~/.config/openstack/clouds.yaml (where OS_CLOUD looks)."""
    target = (home or Path.home()) / ".config" / "openstack" / "clouds.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    ours = yaml.safe_load(clouds_file.read_text())["clouds"]
    existing = yaml.safe_load(target.read_text()) if target.exists() else None
    existing = existing if isinstance(existing, dict) else {}
    existing.setdefault("clouds", {}).update(ours)
    _write_private(target, yaml.safe_dump(existing, sort_keys=False))
    return target
