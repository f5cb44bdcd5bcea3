"""Security groups and rules through the openstack CLI, openstacksdk and raw calls: the
default group, CRUD, protocol/port/prefix checks with Neutron's 400s, duplicates,
the default group's protections, quotas and visibility between projects."""

from __future__ import annotations

import pytest

from conftest import random_name


def post(conn, path: str, body: dict):
    return conn.network.post(path, json=body, raise_exc=False)


def rule_body(group_id: str, **values) -> dict:
    return {"security_group_rule": {"security_group_id": group_id, "direction": "ingress", **values}}


def error(response) -> tuple[int, str, str]:
    body = response.json()["NeutronError"]
    return response.status_code, body["type"], body["message"]


@pytest.mark.cli
def test_cli_groups_and_rules(cli):
    groups = cli.run("security", "group", "list")
    assert "default" in {row["Name"] for row in groups}
    name = random_name("sg")
    created = cli.run("security", "group", "create", "--description", "web servers", name)
    assert created["name"] == name and created["description"] == "web servers" and created["stateful"] is True
    assert sorted((r["direction"], r["ethertype"]) for r in created["rules"]) == [("egress", "IPv4"),
                                                                                   ("egress", "IPv6")]
    ssh = cli.run("security", "group", "rule", "create", "--proto", "tcp", "--dst-port", "22", name)
    assert (ssh["protocol"], ssh["port_range_min"], ssh["port_range_max"]) == ("tcp", 22, 22)
    assert ssh["direction"] == "ingress" and ssh["remote_ip_prefix"] == "0.0.0.0/0"
    ping = cli.run("security", "group", "rule", "create", "--proto", "icmp", name)
    assert ping["protocol"] == "icmp" and ping["port_range_min"] is None
    rules = cli.run("security", "group", "rule", "list", name)
    assert {ssh["id"], ping["id"]} <= {row["ID"] for row in rules} and len(rules) == 4
    shown = cli.run("security", "group", "show", name)
    assert shown["revision_number"] >= 2 and len(shown["rules"]) == 4
    cli.ok("security", "group", "rule", "delete", ping["id"])
    assert ping["id"] not in {row["ID"] for row in cli.run("security", "group", "rule", "list", name)}
    cli.ok("security", "group", "set", "--name", name + "-b", "--description", "changed", name)
    assert cli.run("security", "group", "show", name + "-b")["description"] == "changed"
    cli.ok("security", "group", "delete", name + "-b")
    assert name + "-b" not in {row["Name"] for row in cli.run("security", "group", "list")}
    result = cli.raw("security", "group", "rule", "show", ssh["id"])
    assert result.returncode != 0  # the group's rules went with it


@pytest.mark.cli
def test_cli_rule_on_the_default_group(cli):
    """As a member: an admin sees every project's 'default' and must name the group by id."""
    demo = {"cloud_name": "overcast-demo"}
    rule = cli.run("security", "group", "rule", "create", "--proto", "icmp", "--remote-ip", "192.0.2.0/24",
                   "default", **demo)
    try:
        assert rule["remote_ip_prefix"] == "192.0.2.0/24" and rule["protocol"] == "icmp"
        again = cli.raw("security", "group", "rule", "create", "--proto", "icmp", "--remote-ip", "192.0.2.0/24",
                        "default", **demo)
        assert again.returncode != 0 and "already exists" in again.stderr
    finally:
        cli.ok("security", "group", "rule", "delete", rule["id"], **demo)


def test_sdk_groups_rules_and_remote_group(demo):
    group = demo.network.create_security_group(name=random_name("sg"), description="d")
    peer = demo.network.create_security_group(name=random_name("peer"))
    try:
        rule = demo.network.create_security_group_rule(security_group_id=group.id, direction="ingress",
                                                       protocol="udp", port_range_min=50, port_range_max=55,
                                                       remote_group_id=peer.id)
        assert rule.remote_group_id == peer.id and rule.ether_type == "IPv4"
        assert rule.id in {r.id for r in demo.network.security_group_rules(security_group_id=group.id)}
        numeric = demo.network.create_security_group_rule(security_group_id=group.id, direction="egress",
                                                          protocol="132", ether_type="IPv6")
        assert numeric.protocol == "132" and numeric.ether_type == "IPv6"
        before = demo.network.get_security_group(group.id).revision_number
        updated = demo.network.update_security_group(group.id, stateful=False)
        assert updated.stateful is False and updated.revision_number > before
        demo.network.delete_security_group(peer)  # rules naming it as remote group go too
        assert rule.id not in {r.id for r in demo.network.security_group_rules(security_group_id=group.id)}
    finally:
        demo.network.delete_security_group(group, ignore_missing=True)
        demo.network.delete_security_group(peer, ignore_missing=True)


