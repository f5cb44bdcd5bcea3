"""Domain configs, endpoint groups, OAuth1 consumers, domains seen as projects, legacy regions."""

from __future__ import annotations

import httpx
import pytest

from conftest import random_name


@pytest.fixture(scope="module")
def http(cloud, admin):
    headers = {"X-Auth-Token": admin.auth_token}
    with httpx.Client(base_url=cloud.auth_url, headers=headers, timeout=30) as client:
        yield client


def test_domain_config_lifecycle(http):
    domain = http.post("/domains", json={"domain": {"name": random_name("cfg")}}).json()["domain"]["id"]
    config = {"identity": {"driver": "ldap", "list_limit": 5}, "ldap": {"url": "ldap://127.0.0.1/", "password": "x"}}
    created = http.put(f"/domains/{domain}/config", json={"config": config})
    assert created.status_code == 201
    assert created.json()["config"] == {"identity": {"driver": "ldap", "list_limit": 5},
                                        "ldap": {"url": "ldap://127.0.0.1/"}}  # the password is never shown
    patched = http.patch(f"/domains/{domain}/config/ldap/url", json={"config": {"url": "ldap://127.0.0.2/"}})
    assert patched.json()["config"]["ldap"]["url"] == "ldap://127.0.0.2/"
    assert http.get(f"/domains/{domain}/config/identity/list_limit").json() == {"config": {"list_limit": 5}}
    assert http.delete(f"/domains/{domain}/config/ldap").status_code == 204
    assert http.get(f"/domains/{domain}/config/ldap").status_code == 404
    assert http.put(f"/domains/{domain}/config", json={"config": {"nope": {"a": 1}}}).status_code == 403
    assert http.put(f"/domains/{domain}/config", json={"config": {"ldap": {"url": 1}}}).status_code == 200
    assert "driver" in http.get("/domains/config/identity/default").json()["config"]["identity"]


def test_endpoint_group_crud(http):
    service = http.post("/services", json={"service": {"type": "network", "name": random_name("n")}}).json()
    body = {"endpoint_group": {"name": random_name("eg"), "filters": {"service_id": service["service"]["id"]}}}
    created = http.post("/OS-EP-FILTER/endpoint_groups", json=body)
    assert created.status_code == 201
    group = created.json()["endpoint_group"]
    assert group in http.get("/OS-EP-FILTER/endpoint_groups").json()["endpoint_groups"]
    path = f"/OS-EP-FILTER/endpoint_groups/{group['id']}"
    assert http.head(path).status_code == 200
    assert http.patch(path, json={"endpoint_group": {"description": "d"}}).json()["endpoint_group"]["description"] == "d"
    bad = {"endpoint_group": {"name": "x", "filters": {"colour": "red"}}}
    assert http.post("/OS-EP-FILTER/endpoint_groups", json=bad).status_code == 400
    assert http.delete(path).status_code == 204 and http.get(path).status_code == 404


def test_oauth_consumer_crud(http):
    created = http.post("/OS-OAUTH1/consumers", json={"consumer": {"description": "c"}})
    assert created.status_code == 201 and created.json()["consumer"]["secret"]
    consumer = created.json()["consumer"]
    path = f"/OS-OAUTH1/consumers/{consumer['id']}"
    shown = http.get(path).json()["consumer"]
    assert "secret" not in shown and shown["links"] == consumer["links"]
    assert http.patch(path, json={"consumer": {"description": "d"}}).json()["consumer"]["description"] == "d"
    assert http.delete(path).status_code == 204 and http.get(path).status_code == 404


def test_project_acting_as_domain(http):
    name = random_name("isdom")
    created = http.post("/projects", json={"project": {"name": name, "is_domain": True, "domain_id": None}})
    assert created.status_code == 201
    project = created.json()["project"]
    assert project["is_domain"] is True and project["domain_id"] is None
    assert project["id"] in [p["id"] for p in http.get("/projects?is_domain=true").json()["projects"]]
    assert project["id"] in [d["id"] for d in http.get("/domains").json()["domains"]]
    assert http.delete(f"/projects/{project['id']}").status_code == 403  # still enabled
    assert http.patch(f"/projects/{project['id']}", json={"project": {"enabled": False}}).status_code == 200
    assert http.delete(f"/projects/{project['id']}").status_code == 204


def test_endpoint_with_legacy_region_creates_it(http):
    region = random_name("legacy")
    service = http.post("/services", json={"service": {"type": "dns"}}).json()["service"]["id"]
    body = {"endpoint": {"service_id": service, "interface": "public", "url": "http://127.0.0.1:1/", "region": region}}
    created = http.post("/endpoints", json=body)
    assert created.status_code == 201 and created.json()["endpoint"]["region_id"] == region
    assert http.get(f"/regions/{region}").status_code == 200


def test_update_may_repeat_the_same_id_but_not_change_it(http):
    user = http.post("/users", json={"user": {"name": random_name("same")}}).json()["user"]
    assert http.patch(f"/users/{user['id']}", json={"user": {"id": user["id"], "description": "d"}}).status_code == 200
    assert http.patch(f"/users/{user['id']}", json={"user": {"id": "other"}}).status_code == 400
