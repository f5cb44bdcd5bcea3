"""openstacksdk against a real overcast: the identity resources as the SDK uses them."""

from __future__ import annotations

import keystoneauth1.exceptions
import openstack.exceptions as exc
import pytest

from conftest import connect, random_name


@pytest.fixture
def project(admin):
    created = admin.identity.create_project(name=random_name("proj"), domain_id="default", tags=["a"])
    yield created
    admin.identity.delete_project(created, ignore_missing=True)


@pytest.fixture
def user(admin, project):
    created = admin.identity.create_user(name=random_name("user"), password="pw-sdk-1", domain_id="default",
                                         default_project_id=project.id)
    yield created
    admin.identity.delete_user(created, ignore_missing=True)


def test_project_crud_and_tags(admin, project):
    assert admin.identity.get_project(project.id).tags == ["a"]
    admin.identity.update_project(project, description="new", tags=["a", "b"])
    fetched = admin.identity.get_project(project.id)
    assert fetched.description == "new" and sorted(fetched.tags) == ["a", "b"]
    assert [p.id for p in admin.identity.projects(tags="b")] == [project.id]
    assert project.id not in [p.id for p in admin.identity.projects(**{"not-tags": "b"})]
    assert admin.identity.find_project(project.name).id == project.id


def test_child_project_and_leaf_rule(admin, project):
    child = admin.identity.create_project(name=random_name("child"), parent_id=project.id)
    assert child.parent_id == project.id and child.domain_id == "default"
    with pytest.raises(exc.ForbiddenException):
        admin.identity.delete_project(project)
    admin.identity.delete_project(child)


def test_user_password_change_and_login(cloud, admin, user, project):
    role = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, user, role)
    conn = connect(cloud, user.name, "pw-sdk-1", project.name)
    assert conn.identity.get_token() and conn.current_project_id == project.id
    body = {"user": {"password": "pw-sdk-2", "original_password": "pw-sdk-1"}}
    assert conn.identity.post(f"/users/{user.id}/password", json=body).status_code == 204
    assert connect(cloud, user.name, "pw-sdk-2", project.name).identity.get_token()
    with pytest.raises(keystoneauth1.exceptions.Unauthorized):
        connect(cloud, user.name, "pw-sdk-1", project.name).identity.get_token()


def test_default_project_scopes_token_without_scope(cloud, admin, user, project):
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("reader"))
    session = connect(cloud, user.name, "pw-sdk-1", project.name).session
    body = {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": user.name, "domain": {"id": "default"}, "password": "pw-sdk-1"}}}}}
    response = session.post(f"{cloud.auth_url}/auth/tokens", json=body, authenticated=False)
    assert response.status_code == 201
    token = response.json()["token"]
    assert token["project"]["id"] == project.id
    assert [r["name"] for r in token["roles"]] == ["reader"]


def test_groups_and_membership(admin, user):
    group = admin.identity.create_group(name=random_name("grp"), domain_id="default")
    admin.identity.add_user_to_group(user, group)
    assert admin.identity.check_user_in_group(user, group)
    assert [u.id for u in admin.identity.group_users(group)] == [user.id]
    admin.identity.remove_user_from_group(user, group)
    assert not admin.identity.check_user_in_group(user, group)
    admin.identity.delete_group(group)


def test_roles_and_implied_roles(admin):
    prior = admin.identity.create_role(name=random_name("prior"))
    implied = admin.identity.create_role(name=random_name("implied"))
    session = admin.identity
    response = session.put(f"/roles/{prior.id}/implies/{implied.id}")
    assert response.status_code == 201
    assert response.json()["role_inference"]["implies"]["id"] == implied.id
    listed = session.get(f"/roles/{prior.id}/implies").json()["role_inference"]["implies"]
    assert [r["id"] for r in listed] == [implied.id]
    assert session.put(f"/roles/{implied.id}/implies/{prior.id}").status_code == 403  # no cycles
    admin.identity.delete_role(prior)
    admin.identity.delete_role(implied)


def test_system_scope_token(cloud, admin):
    session = admin.session
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": cloud.passwords()["admin"]}}},
        "scope": {"system": {"all": True}}}}
    response = session.post(f"{cloud.auth_url}/auth/tokens", json=body, authenticated=False)
    assert response.status_code == 201
    assert response.json()["token"]["system"] == {"all": True}
    assert "admin" in [r["name"] for r in response.json()["token"]["roles"]]


