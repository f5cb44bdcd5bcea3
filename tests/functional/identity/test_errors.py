"""Bad input gets Keystone's status and error body, and leaves nothing half-made."""

from __future__ import annotations

import httpx
import pytest

from conftest import random_name


@pytest.fixture(scope="module")
def http(cloud):
    with httpx.Client(base_url=cloud.auth_url, timeout=30) as client:
        yield client


def password_body(user: str, password: str, project: str | None = "admin", domain: str = "Default") -> dict:
    auth = {"identity": {"methods": ["password"], "password": {
        "user": {"name": user, "domain": {"name": domain}, "password": password}}}}
    if project:
        auth["scope"] = {"project": {"name": project, "domain": {"name": domain}}}
    return {"auth": auth}


@pytest.fixture(scope="module")
def admin_token(cloud, http):
    response = http.post("/auth/tokens", json=password_body("admin", cloud.passwords()["admin"]))
    return response.headers["X-Subject-Token"]


def assert_error(response, status: int):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-openstack-request-id"].startswith("req-")
    error = response.json()["error"]
    assert error["code"] == status and error["title"] and error["message"]
    return error


def test_malformed_json_is_400(http, admin_token):
    response = http.post("/projects", content=b"{not json", headers={"X-Auth-Token": admin_token,
                                                                      "Content-Type": "application/json"})
    assert_error(response, 400)


@pytest.mark.parametrize("body", [
    {},
    {"project": "x"},
    {"project": {"description": "no name"}},
    {"project": {"name": 5}},
    {"project": {"name": "ok", "enabled": "yes"}},
    {"project": {"name": "x" * 65}},
    {"project": {"name": "ok", "tags": ["a/b"]}},
])
def test_wrong_types_and_missing_fields_are_400(http, admin_token, body):
    response = http.post("/projects", json=body, headers={"X-Auth-Token": admin_token})
    assert_error(response, 400)


def test_login_failures_share_one_401_message(cloud, http, admin_token):
    headers = {"X-Auth-Token": admin_token}
    disabled = random_name("off")
    http.post("/users", json={"user": {"name": disabled, "password": "pw-x-1", "enabled": False}}, headers=headers)
    project = random_name("offproj")
    project_id = http.post("/projects", json={"project": {"name": project, "enabled": False}},
                           headers=headers).json()["project"]["id"]
    admin_id = http.get("/users?name=admin", headers=headers).json()["users"][0]["id"]
    member = http.get("/roles?name=member", headers=headers).json()["roles"][0]["id"]
    http.put(f"/projects/{project_id}/users/{admin_id}/roles/{member}", headers=headers)
    attempts = [
        password_body("admin", "wrong-password"),
        password_body("no-such-user", "whatever"),
        password_body(disabled, "pw-x-1", project=None),
        password_body("admin", cloud.passwords()["admin"], project=project),
        password_body("admin", cloud.passwords()["admin"], project="no-such-project"),
    ]
    messages = {assert_error(http.post("/auth/tokens", json=body), 401)["message"] for body in attempts}
    assert len(messages) == 1


def test_duplicate_name_in_domain_is_409_and_leaves_one_row(http, admin_token):
    headers = {"X-Auth-Token": admin_token}
    name = random_name("dup")
    assert http.post("/projects", json={"project": {"name": name}}, headers=headers).status_code == 201
    assert_error(http.post("/projects", json={"project": {"name": name}}, headers=headers), 409)
    assert len(http.get(f"/projects?name={name}", headers=headers).json()["projects"]) == 1
    user = random_name("dupuser")
    assert http.post("/users", json={"user": {"name": user}}, headers=headers).status_code == 201
    assert_error(http.post("/users", json={"user": {"name": user, "password": "p"}}, headers=headers), 409)


