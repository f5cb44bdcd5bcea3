"""os-aggregates and os-availability-zone: the CLI, openstacksdk and raw calls, the zone a
host gets from its aggregates, and the errors Nova gives. Hosts are spares (conftest.py)."""

from __future__ import annotations

import pytest

from conftest import random_name


def zone_of(client, host: str) -> str:
    return client.get("/os-services", params={"host": host, "binary": "nova-compute"}).json()["services"][0]["zone"]


@pytest.mark.cli
def test_cli_aggregate_zone_follows_membership(cli, api, admin, spare):
    name, zone = random_name("agg"), random_name("az")
    created = cli.run("aggregate", "create", "--zone", zone, "--property", "ssd=true", name)
    assert created["availability_zone"] == zone and created["name"] == name
    cli.run("aggregate", "add", "host", name, spare.name)
    with api(admin) as client:
        assert zone_of(client, spare.name) == zone
    zones = cli.run("availability", "zone", "list", "--long", "--compute")
    rows = {(row["Zone Name"], row["Host Name"], row["Service Name"]) for row in zones}
    assert (zone, spare.name, "nova-compute") in rows
    assert "nova-scheduler" in {service for zone_name, _, service in rows if zone_name == "internal"}
    cli.ok("aggregate", "set", "--property", "rack=r1", "--name", name + "-b", name)
    shown = cli.run("aggregate", "show", name + "-b")
    assert shown["hosts"] == [spare.name] and shown["properties"]["rack"] == "r1"
    cli.run("aggregate", "remove", "host", name + "-b", spare.name)
    with api(admin) as client:
        assert zone_of(client, spare.name) == "nova"
    cli.ok("aggregate", "delete", name + "-b")
    assert name + "-b" not in {row["Name"] for row in cli.run("aggregate", "list")}


def test_sdk_aggregates(admin, spare):
    aggregate = admin.compute.create_aggregate(name=random_name("agg"), availability_zone=random_name("az"))
    try:
        admin.compute.add_host_to_aggregate(aggregate, spare.name)
        admin.compute.set_aggregate_metadata(aggregate, {"gpu": "yes"})
        fetched = admin.compute.get_aggregate(aggregate.id)
        assert fetched.hosts == [spare.name] and fetched.metadata["gpu"] == "yes"
        assert aggregate.id in {a.id for a in admin.compute.aggregates()}
        zones = {z.name: z for z in admin.compute.availability_zones(details=True)}
        assert spare.name in zones[aggregate.availability_zone].hosts
        admin.compute.remove_host_from_aggregate(aggregate, spare.name)
    finally:
        admin.compute.delete_aggregate(aggregate)