def test_role_assignments_filters_and_names(admin, user, project):
    role = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, user, role)
    found = list(admin.identity.role_assignments(user_id=user.id, scope_project_id=project.id))
    assert [(a.role["id"], a.scope["project"]["id"]) for a in found] == [(role.id, project.id)]
    response = admin.identity.get(f"/role_assignments?user.id={user.id}&effective&include_names")
    names = sorted(a["role"]["name"] for a in response.json()["role_assignments"])
    assert names == ["member", "reader"]
    admin.identity.unassign_project_role_from_user(project, user, role)
    assert not list(admin.identity.role_assignments(user_id=user.id))


def test_regions_services_endpoints(admin):
    region = admin.identity.create_region(id=random_name("Region"), description="r")
    service = admin.identity.create_service(type="image", name=random_name("glance"))
    endpoint = admin.identity.create_endpoint(service_id=service.id, interface="internal", url="http://127.0.0.1:9/",
                                              region_id=region.id)
    assert admin.identity.get_endpoint(endpoint.id).url == "http://127.0.0.1:9/"
    assert endpoint.id in [e.id for e in admin.identity.endpoints(service_id=service.id)]
    admin.identity.delete_endpoint(endpoint)
    admin.identity.delete_service(service)
    admin.identity.delete_region(region)


def test_credentials_blob_roundtrip(admin):
    user_id = admin.current_user_id
    credential = admin.identity.create_credential(type="cert", blob="secret-blob", user_id=user_id)
    assert admin.identity.get_credential(credential.id).blob == "secret-blob"
    admin.identity.delete_credential(credential)


def test_application_credential_restricted(cloud, admin):
    created = admin.identity.create_application_credential(admin.current_user_id, random_name("ac"))
    conn = connect(cloud, auth_type="v3applicationcredential",
                   application_credential_id=created.id, application_credential_secret=created.secret)
    assert conn.identity.get_token()
    with pytest.raises(exc.HttpException) as raised:  # restricted: may not make more
        conn.identity.create_application_credential(admin.current_user_id, random_name("ac"))
    assert raised.value.status_code == 403
    admin.identity.delete_application_credential(admin.current_user_id, created)


def test_domain_disable_blocks_login(cloud, admin):
    domain = admin.identity.create_domain(name=random_name("dom"))
    project = admin.identity.create_project(name="p", domain_id=domain.id)
    user = admin.identity.create_user(name="u", password="pw-dom-1", domain_id=domain.id)
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    auth = dict(user_domain_name=domain.name, project_domain_name=domain.name)
    assert connect(cloud, "u", "pw-dom-1", "p", **auth).identity.get_token()
    admin.identity.update_domain(domain, enabled=False)
    with pytest.raises(keystoneauth1.exceptions.Unauthorized):
        connect(cloud, "u", "pw-dom-1", "p", **auth).identity.get_token()
    admin.identity.delete_domain(domain)
    assert admin.identity.find_user(user.id) is None


def test_member_lists_only_own_credentials(admin, demo):
    mine = admin.identity.create_credential(type="cert", blob="admin-blob", user_id=admin.current_user_id)
    theirs = demo.identity.create_credential(type="cert", blob="demo-blob", user_id=demo.current_user_id)
    seen = {c.id for c in demo.identity.credentials()}
    assert theirs.id in seen and mine.id not in seen
    assert list(demo.identity.credentials(user_id=admin.current_user_id)) == []
    with pytest.raises(exc.ForbiddenException):
        demo.identity.create_credential(type="cert", blob="x", user_id=admin.current_user_id)
    admin.identity.delete_credential(mine)
    demo.identity.delete_credential(theirs)