PORT_ERRORS = [
    ({"protocol": "tcp", "port_range_min": -16, "port_range_max": 80}, "Invalid value for port -16"),
    ({"protocol": "tcp", "port_range_min": 80, "port_range_max": 79}, "port_range_min must be <= port_range_max"),
    ({"protocol": "tcp", "port_range_min": 80, "port_range_max": 65536}, "Invalid value for port 65536"),
    ({"protocol": "tcp", "port_range_max": 6}, "port_range_min must be <= port_range_max"),
    ({"protocol": "tcp", "port_range_min": 0, "port_range_max": 6}, "Invalid value for port 0"),
    ({"protocol": "icmp", "port_range_min": 1, "port_range_max": 256}, "Invalid value for ICMP code"),
    ({"protocol": "icmp", "port_range_min": 300, "port_range_max": 1}, "Invalid value for ICMP type"),
    ({"protocol": "icmp", "port_range_max": 6}, "ICMP type (port-range-min) is missing"),
    ({"port_range_min": 22, "port_range_max": 22}, "Must also specify protocol if port range is given"),
    ({"protocol": "gre", "port_range_min": 22, "port_range_max": 22}, "Invalid protocol 47 for port range"),
    ({"protocol": "bad_protocol_name"}, "Security group rule protocol bad_protocol_name not supported"),
    ({"protocol": 256}, "not supported"),
    ({"ethertype": "bad"}, "Invalid input for ethertype"),
    ({"remote_ip_prefix": "192.168.1.1/33"}, "Invalid CIDR 192.168.1.1/33 given as IP prefix"),
    ({"ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}, "Conflicting value ethertype IPv6 for CIDR"),
    ({"protocol": "ipv6-icmp", "ethertype": "IPv4"}, "Invalid ethertype IPv4 for protocol ipv6-icmp"),
]


@pytest.mark.parametrize("values,message", PORT_ERRORS)
def test_bad_rules_are_400_with_neutron_words(admin, values, message):
    group = admin.network.create_security_group(name=random_name("bad"))
    try:
        status, _, text = error(post(admin, "/security-group-rules", rule_body(group.id, **values)))
        assert status == 400 and message in text
    finally:
        admin.network.delete_security_group(group)


def test_rule_normalisation_and_duplicates(admin):
    group = admin.network.create_security_group(name=random_name("norm"))
    try:
        made = post(admin, "/security-group-rules", rule_body(group.id, protocol="TCP", port_range_min=22,
                                                              port_range_max=22, ethertype="ipv4",
                                                              remote_ip_prefix="10.0.0.5")).json()
        rule = made["security_group_rule"]
        assert (rule["protocol"], rule["ethertype"], rule["remote_ip_prefix"]) == ("tcp", "IPv4", "10.0.0.5/32")
        same = post(admin, "/security-group-rules", rule_body(group.id, protocol="6", port_range_min=22,
                                                              port_range_max=22, remote_ip_prefix="10.0.0.5/32"))
        assert error(same)[:2] == (409, "SecurityGroupRuleExists") and rule["id"] in error(same)[2]
        v6 = post(admin, "/security-group-rules", rule_body(group.id, protocol="icmp", ethertype="IPv6")).json()
        assert v6["security_group_rule"]["protocol"] == "ipv6-icmp"
        anything = post(admin, "/security-group-rules", rule_body(group.id, protocol="any")).json()
        assert anything["security_group_rule"]["protocol"] is None
        twice = post(admin, "/security-group-rules", {"security_group_rules": [
            rule_body(group.id, protocol="udp")["security_group_rule"],
            rule_body(group.id, protocol="17")["security_group_rule"]]})
        assert error(twice)[:2] == (409, "DuplicateSecurityGroupRuleInPost")
        assert admin.network.put(f"/security-group-rules/{rule['id']}", json={
            "security_group_rule": {"protocol": "udp"}}, raise_exc=False).status_code == 400
    finally:
        admin.network.delete_security_group(group)


def test_default_group_is_protected(demo, admin):
    default = next(g for g in demo.network.security_groups() if g.name == "default")
    assert sorted((r["direction"], r["ethertype"], r["remote_group_id"] == default.id)
                  for r in default.security_group_rules) == [
        ("egress", "IPv4", False), ("egress", "IPv6", False), ("ingress", "IPv4", True), ("ingress", "IPv6", True)]
    assert error(demo.network.delete(f"/security-groups/{default.id}", raise_exc=False))[:2] == (
        409, "SecurityGroupCannotRemoveDefault")
    renamed = demo.network.put(f"/security-groups/{default.id}", json={"security_group": {"name": "other"}},
                               raise_exc=False)
    assert error(renamed)[:2] == (409, "SecurityGroupCannotUpdateDefault")
    described = demo.network.put(f"/security-groups/{default.id}",
                                 json={"security_group": {"description": "mine"}}, raise_exc=False)
    assert described.status_code == 200
    for conn, path, body in ((demo, "/security-groups", {"security_group": {"name": "default"}}),
                             (demo, "/security-groups", {"security_group": {"name": "DEFAULT"}})):
        assert error(post(conn, path, body))[:2] == (409, "SecurityGroupDefaultAlreadyExists")
    group = demo.network.create_security_group(name=random_name("x"))
    try:
        to_default = demo.network.put(f"/security-groups/{group.id}", json={"security_group": {"name": "default"}},
                                      raise_exc=False)
        assert error(to_default)[:2] == (409, "SecurityGroupDefaultAlreadyExists")
    finally:
        demo.network.delete_security_group(group)


def test_projects_do_not_see_each_others_groups(admin, demo):
    mine = admin.network.create_security_group(name=random_name("admin"))
    try:
        assert mine.id not in {g.id for g in demo.network.security_groups()}
        assert demo.network.get(f"/security-groups/{mine.id}", raise_exc=False).status_code == 404
        their_rule = post(demo, "/security-group-rules", rule_body(mine.id, protocol="tcp"))
        assert error(their_rule)[:2] == (404, "SecurityGroupNotFound")
        demo_group = demo.network.create_security_group(name=random_name("demo"))
        try:
            remote = post(demo, "/security-group-rules", rule_body(demo_group.id, remote_group_id=mine.id))
            assert error(remote)[:2] == (404, "SecurityGroupNotFound")
            bogus = post(demo, "/security-group-rules", rule_body(demo_group.id, remote_group_id="bad_group_id"))
            assert bogus.status_code == 404
            both = post(demo, "/security-group-rules", rule_body(demo_group.id, remote_group_id=demo_group.id,
                                                                 remote_ip_prefix="10.0.0.0/8"))
            assert error(both)[:2] == (400, "SecurityGroupRemoteGroupAndRemoteIpPrefix")
            assert demo_group.id in {g.id for g in admin.network.security_groups()}  # admins see all
        finally:
            demo.network.delete_security_group(demo_group)
    finally:
        admin.network.delete_security_group(mine)


def test_group_quota(admin, demo):
    project = demo.current_project_id
    admin.network.update_quota(project, security_groups=3)
    made = []
    try:
        demo.network.security_groups()  # makes the default group: one of the three
        for _ in range(2):
            made.append(demo.network.create_security_group(name=random_name("q")))
        over = post(demo, "/security-groups", {"security_group": {"name": random_name("q")}})
        assert error(over)[:2] == (409, "OverQuota") and "security_group" in error(over)[2]
    finally:
        for group in made:
            demo.network.delete_security_group(group)
        admin.network.delete_quota(project)


def test_missing_things_are_404(admin):
    missing = "4b2d5a5e-0000-4000-8000-000000000000"
    assert error(admin.network.get(f"/security-groups/{missing}", raise_exc=False))[:2] == (
        404, "SecurityGroupNotFound")
    assert error(admin.network.get(f"/security-group-rules/{missing}", raise_exc=False))[:2] == (
        404, "SecurityGroupRuleNotFound")
    assert admin.network.delete(f"/security-groups/{missing}", raise_exc=False).status_code == 404
    assert error(post(admin, "/security-group-rules", rule_body(missing)))[:2] == (404, "SecurityGroupNotFound")
