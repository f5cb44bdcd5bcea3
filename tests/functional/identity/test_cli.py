"""The real `openstack` CLI through the identity journey of the seed guides."""

from __future__ import annotations

import pytest

from conftest import random_name

pytestmark = pytest.mark.cli


def test_token_issue_as_admin_and_demo(cli):
    admin = cli.run("token", "issue")
    demo = cli.run("token", "issue", cloud_name="overcast-demo")
    assert admin["id"] and demo["id"] and admin["user_id"] != demo["user_id"]
    projects = {p["Name"]: p["ID"] for p in cli.run("project", "list")}
    assert admin["project_id"] == projects["admin"] and demo["project_id"] == projects["demo"]


def test_domain_project_user_group_role_crud(cli):
    domain, project, user, group, role = (random_name(k) for k in ("dom", "proj", "user", "grp", "role"))
    cli.run("domain", "create", domain, "--description", "d")
    cli.run("project", "create", "--domain", domain, project, "--tag", "blue")
    cli.run("user", "create", "--domain", domain, "--password", "s3cret-pw", user)
    cli.run("group", "create", "--domain", domain, group)
    cli.run("role", "create", role)
    cli.ok("group", "add", "user", "--group-domain", domain, "--user-domain", domain, group, user)
    cli.ok("role", "add", "--project", project, "--project-domain", domain, "--user", user, "--user-domain", domain,
           "member")
    cli.ok("role", "add", "--project", project, "--project-domain", domain, "--group", group, "--group-domain", domain,
           role)

    shown = cli.run("project", "show", "--domain", domain, project)
    assert shown["tags"] == ["blue"] and shown["enabled"] is True
    cli.ok("project", "set", "--domain", domain, "--description", "changed", "--disable", project)
    assert cli.run("project", "show", "--domain", domain, project)["description"] == "changed"
    contains = cli.ok("group", "contains", "user", "--group-domain", domain, "--user-domain", domain, group, user)
    assert f"{user} in group {group}" in contains
    assigned = cli.run("role", "assignment", "list", "--user", user, "--user-domain", domain, "--names")
    assert [(a["Role"], a["Project"]) for a in assigned] == [("member", f"{project}@{domain}")]
    effective = cli.run("role", "assignment", "list", "--user", user, "--user-domain", domain, "--names",
                        "--effective")
    assert {a["Role"] for a in effective} == {"member", "reader", role}
    users = [u["Name"] for u in cli.run("user", "list", "--domain", domain)]
    assert users == [user]

    cli.ok("role", "remove", "--project", project, "--project-domain", domain, "--user", user, "--user-domain",
           domain, "member")
    cli.ok("user", "delete", "--domain", domain, user)
    cli.ok("group", "delete", "--domain", domain, group)
    cli.ok("project", "delete", "--domain", domain, project)
    cli.ok("role", "delete", role)
    cli.ok("domain", "set", "--disable", domain)
    cli.ok("domain", "delete", domain)
    assert domain not in [d["Name"] for d in cli.run("domain", "list")]


def test_user_logs_in_with_assigned_role(cli, cloud):
    user, project = random_name("user"), random_name("proj")
    cli.run("project", "create", project)
    cli.run("user", "create", "--password", "pw-123456", "--project", project, user)
    cli.ok("role", "add", "--project", project, "--user", user, "member")
    env = cli.env(extra={})
    env.pop("OS_CLOUD")
    env.pop("OS_CLIENT_CONFIG_FILE")
    env.update(OS_AUTH_URL=cloud.auth_url, OS_USERNAME=user, OS_PASSWORD="pw-123456", OS_PROJECT_NAME=project,
               OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default", OS_IDENTITY_API_VERSION="3")
    token = cli.run("token", "issue", env=env)
    assert token["project_id"] == cli.run("project", "show", project)["id"]
    listed = cli.run("project", "list", "--my-projects", env=env)
    assert [p["Name"] for p in listed] == [project]


def test_catalog_service_endpoint_region(cli, cloud):
    catalog = cli.run("catalog", "list")
    identity = [c for c in catalog if c["Type"] == "identity"]
    assert identity and cloud.auth_url in str(identity[0]["Endpoints"])
    region, service = random_name("Region"), random_name("svc")
    cli.run("region", "create", region, "--description", "second")
    created = cli.run("service", "create", "--name", service, "--description", "x", "object-store")
    endpoint = cli.run("endpoint", "create", "--region", region, service, "public", "http://127.0.0.1:9/v1")
    listed = cli.run("endpoint", "list", "--service", service)
    assert [e["ID"] for e in listed] == [endpoint["id"]]
    assert region in [r["Region"] for r in cli.run("region", "list")]
    assert service in [s["Name"] for s in cli.run("service", "list")]
    cli.ok("endpoint", "delete", endpoint["id"])
    cli.ok("service", "delete", created["id"])
    cli.ok("region", "delete", region)


def test_application_credential_login(cli, cloud):
    name = random_name("appcred")
    created = cli.run("application", "credential", "create", name, "--role", "member")
    assert created["Secret"] and [r["name"] for r in created["Roles"]] == ["member"]
    env = {k: v for k, v in cli.env().items() if k not in ("OS_CLOUD", "OS_CLIENT_CONFIG_FILE")}
    env.update(OS_AUTH_TYPE="v3applicationcredential", OS_AUTH_URL=cloud.auth_url,
               OS_APPLICATION_CREDENTIAL_ID=created["ID"], OS_APPLICATION_CREDENTIAL_SECRET=created["Secret"],
               OS_IDENTITY_API_VERSION="3")
    token = cli.run("token", "issue", env=env)
    assert token["project_id"] == cli.run("token", "issue")["project_id"]
    env["OS_APPLICATION_CREDENTIAL_SECRET"] = "wrong"
    assert cli.raw("token", "issue", env=env).returncode != 0
    cli.ok("application", "credential", "delete", name)
    assert name not in [a["Name"] for a in cli.run("application", "credential", "list")]


def test_ec2_credentials_create_and_list(cli):
    created = cli.run("ec2", "credentials", "create")
    assert len(created["access"]) == 32 and created["secret"]
    listed = cli.run("ec2", "credentials", "list")
    assert created["access"] in [c["Access"] for c in listed]
    cli.ok("ec2", "credentials", "delete", created["access"])
    assert created["access"] not in [c["Access"] for c in cli.run("ec2", "credentials", "list")]


def test_member_gets_403_on_user_list(cli):
    result = cli.raw("user", "list", cloud_name="overcast-demo")
    assert result.returncode != 0
    assert "403" in result.stderr and "identity:list_users" in result.stderr


def test_old_v2_openrc_still_logs_in(cli, cloud):
    env = {k: v for k, v in cli.env().items() if k not in ("OS_CLOUD", "OS_CLIENT_CONFIG_FILE")}
    env.update(OS_AUTH_URL=f"{cloud.url}/identity/v2.0", OS_USERNAME="admin",
               OS_PASSWORD=cloud.passwords()["admin"], OS_TENANT_NAME="admin")
    token = cli.run("token", "issue", env=env)
    assert token["project_id"] == cli.run("token", "issue")["project_id"]
