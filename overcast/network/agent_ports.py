"""The ports a network agent knows, kept between events.

A port event names one port; reading every port of its network again to rebuild the
network's DHCP (and every port of the cloud to rebuild the security group members) made
each change in a network of 10,000 ports cost seconds. The agent instead reads ports whole
at a re-sync (all of them) or a network event (that network's), then keeps them up to date
one port at a time from the port events, as Neutron's DHCP agent keeps its network cache.
Only networks read whole are kept: a port of a network not yet read waits for that read.
Each kept port's DHCP reservations are kept too (built once per version of the port: at
10,000 ports, building them all again took tens of milliseconds per event).
"""

from __future__ import annotations

from overcast.network.agent_specs import dhcp_hosts


class PortCache:
    def __init__(self):
        self._networks: dict[str, dict[str, dict]] = {}  # network id -> port id -> port
        self._network_of: dict[str, str] = {}  # port id -> network id
        self._hosts: dict[str, tuple[dict, list]] = {}  # port id -> (the port, its DHCP reservations)
        self.complete = False  # every network read whole (a re-sync): ``all()`` is the cloud's ports

    def fill(self, ports: list[dict], network_ids: list[str] | None = None) -> None:
        """Take ``ports`` as the whole of the given networks (None: of the cloud)."""
        if network_ids is None:
            self._networks.clear()
            self._network_of.clear()
            self._hosts.clear()
            self.complete = True
        for network_id in network_ids or []:
            self.forget(network_id)
            self._networks[network_id] = {}
        for port in ports:
            self._networks.setdefault(port["network_id"], {})[port["id"]] = port
            self._network_of[port["id"]] = port["network_id"]

    def put(self, port: dict) -> None:
        """A port as it is now (kept only if its network is known whole)."""
        self.drop(port["id"])
        known = self._networks.get(port["network_id"])
        if known is None and self.complete:  # a network made since the re-sync: its first port
            known = self._networks[port["network_id"]] = {}
        if known is not None:
            known[port["id"]] = port
            self._network_of[port["id"]] = port["network_id"]

    def drop(self, port_id: str) -> None:
        network_id = self._network_of.pop(port_id, None)
        self._hosts.pop(port_id, None)
        if network_id is not None:
            self._networks.get(network_id, {}).pop(port_id, None)

    def forget(self, network_id: str) -> None:
        """A network gone."""
        for port_id in self._networks.pop(network_id, {}):
            self._network_of.pop(port_id, None)
            self._hosts.pop(port_id, None)

    def hosts_of(self, port: dict) -> list:
        """The port's DHCP reservations (``agent_specs.dhcp_hosts``), built again only when
        the port changed; kept only for the ports kept here."""
        known = self._hosts.get(port["id"])
        if known is not None and known[0] is port:
            return known[1]
        hosts = dhcp_hosts(port)
        if port["id"] in self._network_of:
            self._hosts[port["id"]] = (port, hosts)
        return hosts

    def of_network(self, network_id: str) -> list[dict] | None:
        """The network's ports, None when it was never read whole."""
        known = self._networks.get(network_id)
        if known is None:
            return None
        return list(known.values())

    def all(self) -> list[dict] | None:
        """Every port, None before a re-sync read them all."""
        if not self.complete:
            return None
        return [port for known in self._networks.values() for port in known.values()]

    def set_status(self, port_id: str, status: str) -> None:
        network_id = self._network_of.get(port_id)
        port = self._networks.get(network_id, {}).get(port_id) if network_id else None
        if port is not None:
            self._networks[network_id][port_id] = {**port, "status": status}
