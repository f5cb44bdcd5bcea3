"""The real `openstack` and `glance` CLIs through the seed guides' image steps."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import random_name

pytestmark = pytest.mark.cli
GLANCE = str(Path(sys.executable).with_name("glance"))


@pytest.fixture(scope="module")
def qcow2(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("images") / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"], check=True)
    return path


def test_create_list_show_save_delete(cli, qcow2, tmp_path):
    name = random_name("cirros")
    created = cli.run("image", "create", "--file", str(qcow2), "--disk-format", "qcow2",
                      "--container-format", "bare", "--public", name)
    assert created["status"] == "active" and created["visibility"] == "public"
    assert created["checksum"] == hashlib.md5(qcow2.read_bytes()).hexdigest()
    assert created["virtual_size"] == 64 * 1024 * 1024 and created["size"] == qcow2.stat().st_size
    assert name in [i["Name"] for i in cli.run("image", "list")]
    assert name in [i["Name"] for i in cli.run("image", "list", cloud_name="overcast-demo")]  # public
    shown = cli.run("image", "show", name)
    assert shown["id"] == created["id"] and shown["disk_format"] == "qcow2"
    saved = tmp_path / "saved.qcow2"
    cli.ok("image", "save", "--file", str(saved), name)
    assert saved.read_bytes() == qcow2.read_bytes()
    cli.ok("image", "delete", name)
    assert name not in [i["Name"] for i in cli.run("image", "list")]


def test_set_and_unset_properties_and_tags(cli, qcow2):
    name = random_name("props")
    cli.run("image", "create", "--file", str(qcow2), "--disk-format", "qcow2", "--container-format", "bare", name)
    cli.ok("image", "set", "--property", "hw_disk_bus=virtio", "--property", "os_distro=cirros", "--tag", "seed",
           "--min-ram", "64", name)
    shown = cli.run("image", "show", name)
    assert shown["properties"]["hw_disk_bus"] == "virtio" and shown["tags"] == ["seed"] and shown["min_ram"] == 64
    cli.ok("image", "unset", "--property", "hw_disk_bus", "--tag", "seed", name)
    shown = cli.run("image", "show", name)
    assert "hw_disk_bus" not in shown["properties"] and shown["tags"] == []
    cli.ok("image", "delete", name)


def test_share_with_another_project(cli, qcow2):
    name = random_name("shared")
    image = cli.run("image", "create", "--file", str(qcow2), "--disk-format", "qcow2", "--container-format", "bare",
                    "--shared", name)
    assert name not in [i["Name"] for i in cli.run("image", "list", cloud_name="overcast-demo")]
    cli.run("image", "add", "project", image["id"], "demo")
    cli.ok("image", "set", "--accept", image["id"], cloud_name="overcast-demo")
    assert name in [i["Name"] for i in cli.run("image", "list", cloud_name="overcast-demo")]
    members = cli.run("image", "member", "list", name)
    assert [m["Status"] for m in members] == ["accepted"]
    cli.ok("image", "remove", "project", image["id"], "demo")
    assert name not in [i["Name"] for i in cli.run("image", "list", cloud_name="overcast-demo")]
    cli.ok("image", "delete", name)


def test_glance_client_image_create_with_progress(cli, cloud, qcow2):
    env = {k: v for k, v in cli.env().items() if k not in ("OS_CLOUD", "OS_CLIENT_CONFIG_FILE")}
    env.update(OS_AUTH_URL=cloud.auth_url, OS_USERNAME="admin", OS_PASSWORD=cloud.passwords()["admin"],
               OS_PROJECT_NAME="admin", OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default")
    name = random_name("glance")
    result = subprocess.run([GLANCE, "image-create", "--name", name, "--disk-format", "qcow2", "--container-format",
                             "bare", "--file", str(qcow2), "--progress"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "| status           | active" in result.stdout  # (the progress bar only draws on a terminal)
    listed = subprocess.run([GLANCE, "image-list"], env=env, capture_output=True, text=True, timeout=60)
    assert name in listed.stdout
    cli.ok("image", "delete", name)