def test_aggregate_api_by_microversion_and_errors(api, admin, demo, spare):
    with api(admin) as v21, api(admin, "2.41") as v241:
        name = random_name("agg")
        created = v21.post("/os-aggregates", json={"aggregate": {"name": name, "availability_zone": None}})
        assert created.status_code == 200
        agg = created.json()["aggregate"]
        assert "hosts" not in agg and "metadata" not in agg and "uuid" not in agg and agg["deleted"] is False
        action = f"/os-aggregates/{agg['id']}/action"
        assert "uuid" in v241.get(f"/os-aggregates/{agg['id']}").json()["aggregate"]
        assert v21.post("/os-aggregates", json={"aggregate": {"name": name}}).status_code == 409
        for body in ({"aggregate": {"name": ""}}, {"aggregate": {"name": "x" * 256}}, {"aggregate": {}},
                     {"aggregate": {"name": " pad"}}, {"aggregate": {"name": "a", "availability_zone": "a:b"}},
                     {"aggregate": {"name": "a", "extra": 1}}, {"name": "a"}):
            assert v21.post("/os-aggregates", json=body).status_code == 400, body
        assert v21.get("/os-aggregates/-1").status_code == 404
        assert v21.get("/os-aggregates/abc").status_code == 400
        assert v21.delete("/os-aggregates/-1").status_code == 404
        for body in ({"aggregate": {}}, {"aggregate": {"availability_zone": None}}):
            assert v21.put(f"/os-aggregates/{agg['id']}", json=body).status_code == 400, body
        renamed = v21.put(f"/os-aggregates/{agg['id']}", json={"aggregate": {"name": f" {name}-r "}}).json()
        assert renamed["aggregate"]["name"] == f"{name}-r"

        assert v21.post(action, json={"add_host": {"host": "no-such-host"}}).status_code == 404
        assert v21.post(action, json={"add_host": {"host": "bad host!"}}).status_code == 400
        assert v21.post(action, json={"add_host": {"host": spare.name}}).status_code == 200
        assert v21.post(action, json={"add_host": {"host": spare.name}}).status_code == 409
        other = v21.post("/os-aggregates", json={"aggregate": {"name": random_name("agg"),
                                                                "availability_zone": random_name("az")}}).json()
        other_action = f"/os-aggregates/{other['aggregate']['id']}/action"
        assert v21.post(other_action, json={"add_host": {"host": spare.name}}).status_code == 200
        zoned = v21.post(action, json={"set_metadata": {"metadata": {"availability_zone": "elsewhere"}}})
        assert zoned.status_code == 400 and "already in availability zone" in zoned.json()["badRequest"]["message"]
        assert v21.post(action, json={"set_metadata": {"metadata": {"availability_zone": None}}}).status_code == 400
        assert v21.post(action, json={"set_metadata": {"metadata": {"bad/key": "1"}}}).status_code == 400
        meta = v21.post(action, json={"set_metadata": {"metadata": {"a": "1", "b": None}}}).json()["aggregate"]
        assert meta["metadata"] == {"a": "1"} and meta["hosts"] == [spare.name]
        assert v21.delete(f"/os-aggregates/{agg['id']}").status_code == 400  # not empty
        assert v21.post(action, json={"remove_host": {"host": spare.name}}).status_code == 200
        assert v21.post(action, json={"remove_host": {"host": spare.name}}).status_code == 404
        assert v21.post(action, json={"reboot": {}}).status_code == 400
        assert v21.post(action, json={"add_host": {"host": "a"}, "remove_host": {"host": "a"}}).status_code == 400
        v21.post(other_action, json={"remove_host": {"host": spare.name}})
        assert v21.delete(f"/os-aggregates/{other['aggregate']['id']}").status_code == 200
        deleted = v21.delete(f"/os-aggregates/{agg['id']}")
        assert deleted.status_code == 200 and not deleted.content
    with api(demo) as member:
        assert member.get("/os-aggregates").status_code == 403
        assert member.post("/os-aggregates", json={"aggregate": {"name": "x"}}).status_code == 403
        assert member.post("/os-aggregates/1/action", json={"add_host": {"host": "x"}}).status_code == 403


def test_availability_zones_list_and_detail(api, admin, demo, spare):
    with api(demo) as member, api(admin) as client:
        listed = member.get("/os-availability-zone").json()["availabilityZoneInfo"]
        assert {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None} in listed
        assert "internal" not in {zone["zoneName"] for zone in listed}
        assert member.get("/os-availability-zone/detail").status_code == 403
        zone = random_name("az")
        agg = client.post("/os-aggregates", json={"aggregate": {"name": random_name("agg"),
                                                                "availability_zone": zone}}).json()["aggregate"]
        client.post(f"/os-aggregates/{agg['id']}/action", json={"add_host": {"host": spare.name}})
        try:
            detail = {z["zoneName"]: z for z in client.get("/os-availability-zone/detail").json()[
                "availabilityZoneInfo"]}
            compute = detail[zone]["hosts"][spare.name]["nova-compute"]
            assert compute["available"] is True and compute["active"] is True and compute["updated_at"]
            assert any("nova-scheduler" in services for services in detail["internal"]["hosts"].values())
            client.put("/os-services/disable", json={"host": spare.name, "binary": "nova-compute"})
            listed = {z["zoneName"]: z for z in member.get("/os-availability-zone").json()["availabilityZoneInfo"]}
            assert listed[zone] == {"zoneName": zone, "zoneState": {"available": False}, "hosts": None}
        finally:
            client.post(f"/os-aggregates/{agg['id']}/action", json={"remove_host": {"host": spare.name}})
            client.delete(f"/os-aggregates/{agg['id']}")
