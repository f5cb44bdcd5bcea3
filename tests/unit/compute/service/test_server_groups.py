"""ServerGroups: the hint check (plan), the GroupSpec the scheduler gets, members and quotas."""

from __future__ import annotations

import uuid

import pytest

from overcast.common.api.context import RequestContext
from overcast.compute import errors
from overcast.compute.models import Instance
from overcast.compute.scheduler import GroupSpec, HostState, RequestSpec
from overcast.compute.scheduler.filters import affinity_filter, anti_affinity_filter
from overcast.compute.service.quotas import Quotas
from overcast.compute.service.server_groups import ServerGroups, canonical_uuid


@pytest.fixture
def groups(db):
    return ServerGroups(db, Quotas(db, {"server_groups": 3, "server_group_members": 3}))


def context(project: str = "p1", admin: bool = False) -> RequestContext:
    return RequestContext(user_id=f"user-{project}", project_id=project, roles=["admin" if admin else "member"])


def server(db, host: str | None, deleted: bool = False, project: str = "p1") -> str:
    ident = str(uuid.uuid4())
    with db.session() as session:
        session.add(Instance(uuid=ident, project_id=project, user_id="u", display_name="vm", flavor_id="1",
                             flavor={}, vcpus=1, memory_mb=64, root_gb=1, host=host, deleted=deleted))
    return ident


def host_state(name: str) -> HostState:
    return HostState(node_id=1, host=name, node=name, zone="nova", enabled=True, up=True, free_vcpus=8,
                     free_ram_mb=8192, free_disk_gb=100)


def test_plan_returns_the_group_and_one_host_per_placed_member(db, groups):
    group = groups.create(context(), "web", "anti-affinity", {"max_server_per_host": 2})
    members = [server(db, "h1"), server(db, "h1"), server(db, "h2"), server(db, None), server(db, "h3", deleted=True)]
    groups.add_members(group.uuid, members[:3], "p1")
    with pytest.raises(errors.QuotaExceeded):
        groups.add_members(group.uuid, members[3:], "p1")  # 3 live members is the limit
    ident, spec = groups.plan(context(), group.uuid.replace("-", "").upper())
    assert ident == group.uuid
    assert spec == GroupSpec(policy="anti-affinity", hosts=["h1", "h1", "h2"], max_server_per_host=2)
    assert groups.spec(group.uuid, exclude=[members[0]]).hosts == ["h1", "h2"]


def test_plan_spec_drives_the_anti_affinity_filter(db, groups):
    group = groups.create(context(), "db", "anti-affinity")
    groups.add_members(group.uuid, [server(db, "h1")], "p1")
    _, spec = groups.plan(context(), group.uuid)
    request = RequestSpec(consumer="new", vcpus=1, memory_mb=64, disk_gb=1, group=spec)
    assert spec.max_server_per_host == 1
    assert not anti_affinity_filter(host_state("h1"), request)
    assert anti_affinity_filter(host_state("h2"), request)


def test_plan_spec_drives_the_affinity_filter(db, groups):
    group = groups.create(context(), "db", "affinity")
    _, empty = groups.plan(context(), group.uuid)
    assert affinity_filter(host_state("any"), RequestSpec("a", 1, 64, 1, group=empty))
    groups.add_members(group.uuid, [server(db, "h2")], "p1")
    _, spec = groups.plan(context(), [group.uuid])  # the hint may be a one-item list
    assert affinity_filter(host_state("h2"), RequestSpec("b", 1, 64, 1, group=spec))
    assert not affinity_filter(host_state("h1"), RequestSpec("b", 1, 64, 1, group=spec))


def test_plan_refuses_bad_unknown_and_foreign_groups_with_400(groups):
    foreign = groups.create(context("p2"), "theirs", "affinity")
    with pytest.raises(errors.ComputeInvalid, match="is not valid under any of the given schemas"):
        groups.plan(context(), "not-a-uuid")
    missing = str(uuid.uuid4())
    with pytest.raises(errors.ComputeInvalid, match=f"Instance group {missing} could not be found."):
        groups.plan(context(), missing)
    with pytest.raises(errors.ComputeInvalid, match="could not be found"):
        groups.plan(context(), foreign.uuid)
    assert groups.plan(context(admin=True), foreign.uuid)[0] == foreign.uuid  # admins may use any group


def test_members_hide_deleted_servers_and_remove_member_forgets(db, groups):
    group = groups.create(context(), "g", "soft-affinity")
    live, gone, unplaced = server(db, "h1"), server(db, "h1", deleted=True), str(uuid.uuid4())
    groups.add_members(group.uuid, [live, gone, unplaced, live], "p1")
    assert sorted(groups.members([group.uuid])[group.uuid]) == sorted([live, unplaced])
    assert groups.group_of(live) == group.uuid and groups.group_of(str(uuid.uuid4())) is None
    groups.remove_member(live)
    groups.remove_member(live)  # repeats are fine
    assert groups.members([group.uuid])[group.uuid] == [unplaced]
    assert groups.group_of(live) is None


def test_group_quota_counts_the_project_groups(groups):
    for index in range(3):
        groups.create(context(), f"g{index}", "affinity")
    assert groups.quotas.usage("p1")["server_groups"] == 3
    with pytest.raises(errors.QuotaExceeded, match="too many server groups"):
        groups.create(context(), "one-too-many", "affinity")
    groups.create(context("p2"), "other-project", "affinity")  # quotas are per project


def test_get_list_delete_visibility(groups):
    mine, theirs = groups.create(context(), "mine", "affinity"), groups.create(context("p2"), "theirs", "affinity")
    with pytest.raises(errors.ServerGroupNotFound):
        groups.get(context(), theirs.uuid)
    with pytest.raises(errors.ServerGroupNotFound):
        groups.delete(context(), theirs.uuid)
    assert [row.uuid for row in groups.list(context())] == [mine.uuid]
    assert {row.uuid for row in groups.list(context(admin=True), all_projects=True)} == {mine.uuid, theirs.uuid}
    assert [row.uuid for row in groups.list(context(admin=True), all_projects=True, limit=1, offset=1)] == [theirs.uuid]
    groups.delete(context(admin=True), theirs.uuid)
    with pytest.raises(errors.ServerGroupNotFound):
        groups.spec(theirs.uuid)


def test_canonical_uuid_accepts_nova_spellings():
    ident = uuid.uuid4()
    assert canonical_uuid(ident.hex) == str(ident) == canonical_uuid("{" + str(ident).upper() + "}")
    assert canonical_uuid("nope") is None and canonical_uuid(7) is None
