#!/usr/bin/env python3
"""Write a tempest.conf (Tempest 47.0.0) for a running overcast cloud.

Credentials come from the command line, else from the OS_* environment, else from
$OVERCAST_DATA_DIR (default ~/.local/share/overcast): admin-openrc.sh and passwords.yaml.
The admin token's catalog decides [service_available]: a service is on only if its
type is in the catalog. Standard library only, so any python3 can run it.

    tools/tempest_conf.py --workspace .tempest/workspace [--output FILE] [--set section.key=value ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import ssl
import sys
import urllib.request
from pathlib import Path

# catalog service type -> [service_available] flag (identity is always on, horizon always off)
SERVICE_FLAGS = {
    "compute": "nova",
    "image": "glance",
    "network": "neutron",
    "volumev3": "cinder",
    "block-storage": "cinder",
    "volume": "cinder",
    "object-store": "swift",
}
ALL_FLAGS = ("nova", "glance", "neutron", "cinder", "swift", "horizon")

# Everything that does not depend on the cloud; @@NAME@@ is filled from `facts`.
TEMPLATE: dict[str, dict[str, str]] = {
    "DEFAULT": {"log_dir": "@@WORKSPACE@@/logs", "log_file": "tempest.log", "debug": "@@DEBUG@@"},
    "oslo_concurrency": {"lock_path": "@@WORKSPACE@@/tempest_lock"},
    "auth": {
        "use_dynamic_credentials": "true",
        "admin_username": "@@USERNAME@@",
        "admin_password": "@@PASSWORD@@",
        "admin_project_name": "@@PROJECT@@",
        "admin_domain_name": "@@DOMAIN@@",
        "default_credentials_domain_name": "@@DOMAIN@@",
        "create_isolated_networks": "true",  # each test project gets a network, subnet and router
    },
    "identity": {
        "uri_v3": "@@AUTH_URL@@",
        "auth_version": "v3",
        "region": "@@REGION@@",
        "v3_endpoint_type": "public",
        "admin_role": "admin",
        "default_domain_id": "default",
        "disable_ssl_certificate_validation": "true",
    },
    "identity-feature-enabled": {"trust": "false", "access_rules": "false"},
    "service_available": {},  # filled from the catalog
    "validation": {"run_validation": "false"},
    "compute": {"flavor_ref": "42", "flavor_ref_alt": "1", "build_timeout": "60", "build_interval": "1",
                "min_microversion": "2.1", "max_microversion": "2.100", "fixed_network_name": ""},
    # what the fake hypervisor of the all-in-one really does (cold_migration and live_migration
    # go on, with min_compute_nodes, when the cloud has two compute hosts up: see compute_hosts);
    # the rest needs networks or consoles that come with later issues (vnc_console: Tempest's noVNC tests talk RFB to the
    # guest, and the fake driver runs no VNC server; the qemu driver's is tested in
    # tests/functional/compute/test_qemu_console*.py)
    "compute-feature-enabled": {
        **{flag: "true" for flag in ("resize", "shelve", "suspend", "pause", "rescue", "snapshot", "console_output",
                                     "interface_attach")},
        **{flag: "false" for flag in (
            "cold_migration", "live_migration", "vnc_console", "spice_console", "serial_console",
            "change_password", "personality", "attach_encrypted_volume", "config_drive", "disk_config",
            "metadata_service", "shelve_migrate")},
        "enable_instance_password": "true",
        # Tempest's defaults plus the same_host/different_host hints overcast's scheduler reads
        "scheduler_enabled_filters": "ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,"
                                     "ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,SameHostFilter,"
                                     "DifferentHostFilter",
    },
    # overcast serves glance-direct imports and reserves os_glance_*; it does not refuse data
    # whose format differs from disk_format (Tempest uploads random bytes as qcow2)
    "image-feature-enabled": {"import_image": "true", "os_glance_reserved": "true",
                              "image_format_enforcement": "false", "manage_locations": "false"},
    "network": {"floating_network_name": "public", "project_network_cidr": "10.100.0.0/16",
                "project_network_mask_bits": "28"},
    "network-feature-enabled": {
        "api_extensions": "router,external-net,security-group,quotas,standard-attr-description,"
                          "subnet_allocation,extra_dhcp_opt,allowed-address-pairs,binding,port-security,"
                          "ip-substring-filtering,net-mtu,ext-gw-mode,extraroute,extraroute-atomic,agent,"
                          "service-type,stateful-security-group,availability_zone,network-ip-availability,"
                          "dhcp_agent_scheduler,l3_agent_scheduler",
        "ipv6": "true", "ipv6_subnet_attributes": "true", "port_security": "true", "floating_ips": "true",
    },
    # the file driver's pools report vendor "overcast" and protocol "file"
    # the file driver manages a file of the volume directory by its name (qcow2, the default format)
    "volume": {"catalog_type": "@@VOLUME_TYPE@@", "vendor_name": "overcast", "storage_protocol": "file",
               "manage_volume_ref": "source-name,volume-%s.qcow2", "manage_snapshot_ref": "source-name,snapshot-%s.qcow2",
               "min_microversion": "3.0", "max_microversion": "3.70"},
    # what overcast's block storage serves (no encryption key manager); extensions by alias
    "volume-feature-enabled": {"backup": "true", "manage_volume": "true", "manage_snapshot": "true",
                               "api_extensions": "os-admin-actions,os-availability-zone,os-quota-sets,os-services,"
                                                 "os-types-extra-specs,os-types-manage,os-used-limits,"
                                                 "os-volume-actions,os-vol-host-attr,os-vol-image-meta,"
                                                 "os-vol-tenant-attr,os-volume-type-access,"
                                                 "os-extended-snapshot-attributes",
                               "extend_attached_volume": "false", "enable_volume_image_dep_tests": "false"},
    "object-storage": {"operator_role": "member", "reseller_admin_role": "ResellerAdmin"},
    # what /swift/info lists (overcast serves no crossdomain); container_sync is added below
    # when /info names this cloud's realm and cluster (the "current" one)
    "object-storage-feature-enabled": {
        "discoverable_apis": "container_quotas,account_quotas,tempurl,bulk_upload,bulk_delete,slo,dlo,versioned_writes,"
                             "staticweb,formpost,symlink",
        "container_sync": "false", "object_versioning": "true"},
}

_CTX = ssl.create_default_context()
_CTX.check_hostname = False
_CTX.verify_mode = ssl.CERT_NONE


def _http(method: str, url: str, body: dict | None = None, token: str = "") -> tuple[dict, dict]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["X-Auth-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30, context=_CTX) as response:
        return dict(response.headers), json.loads(response.read() or b"{}")


def _from_data_dir() -> dict[str, str]:
    """OS_* values from $OVERCAST_DATA_DIR/admin-openrc.sh (+ passwords.yaml for the password)."""
    data_dir = Path(os.environ.get("OVERCAST_DATA_DIR") or Path.home() / ".local/share/overcast").expanduser()
    found: dict[str, str] = {}
    openrc = data_dir / "admin-openrc.sh"
    if openrc.exists():
        for name, value in re.findall(r"^export (OS_[A-Z_]+)=(.*)$", openrc.read_text(), re.M):
            found[name] = value.strip().strip("'\"")
    passwords = data_dir / "passwords.yaml"
    if "OS_PASSWORD" not in found and passwords.exists():
        match = re.search(r"^admin:\s*['\"]?([^'\"\n]+)", passwords.read_text(), re.M)
        if match:
            found["OS_PASSWORD"] = match.group(1).strip()
    return found


def credentials(args) -> dict[str, str]:
    use_env = bool(os.environ.get("OS_AUTH_URL"))
    source = dict(os.environ) if use_env else _from_data_dir()
    pick = lambda arg, name, default="": arg or source.get(name) or default  # noqa: E731
    creds = {
        "AUTH_URL": pick(args.auth_url, "OS_AUTH_URL").rstrip("/"),
        "USERNAME": pick(args.username, "OS_USERNAME", "admin"),
        "PASSWORD": pick(args.password, "OS_PASSWORD"),
        "PROJECT": pick(args.project_name, "OS_PROJECT_NAME", "admin"),
        "DOMAIN": pick(args.domain_name, "OS_USER_DOMAIN_NAME", "Default"),
        "REGION": pick(args.region, "OS_REGION_NAME", "RegionOne"),
    }
    if not creds["AUTH_URL"] or not creds["PASSWORD"]:
        sys.exit("tempest_conf: no credentials (set OS_AUTH_URL/OS_PASSWORD, or OVERCAST_DATA_DIR)")
    if not creds["AUTH_URL"].endswith("/v3"):
        creds["AUTH_URL"] += "/v3"
    return creds


def catalog(creds: dict[str, str]) -> tuple[str, list[dict]]:
    domain = {"name": creds["DOMAIN"]}
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": creds["USERNAME"], "password": creds["PASSWORD"], "domain": domain}}},
        "scope": {"project": {"name": creds["PROJECT"], "domain": domain}},
    }}
    headers, reply = _http("POST", creds["AUTH_URL"] + "/auth/tokens", body)
    token = next((value for key, value in headers.items() if key.lower() == "x-subject-token"), "")
    return token, reply.get("token", {}).get("catalog", [])


def _endpoint(services: list[dict], service_type: str) -> str | None:
    for service in services:
        if service.get("type") == service_type:
            for endpoint in service.get("endpoints", []):
                if endpoint.get("interface") == "public":
                    return endpoint["url"].rstrip("/")
    return None


def test_images(token: str, services: list[dict]) -> list[str]:
    """Ids of two small public images for the compute tests (made once, found after)."""
    url = _endpoint(services, "image")
    if url is None:
        return []
    ids = []
    for name in ("tempest-image", "tempest-image-alt"):
        _, found = _http("GET", f"{url}/v2/images?name={name}", token=token)
        if found.get("images"):
            ids.append(found["images"][0]["id"])
            continue
        _, made = _http("POST", f"{url}/v2/images", {"name": name, "disk_format": "raw", "container_format": "bare",
                                                     "visibility": "public"}, token)
        request = urllib.request.Request(f"{url}/v2/images/{made['id']}/file", data=b"\0" * 1024, method="PUT",
                                         headers={"X-Auth-Token": token,
                                                  "Content-Type": "application/octet-stream"})
        urllib.request.urlopen(request, timeout=30, context=_CTX).close()
        ids.append(made["id"])
    return ids


def network_extensions(token: str, services: list[dict]) -> list[str]:
    """The aliases the network service lists: Tempest runs the tests of exactly these."""
    url = _endpoint(services, "network")
    if url is None:
        return []
    _, found = _http("GET", f"{url}/v2.0/extensions", token=token)
    return [extension["alias"] for extension in found.get("extensions", [])]


def public_network(token: str, services: list[dict]) -> str | None:
    """Id of the external network ``public`` the router and floating IP tests use (made
    once, with an address range large enough for their gateways and floating IPs)."""
    url = _endpoint(services, "network")
    if url is None:
        return None
    _, found = _http("GET", f"{url}/v2.0/networks?name=public&router:external=true", token=token)
    if found.get("networks"):
        return found["networks"][0]["id"]
    _, made = _http("POST", f"{url}/v2.0/networks", {"network": {
        "name": "public", "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": "public"}}, token)
    network_id = made["network"]["id"]
    _http("POST", f"{url}/v2.0/subnets", {"subnet": {
        "name": "public-subnet", "network_id": network_id, "ip_version": 4, "cidr": "172.24.4.0/24",
        "gateway_ip": "172.24.4.1", "enable_dhcp": False,
        "allocation_pools": [{"start": "172.24.4.10", "end": "172.24.4.250"}]}}, token)
    return network_id


def compute_hosts(token: str, services: list[dict]) -> int:
    """How many compute hosts are up and enabled (Tempest's min_compute_nodes)."""
    url = _endpoint(services, "compute")
    if url is None:
        return 0
    _, found = _http("GET", f"{url}/os-services?binary=nova-compute", token=token)
    return sum(s.get("state") == "up" and s.get("status") == "enabled" for s in found.get("services", []))


def container_sync(services: list[dict]) -> tuple[str, str] | None:
    """The realm and cluster /swift/info marks current, if any (container sync is set up)."""
    url = _endpoint(services, "object-store")
    if url is None or "/v1" not in url:
        return None
    try:
        _, info = _http("GET", url.split("/v1", 1)[0] + "/info")
    except OSError:
        return None
    for realm, data in info.get("container_sync", {}).get("realms", {}).items():
        for cluster, flags in data.get("clusters", {}).items():
            if flags.get("current"):
                return realm.lower(), cluster.lower()
    return None


def build(creds: dict[str, str], services: list[dict], workspace: Path, debug: bool) -> dict[str, dict[str, str]]:
    types = {service.get("type") for service in services}
    flags = {flag: "false" for flag in ALL_FLAGS}
    for service_type, flag in SERVICE_FLAGS.items():
        if service_type in types:
            flags[flag] = "true"
    volume_type = next((t for t in ("block-storage", "volumev3", "volume") if t in types), "block-storage")
    facts = {**creds, "WORKSPACE": str(workspace), "DEBUG": str(debug).lower(), "VOLUME_TYPE": volume_type}
    conf = {section: {key: re.sub(r"@@(\w+)@@", lambda m: facts[m.group(1)], value)
                      for key, value in options.items()}
            for section, options in TEMPLATE.items()}
    conf["service_available"] = flags
    current = container_sync(services)
    if current is not None:  # Tempest's container sync tests, in this cloud's realm and cluster
        features = conf["object-storage-feature-enabled"]
        features["discoverable_apis"] += ",container_sync"
        features["container_sync"] = "true"
        conf["object-storage"].update(realm_name=current[0], cluster_name=current[1],
                                      container_sync_interval="2", container_sync_timeout="120")
    return conf


def render(conf: dict[str, dict[str, str]]) -> str:
    lines = ["# written by tools/tempest_conf.py; regenerated on every tools/tempest.sh run"]
    for section, options in conf.items():
        lines += ["", f"[{section}]"] + [f"{key} = {value}" for key, value in options.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", required=True, help="Tempest workspace (conf goes to WORKSPACE/etc/tempest.conf)")
    parser.add_argument("--output", help="where to write (default WORKSPACE/etc/tempest.conf; - for stdout)")
    parser.add_argument("--auth-url")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--project-name")
    parser.add_argument("--domain-name")
    parser.add_argument("--region")
    parser.add_argument("--no-debug", action="store_true", help="don't log every HTTP exchange to tempest.log")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override an option")
    args = parser.parse_args(argv)

    workspace = Path(args.workspace).resolve()
    creds = credentials(args)
    token, services = catalog(creds)
    conf = build(creds, services, workspace, debug=not args.no_debug)
    aliases = network_extensions(token, services)
    if aliases:
        conf["network-feature-enabled"]["api_extensions"] = ",".join(aliases)
    images = test_images(token, services)
    if images:
        conf["compute"].update(image_ref=images[0], image_ref_alt=images[1])
    hosts = compute_hosts(token, services)
    if hosts:
        conf["compute"]["min_compute_nodes"] = str(hosts)
    if hosts >= 2:  # the migration tests need a second host to move servers to
        conf["compute-feature-enabled"].update(cold_migration="true", live_migration="true",
                                               block_migration_for_live_migration="true",
                                               volume_backed_live_migration="true")
    public = public_network(token, services)
    if public:
        conf["network"]["public_network_id"] = public
    for override in args.set:
        target, _, value = override.partition("=")
        section, _, key = target.rpartition(".")
        conf.setdefault(section or "DEFAULT", {})[key] = value
    text = render(conf)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        output = Path(args.output) if args.output else workspace / "etc" / "tempest.conf"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        on = [flag for flag, value in conf["service_available"].items() if value == "true"]
        print(f"tempest_conf: wrote {output} (auth {creds['AUTH_URL']}; services on: keystone"
              + "".join(f", {flag}" for flag in on) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
