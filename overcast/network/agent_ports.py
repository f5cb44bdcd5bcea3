"""The ports a network agent knows, kept between events.

A port event names one port; reading every port of its network again to rebuild the
network's DHCP (and every port of the cloud to rebuild the security group members) made
each change in a network of 10,000 ports cost seconds. The agent instead reads ports whole
at a re-sync (all of them) or a network event (that network's), then keeps them up to date
one port at a time from the port events, as Neutron's DHCP agent keeps its network cache.
Only networks read whole are kept: a port of a network not yet read waits for that read.

Beside each network's ports it keeps their DHCP reservations and which of them are DHCP
ports, each brought up to date with the port, so a DHCP sync after a port event gathers
them without building 10,000 reservations again (tens of milliseconds a sync).
"""

from __future__ import annotations

from overcast.network.agent_specs import DHCP_OWNER, dhcp_hosts
from overcast.network.drivers import DhcpHost, Reservations


class PortCache:
    def __init__(self):
        self._networks: dict[str, dict[str, dict]] = {}  # network id -> port id -> port
        self._hosts: dict[str, dict[str, list[DhcpHost]]] = {}  # network id -> port id -> its reservations
        self._servers: dict[str, dict[str, dict]] = {}  # network id -> port id -> DHCP port
        self._network_of: dict[str, str] = {}  # port id -> network id
        self.complete = False  # every network read whole (a re-sync): ``all()`` is the cloud's ports

    def fill(self, ports: list[dict], network_ids: list[str] | None = None) -> None:
        """Take ``ports`` as the whole of the given networks (None: of the cloud)."""
        if network_ids is None:
            for known in (self._networks, self._hosts, self._servers, self._network_of):
                known.clear()
            self.complete = True
        for network_id in network_ids or []:
            self.forget(network_id)
            self._start(network_id)
        for port in ports:
            if port["network_id"] not in self._networks:
                self._start(port["network_id"])
            self._keep(port)

    def knows(self, network_id: str) -> bool:
        """Whether the network's ports are all here (a network never seen after a re-sync has none)."""
        return self.complete or network_id in self._networks

    def put(self, port: dict) -> None:
        """A port as it is now (kept only if its network is known whole)."""
        self.drop(port["id"])
        if port["network_id"] not in self._networks and self.complete:  # a network made since the re-sync
            self._start(port["network_id"])
        if port["network_id"] in self._networks:
            self._keep(port)

    def drop(self, port_id: str) -> None:
        network_id = self._network_of.pop(port_id, None)
        if network_id is not None:
            for known in (self._networks, self._hosts, self._servers):
                known[network_id].pop(port_id, None)

    def forget(self, network_id: str) -> None:
        """A network gone (or about to be read whole again)."""
        for port_id in self._networks.pop(network_id, {}):
            self._network_of.pop(port_id, None)
        self._hosts.pop(network_id, None)
        self._servers.pop(network_id, None)

    def reservations(self, network_id: str) -> Reservations:
        """The DHCP reservations of the network's known ports (``agent_specs.dhcp_hosts``) as
        they are now."""
        return Reservations(tuple(self._hosts.get(network_id, {}).values()))

    def dhcp_ports(self, network_id: str) -> list[dict]:
        """The network's known DHCP ports."""
        return list(self._servers.get(network_id, {}).values())

    def all(self) -> list[dict] | None:
        """Every port, None before a re-sync read them all."""
        if not self.complete:
            return None
        return [port for known in self._networks.values() for port in known.values()]

    def set_status(self, port_id: str, status: str) -> None:
        network_id = self._network_of.get(port_id)
        port = self._networks.get(network_id, {}).get(port_id) if network_id else None
        if port is not None:
            self._keep({**port, "status": status})

    def _start(self, network_id: str) -> None:
        self._networks[network_id], self._hosts[network_id], self._servers[network_id] = {}, {}, {}

    def _keep(self, port: dict) -> None:
        network_id, port_id = port["network_id"], port["id"]
        self._networks[network_id][port_id] = port
        self._hosts[network_id][port_id] = dhcp_hosts(port)
        if port.get("device_owner") == DHCP_OWNER:
            self._servers[network_id][port_id] = port
        self._network_of[port_id] = network_id
