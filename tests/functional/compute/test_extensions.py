"""/v2.1/extensions: Nova's legacy extension list, only what overcast serves."""

from __future__ import annotations

import pytest


@pytest.mark.cli
def test_cli_extension_list_compute(cli):
    rows = cli.run("extension", "list", "--compute", "--long")
    names = {row["Name"] for row in rows}
    assert {"Hosts", "Keypairs", "Migrations", "QuotaClasses", "Aggregates"} <= names
    assert "Cells" not in names and "Cloudpipe" not in names


def test_sdk_lists_and_shows_extensions(admin, demo):
    listed = list(demo.compute.extensions())
    aliases = [extension.alias for extension in listed]
    assert aliases == sorted(aliases) and "os-consoles" in aliases and "os-hosts" in aliases
    hosts = next(extension for extension in listed if extension.alias == "os-hosts")
    assert hosts.name == "Hosts" and hosts.description == "Admin-only host administration."
    assert hosts.namespace == "http://docs.openstack.org/compute/ext/fake_xml"
    assert hosts.updated_at == "2014-12-03T00:00:00Z" and hosts.links == []


def test_show_by_alias_and_unserved_ones_404(api, demo):
    with api(demo) as compute:
        shown = compute.get("/extensions/os-consoles")
        assert shown.status_code == 200 and shown.json()["extension"]["name"] == "Consoles"
        assert set(shown.json()["extension"]) == {"alias", "description", "links", "name", "namespace", "updated"}
        # nothing answers for these in overcast, so they are not offered
        for alias in ("os-cells", "os-cloudpipe", "os-floating-ips-bulk", "os-personality", "nope"):
            missing = compute.get(f"/extensions/{alias}")
            assert missing.status_code == 404 and "itemNotFound" in missing.json(), alias
        listed = {item["alias"] for item in compute.get("/extensions").json()["extensions"]}
        assert "os-cells" not in listed and "os-migrations" in listed and "os-simple-tenant-usage" in listed
        # the network proxies are served since the network service came
        assert {"os-floating-ips", "os-networks", "os-security-groups", "os-attach-interfaces"} <= listed
