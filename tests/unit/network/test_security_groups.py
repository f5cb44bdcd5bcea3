"""Security groups and rules in the service layer: in-use checks through the port
bindings table, what agents are told, cascades, visibility; and rule_checks."""

from __future__ import annotations

import pytest

from overcast.common.api.context import RequestContext
from overcast.common.config import Config
from overcast.common.db import Base, Database
from overcast.common.db.models import load_all
from overcast.network import errors
from overcast.network.models import Network, Port, PortSecurityGroup
from overcast.network.service import NetworkService, rule_checks

ALICE = RequestContext(user_id="a", project_id="alice", roles=["member"])
BOB = RequestContext(user_id="b", project_id="bob", roles=["member"])
ADMIN = RequestContext(user_id="root", project_id="admin", roles=["admin", "member"])


@pytest.fixture
def service():
    load_all()
    db = Database("sqlite://")
    Base.metadata.create_all(db.engine)
    yield NetworkService(Config(), db)
    db.close()


def group(service, ctx, name="web", **values):
    return service.security_groups.create(ctx, [{"name": name, "description": "", "stateful": True,
                                                 "project_id": ctx.project_id, **values}])[0]


def rule(service, ctx, group_id, **values):
    body = {"security_group_id": group_id, "direction": "ingress", "ethertype": "IPv4", "protocol": None,
            "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": None,
            "description": "", "project_id": ctx.project_id, **values}
    return service.security_group_rules.create(ctx, [body])[0]


def bind(service, group_id):
    with service.db.session() as session:
        network = Network(project_id="alice", name="n")
        session.add(network)
        session.flush()
        port = Port(project_id="alice", network_id=network.id, mac_address="fa:16:3e:00:00:01")
        session.add(port)
        session.flush()
        session.add(PortSecurityGroup(port_id=port.id, security_group_id=group_id))
        return port.id


def test_group_in_use_by_a_port_cannot_be_deleted_nor_change_stateful(service):
    made = group(service, ALICE)
    bind(service, made["id"])
    with pytest.raises(errors.SecurityGroupInUse, match=f"Security Group {made['id']} in use."):
        service.security_groups.delete(ALICE, made["id"])
    with pytest.raises(errors.SecurityGroupInUse):
        service.security_groups.update(ALICE, made["id"], {"stateful": False})
    assert service.security_groups.update(ALICE, made["id"], {"stateful": True})["stateful"] is True
    assert service.security_groups.update(ALICE, made["id"], {"name": "other"})["name"] == "other"


def test_agents_hear_of_every_change_with_the_groups_touched(service):
    web, peer = group(service, ALICE), group(service, ALICE, "peer")
    made = rule(service, ALICE, web["id"], remote_group_id=peer["id"])
    assert service.agents.sent[-1] == ("security_groups_update", {"security_group_ids": [web["id"]]})
    service.security_group_rules.delete(ALICE, made["id"])
    assert service.agents.sent[-1] == ("security_groups_update", {"security_group_ids": [web["id"]]})
    rule(service, ALICE, web["id"], remote_group_id=peer["id"])
    service.security_groups.delete(ALICE, peer["id"])
    assert service.agents.sent[-1] == ("security_groups_update", {"security_group_ids": [peer["id"], web["id"]]})
    left = service.security_groups.get(ALICE, web["id"])["security_group_rules"]
    assert [r["direction"] for r in left] == ["egress", "egress"]


def test_listing_makes_the_callers_default_group_once(service):
    first = service.security_groups.list(ALICE, {})
    again = service.security_groups.list(ALICE, {})
    assert [g["name"] for g in first] == ["default"] and first == again
    assert service.security_groups.list(BOB, {})[0]["id"] != first[0]["id"]
    assert {g["project_id"] for g in service.security_groups.list(ADMIN, {"project_id": ["carol"]})} == {"carol"}


def test_rules_visible_to_their_group_owner_and_rule_owner_only(service):
    mine = group(service, ALICE)
    made = rule(service, ALICE, mine["id"], protocol="tcp")
    assert made["_policy"] == {"security_group:project_id": "alice"}
    with pytest.raises(errors.SecurityGroupRuleNotFound):
        service.security_group_rules.get(BOB, made["id"])
    assert made["id"] not in {r["id"] for r in service.security_group_rules.list(BOB, {})}
    assert service.security_group_rules.get(ADMIN, made["id"])["id"] == made["id"]
    with pytest.raises(errors.SecurityGroupNotFound):
        rule(service, BOB, mine["id"])


def test_rule_quota_counts_the_egress_rules_of_new_groups(service):
    service.quotas.update("alice", {"security_group_rule": 5})
    service.security_groups.list(ALICE, {})  # default group: 4 rules
    with pytest.raises(errors.OverQuota, match="security_group_rule"):
        group(service, ALICE)  # 2 more
    assert [g["name"] for g in service.security_groups.list(ALICE, {})] == ["default"]  # all or nothing


def test_bulk_rules_must_share_a_group(service):
    a, b = group(service, ALICE, "a"), group(service, ALICE, "b")
    base = {"direction": "ingress", "ethertype": "IPv4", "protocol": None, "port_range_min": None,
            "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": None, "project_id": "alice"}
    with pytest.raises(errors.SecurityGroupNotSingleGroupRules):
        service.security_group_rules.create(ALICE, [{**base, "security_group_id": a["id"]},
                                                    {**base, "security_group_id": b["id"]}])


@pytest.mark.parametrize("given,stored", [("TCP", "tcp"), ("6", "6"), (6, "6"), ("any", None), (None, None),
                                          ("icmpv6", "icmpv6"), ("0", "0"), ("255", "255")])
def test_protocols_convert_as_neutron_stores_them(given, stored):
    assert rule_checks.convert_protocol("protocol", given) == stored


@pytest.mark.parametrize("given", ["256", -1, "bogus", 6.5, True, ""])
def test_bad_protocols_are_refused(given):
    with pytest.raises(errors.SecurityGroupRuleInvalidProtocol):
        rule_checks.convert_protocol("protocol", given)


def test_same_rule_whatever_the_spelling():
    one = {"security_group_id": "g", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
           "remote_ip_prefix": "0.0.0.0/0"}
    two = {**one, "protocol": "6", "remote_ip_prefix": None}
    assert rule_checks.key(one) == rule_checks.key(two)
    assert rule_checks.key(one) != rule_checks.key({**one, "protocol": "udp"})


def test_ipv6_icmp_spellings_become_ipv6_icmp():
    for given, wanted in (("icmp", "ipv6-icmp"), ("icmpv6", "ipv6-icmp"), ("1", "58")):
        candidate = {"ethertype": "IPv6", "protocol": given}
        rule_checks.canonical(candidate)
        assert candidate["protocol"] == wanted


def test_prefixes_keep_host_bits_and_gain_a_mask():
    assert rule_checks.convert_prefix("p", "10.0.0.5") == "10.0.0.5/32"
    assert rule_checks.convert_prefix("p", "10.0.0.5/24") == "10.0.0.5/24"
    assert rule_checks.convert_prefix("p", "2001:DB8::1") == "2001:db8::1/128"
    with pytest.raises(errors.InvalidCIDR):
        rule_checks.convert_prefix("p", "256")
