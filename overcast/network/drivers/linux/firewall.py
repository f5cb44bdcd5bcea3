"""Security groups as iptables rules on the bridge ports (``-m physdev``), IPv4 and IPv6.

Layout, per address family (``iptables`` and ``ip6tables``; every chain starts with the
host's prefix, so two clouds on one machine never touch each other's):

- ``<prefix>-FWD`` in the filter table, jumped to once from ``FORWARD``. For each
  filtered port it sends what the guest sends (``--physdev-in tap<port>``) to the port's
  egress chain and what goes to the guest (``--physdev-out``) to its ingress chain (see
  :mod:`.firewall_rules`); what comes back from them was allowed, and is ACCEPTed at the
  end for the driver's bridges (the bridges of the ports it was given a filter for, and
  the mapped ones), so a host whose FORWARD policy is DROP still forwards them.
  Traffic of other bridges falls through untouched.
- One rule per port given a filter, with no target, whose comment records the port, its
  bridge and whether it is filtered: what this driver holds is read back from the
  kernel after a restart, without a state file.
- ``<prefix>-PRE`` in the raw table, jumped to from ``PREROUTING``: a conntrack zone per
  network bridge (``brq<net>``), so two networks with the same addresses never share
  connection state (Neutron does the same). Mapped bridges keep the default zone: the
  host itself may talk over them.

Ports given no filter (router and DHCP legs) have no chains: their traffic passes,
bounded by the filters of the guests it reaches. A port with ``port_security_enabled``
False has no chains either. Each change is one ``iptables-restore --noflush``
transaction per family: the top chain and the port's chains are flushed and rewritten
together, so a filter is never half applied and takes some tens of milliseconds.
What iptables never sees, ARP and other non-IP frames, is checked by ``ebtables``: a
``<prefix>-PRE`` chain in its nat table sends each filtered port's frames to the port's
``<prefix>-a<port10>`` chain (ARP only for its own addresses, frames only from its MACs).
When a change takes rules away, the tracked connections they let in are ended with
``conntrack -D`` (if the tool is installed), as Neutron does.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import zlib

from overcast.network.drivers.base import PortFilter
from overcast.network.drivers.errors import NetworkDriverError, PortNotPlugged

from .firewall_rules import chain, conntrack_deletions, mac_lines, port_chains, port_lines
from .host import Host, tap_name

FAMILIES = {4: ("iptables", "iptables-save", "iptables-restore"),
            6: ("ip6tables", "ip6tables-save", "ip6tables-restore")}
ZONES = range(4097, 65535)  # above the zones Neutron's agents on the same host would pick first


class Firewall:
    def __init__(self, host: Host):
        self.host = host
        self.top = f"{host.prefix}-FWD"
        self.pre = f"{host.prefix}-PRE"
        self._lock = threading.Lock()
        self._ports: dict[str, dict] | None = None  # port id -> {"bridge", "filtered", "zone"}
        self._rules: dict[str, PortFilter] = {}  # the filters set by this run (for conntrack)

    # -- the contract's calls -------------------------------------------------------------

    def init(self) -> None:
        """Make the top chains and their one jump each (never twice; nothing else of the
        host is touched), then rewrite them from what the kernel says we hold, less the
        ports whose device is gone."""
        with self._lock:
            for tool, _, _ in FAMILIES.values():
                for table, name, parent in (("filter", self.top, "FORWARD"), ("raw", self.pre, "PREROUTING")):
                    self.host.run(tool, "-w", "-t", table, "-N", name, check=False)  # exists: fine
                    if not self._has_jump(tool, table, parent, name):
                        self.host.run(tool, "-w", "-t", table, "-I", parent, "1", "-j", name)
            self.host.run("ebtables", "-t", "nat", "-N", self.pre, "-P", "RETURN", check=False)
            if not self._has_frame_jump():
                self.host.run("ebtables", "-t", "nat", "-A", "PREROUTING", "-j", self.pre)
            self._ports = self._read()
            gone = [port_id for port_id in self._ports if not self.host.link_exists(tap_name(port_id))]
            changed = {port_id: None for port_id in gone if self._ports.pop(port_id)["filtered"]}
            self._apply(changed)  # the filters of ports unplugged behind our back go too

    def set(self, port_filter: PortFilter, vif: dict | None) -> None:
        """Apply ``port_filter`` to the port (its previous rules replaced in one step);
        PortNotPlugged when ``vif`` is None. Blocks some milliseconds."""
        self.set_many([(port_filter, vif)])

    def set_many(self, items: list[tuple[PortFilter, dict | None]]) -> None:
        """``set`` for several ports in one transaction per family (a rule of a group with
        50 members: one ``iptables-restore``, not 50); PortNotPlugged, before anything is
        changed, when a ``vif`` is None."""
        for port_filter, vif in items:
            if vif is None:
                raise PortNotPlugged(port_id=port_filter.port_id)
        with self._lock:
            ports, changed = self._state(), {}
            for port_filter, vif in items:
                port_id = port_filter.port_id
                had_chains = ports.get(port_id, {}).get("filtered", False)
                ports[port_id] = {"bridge": vif.get("bridge") or "", "filtered": port_filter.port_security_enabled,
                                  "zone": self._zone(ports, vif.get("bridge") or "")}
                wanted = (port_filter, vif["mac"]) if port_filter.port_security_enabled else None
                if wanted or had_chains:
                    changed[port_id] = wanted
            self._apply(changed)
            ended = []
            for port_filter, _ in items:
                port_id = port_filter.port_id
                before, self._rules[port_id] = self._rules.get(port_id), port_filter
                if before is not None and port_filter.port_security_enabled:
                    ended.append((before, port_filter, ports[port_id]["zone"]))
            self._end_connections(ended)

    def remove(self, port_id: str) -> None:
        """Drop the port's chains and rules. Unknown port: no-op."""
        with self._lock:
            ports = self._state()
            if port_id not in ports:
                return
            had_chains = ports.pop(port_id)["filtered"]
            self._rules.pop(port_id, None)
            self._apply({port_id: None} if had_chains else {})

    def filtered(self) -> dict[str, bool]:
        """The ports given a filter, and whether each is filtered (port security on)."""
        with self._lock:
            return {port_id: info["filtered"] for port_id, info in self._state().items()}

    def clear(self) -> None:
        """Remove every chain and jump of this prefix from the host (tests, uninstall)."""
        with self._lock:
            for tool, save, restore in FAMILIES.values():
                for table, name, parent in (("filter", self.top, "FORWARD"), ("raw", self.pre, "PREROUTING")):
                    while self._has_jump(tool, table, parent, name):
                        self.host.run(tool, "-w", "-t", table, "-D", parent, "-j", name)
                self._drop_owned(save, restore, "- [0:0]", "-w")
            while self._has_frame_jump():
                self.host.run("ebtables", "-t", "nat", "-D", "PREROUTING", "-j", self.pre)
            self._drop_owned("ebtables-save", "ebtables-restore", "RETURN")
            self._ports = {}

    def _end_connections(self, changes: list[tuple[PortFilter, PortFilter, int]]) -> None:
        """End the tracked connections of the rules each ``after`` drops of its ``before``
        (needs ``conntrack``; without it they live on until they time out). Their IP
        addresses are the ones the port had before. The zones' connections are listed
        first, once each, and only the ports with an address in them get their ``conntrack
        -D`` commands (one rule off 50 idle ports: no command instead of 50); a connection
        made after the listing was made under the new rules, so it may stay."""
        if not changes or not shutil.which("conntrack", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
            return
        listed: dict[int, str] = {}
        for before, after, zone in changes:
            addresses = [item["ip_address"] for item in before.allowed_addresses]
            commands = conntrack_deletions(before.rules, after.rules, addresses, zone)
            if not commands:
                continue
            if zone not in listed:
                listed[zone] = "".join(self.host.run("conntrack", "-L", "-f", family, "-w", str(zone), check=False)
                                       for family in ("ipv4", "ipv6"))
            if not any(f"={address} " in listed[zone] for address in addresses):
                continue
            for command in commands:
                self.host.run(*command, check=False)  # exit 1: nothing to end

    def _drop_owned(self, save: str, restore: str, policy: str, *options: str) -> None:
        """Flush and delete every chain of this prefix that ``save`` lists, in one go."""
        lines = []
        for table, chains in _owned_chains(self.host.run(save, check=False), self.host.prefix).items():
            lines += [f"*{table}", *(f":{c} {policy}" for c in chains), *(f"-X {c}" for c in chains), "COMMIT"]
        if lines:
            self.host.run(restore, *options, "--noflush", input="\n".join(lines) + "\n")

    # -- state ----------------------------------------------------------------------------

    def _state(self) -> dict[str, dict]:
        if self._ports is None:
            self._ports = self._read()
        return self._ports

    def _read(self) -> dict[str, dict]:
        """What this prefix holds, from the records in the IPv4 top chain."""
        text = self.host.run("iptables-save", "-t", "filter", check=False)
        ports = {}
        pattern = re.compile(rf'^-A {re.escape(self.top)} .*--comment "?port (\S+) (\S*) (filtered|open) (\d+)')
        for line in text.splitlines():
            found = pattern.match(line)
            if found:
                port_id, bridge, kind, zone = found.groups()
                ports[port_id] = {"bridge": bridge if bridge != "-" else "", "filtered": kind == "filtered",
                                  "zone": int(zone)}
        return ports

    def _has_jump(self, tool: str, table: str, parent: str, name: str) -> bool:
        listing = self.host.run(tool, "-w", "-t", table, "-S", parent, check=False)
        return f"-A {parent} -j {name}" in listing.splitlines()

    def _has_frame_jump(self) -> bool:
        listing = self.host.run("ebtables", "-t", "nat", "-L", "PREROUTING", check=False)
        return f"-j {self.pre}" in [line.strip() for line in listing.splitlines()]

    def _zone(self, ports: dict[str, dict], bridge: str) -> int:
        """The conntrack zone of a network bridge (0: none): the one its ports already
        have, else one no chain on the host uses, picked from a hash of the bridge's name."""
        if not bridge or bridge in self.host.mappings.values():
            return 0
        for info in ports.values():
            if info["bridge"] == bridge and info["zone"]:
                return info["zone"]
        used = {info["zone"] for info in ports.values()}
        used |= {int(zone) for zone in re.findall(r"--zone (\d+)", self.host.run("iptables-save", "-t", "raw",
                                                                                 check=False))}
        start = zlib.crc32(bridge.encode()) % len(ZONES)
        for step in range(len(ZONES)):
            zone = ZONES[(start + step) % len(ZONES)]
            if zone not in used:
                return zone
        return 0

    # -- applying -------------------------------------------------------------------------

    def _apply(self, changed: dict[str, tuple[PortFilter, str] | None]) -> None:
        """Rewrite the top chains from ``self._ports`` and, in the same transaction, each
        changed port's chains: made from (filter, MAC), or removed when None. A failure
        leaves the kernel's state to be read again by the next call."""
        try:
            self._write(changed)
        except NetworkDriverError:
            self._ports = None
            raise

    def _write(self, changed: dict[str, tuple[PortFilter, str] | None]) -> None:
        inputs = {}
        for version, (_, _, restore) in FAMILIES.items():
            lines = ["*raw", f":{self.pre} - [0:0]", *self._zone_lines(), "COMMIT",
                     "*filter", f":{self.top} - [0:0]"]
            for port_id in changed:
                lines += [f":{name} - [0:0]" for name in port_chains(self.host.prefix, port_id)]
            lines += self._top_lines()
            for port_id, wanted in changed.items():
                if wanted is None:
                    lines += [f"-X {name}" for name in port_chains(self.host.prefix, port_id)]
                else:
                    lines += port_lines(self.host.prefix, wanted[0], wanted[1], version)
            lines.append("COMMIT")
            inputs[restore] = "\n".join(lines) + "\n"
        for restore, text in inputs.items():
            self.host.run(restore, "-w", "--noflush", input=text)
        for port_id, wanted in changed.items():  # a chain to remove must exist for ebtables-restore
            if wanted is None:
                self.host.run("ebtables", "-t", "nat", "-N", chain(self.host.prefix, "a", port_id), check=False)
        self.host.run("ebtables-restore", "--noflush", input=self._ebtables_text(changed))

    def _ebtables_text(self, changed: dict[str, tuple[PortFilter, str] | None]) -> str:
        """The nat table's top chain (a jump per filtered port, by its tap) and each changed
        port's chain: made, or removed."""
        prefix = self.host.prefix
        lines = ["*nat", f":{self.pre} RETURN", *(f":{chain(prefix, 'a', port_id)} RETURN" for port_id in changed)]
        lines += [f"-A {self.pre} -i {tap_name(port_id)} -j {chain(prefix, 'a', port_id)}"
                  for port_id, info in sorted(self._ports.items()) if info["filtered"]]
        for port_id, wanted in changed.items():
            if wanted is None:
                lines.append(f"-X {chain(prefix, 'a', port_id)}")
            else:
                lines += mac_lines(self.host.prefix, port_id, wanted[1], wanted[0])
        return "\n".join([*lines, "COMMIT"]) + "\n"

    def _top_lines(self) -> list[str]:
        prefix, top = self.host.prefix, self.top
        lines = []
        for port_id, info in sorted(self._ports.items()):
            kind = "filtered" if info["filtered"] else "open"
            record = f"port {port_id} {info['bridge'] or '-'} {kind} {info['zone']}"
            lines.append(f'-A {top} -m comment --comment "{record}"')
            if info["filtered"]:
                ingress, egress, _ = port_chains(prefix, port_id)
                tap = tap_name(port_id)
                lines += [f"-A {top} -m physdev --physdev-in {tap} --physdev-is-bridged -j {egress}",
                          f"-A {top} -m physdev --physdev-out {tap} --physdev-is-bridged -j {ingress}"]
        bridges = sorted({info["bridge"] for info in self._ports.values() if info["bridge"]}
                         | set(self.host.mappings.values()))
        return lines + [f"-A {top} -o {bridge} -m physdev --physdev-is-bridged -j ACCEPT" for bridge in bridges]

    def _zone_lines(self) -> list[str]:
        zones = {info["bridge"]: info["zone"] for info in self._ports.values() if info["zone"]}
        return [f"-A {self.pre} -i {bridge} -m physdev --physdev-is-in -j CT --zone {zone}"
                for bridge, zone in sorted(zones.items())]


def _owned_chains(text: str, prefix: str) -> dict[str, list[str]]:
    """``iptables-save`` output -> the chains named ``<prefix>-...`` in each table."""
    chains: dict[str, list[str]] = {}
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(f":{prefix}-"):
            chains.setdefault(table, []).append(line[1:].split()[0])
    return chains