def test_failed_create_leaves_no_partial_rows(http, admin_token):
    headers = {"X-Auth-Token": admin_token}
    name = random_name("orphan")
    body = {"user": {"name": name, "domain_id": "no-such-domain", "password": "pw"}}
    assert_error(http.post("/users", json=body, headers=headers), 404)  # Keystone: DomainNotFound
    assert http.get(f"/users?name={name}", headers=headers).json()["users"] == []


def test_unknown_ids_are_404(http, admin_token):
    headers = {"X-Auth-Token": admin_token}
    for path in ("/projects/nope", "/users/nope", "/groups/nope", "/roles/nope", "/domains/nope",
                 "/regions/nope", "/services/nope", "/endpoints/nope", "/credentials/nope", "/policies/nope"):
        assert_error(http.get(path, headers=headers), 404)
    assert_error(http.get("/no/such/path", headers=headers), 404)


def test_no_token_is_401_with_www_authenticate(http):
    response = http.get("/projects")
    assert_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Keystone uri=")
    assert_error(http.get("/projects", headers={"X-Auth-Token": "garbage"}), 401)


def test_revoked_token_404_on_validate_401_on_use(cloud, http, admin_token):
    subject = http.post("/auth/tokens", json=password_body("admin", cloud.passwords()["admin"]))
    token = subject.headers["X-Subject-Token"]
    both = {"X-Auth-Token": admin_token, "X-Subject-Token": token}
    assert http.get("/auth/tokens", headers=both).status_code == 200
    assert http.head("/auth/tokens", headers=both).status_code == 200
    assert http.get("/projects", headers={"X-Auth-Token": token}).status_code == 200
    assert http.delete("/auth/tokens", headers=both).status_code == 204
    assert_error(http.get("/auth/tokens", headers=both), 404)
    assert_error(http.get("/projects", headers={"X-Auth-Token": token}), 401)
    assert http.get("/projects", headers={"X-Auth-Token": admin_token}).status_code == 200


def test_member_forbidden_on_admin_apis(cloud, http):
    demo = http.post("/auth/tokens", json=password_body("demo", cloud.passwords()["demo"], project="demo"))
    headers = {"X-Auth-Token": demo.headers["X-Subject-Token"]}
    for method, path, body in [("GET", "/users", None), ("POST", "/projects", {"project": {"name": "x"}}),
                               ("GET", "/domains", None), ("POST", "/roles", {"role": {"name": "x"}})]:
        assert_error(http.request(method, path, json=body, headers=headers), 403)
    assert http.get("/auth/projects", headers=headers).json()["projects"][0]["name"] == "demo"


def test_removed_role_revokes_scoped_tokens(cloud, http, admin_token):
    headers = {"X-Auth-Token": admin_token}
    user, project = random_name("rv"), random_name("rvp")
    user_id = http.post("/users", json={"user": {"name": user, "password": "pw-rv-1"}}, headers=headers).json()["user"]["id"]
    project_id = http.post("/projects", json={"project": {"name": project}}, headers=headers).json()["project"]["id"]
    member = http.get("/roles?name=member", headers=headers).json()["roles"][0]["id"]
    grant = f"/projects/{project_id}/users/{user_id}/roles/{member}"
    assert http.put(grant, headers=headers).status_code == 204
    token = http.post("/auth/tokens", json=password_body(user, "pw-rv-1", project=project)).headers["X-Subject-Token"]
    assert http.get("/auth/catalog", headers={"X-Auth-Token": token}).status_code == 200
    assert http.delete(grant, headers=headers).status_code == 204
    assert_error(http.get("/auth/catalog", headers={"X-Auth-Token": token}), 401)
    assert_error(http.post("/auth/tokens", json=password_body(user, "pw-rv-1", project=project)), 401)


def test_unimplemented_operation_is_501(http, admin_token):
    assert_error(http.get("/OS-TRUST/trusts", headers={"X-Auth-Token": admin_token}), 501)


def test_wrong_method_is_405_with_allow(http, admin_token):
    response = http.request("PUT", "/projects", headers={"X-Auth-Token": admin_token})
    assert_error(response, 405)
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
