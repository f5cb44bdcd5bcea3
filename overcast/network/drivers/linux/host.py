"""What every part of the Linux driver shares: the names it gives to things on the host
and the one way it runs commands.

Names. Devices have at most 15 characters, so they carry the first 11 characters of the
port or network id (Neutron's convention); namespaces carry the whole id:

- ``brq<net>``: a tenant network's bridge; a flat network on a mapped physical network
  uses the mapped bridge instead (``bridge_mappings``, ``public:br-ex`` by default);
- ``tap<port>``: the host end of every port: a guest's tap, or the host end of the veth
  pair whose other end sits in a namespace as ``ns-<port>`` (DHCP), ``qr-<port>`` (a
  router's internal leg) or ``qg-<port>`` (its gateway leg);
- ``vx-<net>``: a vxlan network's VXLAN device on its bridge, when the host has a tunnel
  endpoint (``tunnels``);
- ``qdhcp-<network id>``, ``qrouter-<router id>``: the namespaces.

Every link the driver makes carries the alias ``<prefix>:<kind>:<full id>``, so what
exists is read back from the kernel (``ip -j link``) after a restart, without a state
file to lose or corrupt; ``prefix`` (``oc`` by default) also starts the names of the
driver's iptables chains, so two clouds on one machine (tests) leave each other alone.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

from overcast.network.drivers.errors import NetworkDriverError

log = logging.getLogger("overcast.network.linux")
#: what the driver runs, and the Debian package each comes in
TOOLS = {"ip": "iproute2", "bridge": "iproute2", "dnsmasq": "dnsmasq-base", "iptables": "iptables",
         "iptables-save": "iptables", "iptables-restore": "iptables", "ip6tables": "iptables",
         "sysctl": "procps", "ebtables": "iptables"}
METADATA_IP = "169.254.169.254"


def bridge_name(network_id: str) -> str:
    return f"brq{network_id[:11]}"


def tap_name(port_id: str) -> str:
    return f"tap{port_id[:11]}"


def inner_name(kind: str, port_id: str) -> str:
    """The namespace end of a port's veth: kind ``ns`` (DHCP), ``qr`` or ``qg`` (router)."""
    return f"{kind}-{port_id[:11]}"


def vxlan_name(network_id: str) -> str:
    """A vxlan network's VXLAN device, in its bridge beside the taps."""
    return f"vx-{network_id[:11]}"


def dhcp_namespace(network_id: str) -> str:
    return f"qdhcp-{network_id}"


def router_namespace(router_id: str) -> str:
    return f"qrouter-{router_id}"


def no_ipv6(device: str) -> None:
    """The host takes no address (nor sends router solicitations) on tenant devices."""
    try:
        Path(f"/proc/sys/net/ipv6/conf/{device}/disable_ipv6").write_text("1")
    except OSError:
        pass


def parse_mappings(text: str) -> dict[str, str]:
    """``"public:br-ex,other:br-o"`` -> ``{"public": "br-ex", "other": "br-o"}``."""
    mappings = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        physnet, _, bridge = item.partition(":")
        if not physnet or not bridge or len(bridge) > 15:
            raise ValueError(f"bridge mapping {item!r} is not physnet:bridge (a bridge name of at most 15 characters)")
        mappings[physnet] = bridge
    return mappings


class Host:
    """The machine's side: runs commands (in a namespace when asked), reads links."""

    def __init__(self, state_dir: str | Path, prefix: str = "oc", bridge_mappings: str = "public:br-ex"):
        self.state_dir = Path(state_dir)
        self.prefix = prefix
        self.mappings = parse_mappings(bridge_mappings)

    def missing_tools(self) -> list[str]:
        """The Debian packages whose commands are not installed."""
        path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
        return sorted({package for tool, package in TOOLS.items() if shutil.which(tool, path=path) is None})

    def run(self, *args: str, netns: str | None = None, check: bool = True, input: str | None = None) -> str:
        """Run a command (inside ``netns`` if given); its stdout. A failure raises
        NetworkDriverError naming the command and quoting its stderr, unless ``check`` is
        False."""
        command = (["ip", "netns", "exec", netns] if netns else []) + list(args)
        env = {**os.environ, "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/sbin"}
        done = subprocess.run(command, capture_output=True, text=True, input=input, env=env)
        if check and done.returncode != 0:
            raise NetworkDriverError(action=" ".join(args[:3]), reason=(done.stderr or done.stdout).strip()
                                     or f"exit status {done.returncode}")
        return done.stdout

    def alias(self, kind: str, ident: str) -> str:
        return f"{self.prefix}:{kind}:{ident}"

    def links(self, netns: str | None = None) -> list[dict]:
        """``ip -j link`` (in ``netns``): one dict per link, ``ifname``, ``ifalias``, ``address``..."""
        return json.loads(self.run("ip", "-j", "-d", "link", "show", netns=netns) or "[]")

    def owned(self, kind: str, netns: str | None = None) -> dict[str, dict]:
        """This driver's links of one kind, by the id their alias carries."""
        head = f"{self.prefix}:{kind}:"
        return {link["ifalias"][len(head):]: link for link in self.links(netns)
                if link.get("ifalias", "").startswith(head)}

    def link_exists(self, name: str, netns: str | None = None) -> bool:
        if netns is None:
            return os.path.exists(f"/sys/class/net/{name}")
        return self.run("ip", "link", "show", name, netns=netns, check=False) != ""

    def namespaces(self) -> list[str]:
        return sorted(entry for entry in os.listdir("/run/netns")) if os.path.isdir("/run/netns") else []

    def add_namespace(self, name: str) -> None:
        if name not in self.namespaces():
            self.run("ip", "netns", "add", name)
            self.run("ip", "link", "set", "lo", "up", netns=name)

    def remove_namespace(self, name: str) -> None:
        if name in self.namespaces():
            self.run("ip", "netns", "delete", name)
