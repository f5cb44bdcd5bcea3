"""The Linux driver: real bridges, taps, namespaces, dnsmasq and iptables on this host.

The parts, each in its own module, share one :class:`host.Host` (names, commands):

- :mod:`.bridges`: a bridge per network, taps for guests, veth legs for namespaces;
- :mod:`.tunnels`: the VXLAN device joining a vxlan network's bridges across hosts;
- :mod:`.dhcp`: a ``qdhcp-`` namespace and a dnsmasq per network;
- :mod:`.routers`: a ``qrouter-`` namespace per router, SNAT and floating IPs;
- :mod:`.firewall`: security groups as iptables rules on the bridge ports (physdev);
- :mod:`.metadata`: the 169.254.169.254 proxy in each DHCP namespace.

Needs root, iproute2, dnsmasq and iptables; ``init_host`` says what is missing.
"""

from __future__ import annotations

from pathlib import Path

from overcast.network.drivers.base import (Capabilities, DhcpSpec, NetworkDriver, PortFilter, PortSpec, RouterSpec)
from overcast.network.drivers.errors import NetworkDriverError

from .bridges import Bridges
from .dhcp import Dhcp
from .firewall import Firewall
from .host import Host
from .metadata import MetadataProxies
from .routers import Routers
from .tunnels import Tunnels


class LinuxNetworkDriver(NetworkDriver):
    capabilities = Capabilities.all()

    def __init__(self, state_dir: str = "", prefix: str = "oc", bridge_mappings: str = "public:br-ex",
                 metadata_secret: str = "", local_ip: str = "", vxlan_port: int = 4789):
        state = Path(state_dir or Path("~/.local/share/overcast/network").expanduser())
        self.host = Host(state, prefix, bridge_mappings)
        self.tunnels = Tunnels(self.host, local_ip, vxlan_port)
        self.bridges = Bridges(self.host, self.tunnels)
        self.dhcp = Dhcp(self.host, self.bridges)
        self.routers = Routers(self.host, self.bridges)
        self.firewall = Firewall(self.host)
        self.metadata = MetadataProxies(self.host, metadata_secret)
        self.hostname = ""

    def init_host(self, host: str) -> None:
        missing = self.host.missing_tools()
        if missing:
            raise NetworkDriverError(action="start", reason=f"missing Debian packages: {' '.join(missing)}")
        self.hostname = host
        self.host.state_dir.mkdir(parents=True, exist_ok=True)
        self.bridges.init()
        self.tunnels.init()
        self.firewall.init()

    def report(self) -> dict:
        report = {"bridge_mappings": self.host.mappings, "interface_mappings": {},
                  "devices": len(self.bridges.list())}
        if self.tunnels.local_ip:
            report.update(tunneling_ip=self.tunnels.local_ip, tunnel_types=["vxlan"])
        return report

    # -- tunnels ---------------------------------------------------------------------

    def tunnel_endpoint(self) -> str | None:
        return self.tunnels.local_ip or None

    def set_tunnel_peers(self, peers: list[str]) -> None:
        self.tunnels.set_peers(peers)

    def tunnel_peers(self) -> list[str]:
        return list(self.tunnels.peers)

    # -- ports -----------------------------------------------------------------------

    def plug_port(self, port: PortSpec) -> dict:
        return self.bridges.plug(port)

    def unplug_port(self, port_id: str) -> None:
        self.firewall.remove(port_id)
        self.bridges.unplug(port_id)

    def list_ports(self) -> list[str]:
        return self.bridges.list()

    def vif(self, port_id: str) -> dict | None:
        return self.bridges.vif(port_id)

    def set_port_filter(self, port_filter: PortFilter) -> None:
        self.firewall.set(port_filter, self.bridges.vif(port_filter.port_id))

    def set_port_filters(self, port_filters: list[PortFilter]) -> None:
        vifs = self.bridges.vifs()
        self.firewall.set_many([(item, vifs.get(item.port_id)) for item in port_filters])

    # -- DHCP ------------------------------------------------------------------------

    def sync_dhcp(self, spec: DhcpSpec) -> None:
        self.dhcp.sync(spec)

    def remove_dhcp(self, network_id: str) -> None:
        self.metadata.stop(network_id)
        self.dhcp.remove(network_id)

    def list_dhcp(self) -> list[str]:
        return self.dhcp.list()

    # -- routers ---------------------------------------------------------------------

    def sync_router(self, spec: RouterSpec) -> None:
        self.routers.sync(spec)

    def remove_router(self, router_id: str) -> None:
        self.routers.remove(router_id)

    def list_routers(self) -> list[str]:
        return self.routers.list()

    # -- metadata --------------------------------------------------------------------

    def serve_metadata(self, network_id: str, upstream: str) -> None:
        self.metadata.serve(network_id, upstream)

    def stop_metadata(self, network_id: str) -> None:
        self.metadata.stop(network_id)

    def list_metadata(self) -> list[str]:
        return self.metadata.list()
