"""The NetworkDriver contract: the plumbing of one host for the network agent.

Vocabulary. A *segment* is how a network reaches the host (:class:`Segment`: its type,
``vxlan`` with a VNI, ``flat`` on a physical network, or ``local``, and its MTU). A
*port* is a Neutron port: a MAC and fixed IPs on one network. *Plugging* a port makes
the device a guest opens (a tap on the network's bridge) and returns its *VIF*, the dict
the compute contract documents (``overcast/compute/drivers/base.py``)::

    {"id": port id, "mac": "fa:16:3e:..", "devname": tap name, "bridge": bridge name,
     "mtu": 1450}

(a driver may add keys; nobody relies on them). Device, bridge and namespace names,
process ids and files are the driver's own and never leave it but in the VIF.

Everything else is *declarative*: the agent hands the whole wanted state of one thing
(a network's DHCP, a router, a port's filter) and the driver makes the host match it,
adding and removing what differs. So every ``sync_*``/``set_*`` call is idempotent, a
repeated call with the same spec changes nothing, and the agent re-syncs everything on
start without knowing what a previous run left; ``list_*`` tell it what exists, so it
can remove what the database no longer has.

- DHCP (:class:`DhcpSpec`): answer DHCP for a network's DHCP-enabled subnets with the
  fixed IPs of its ports (hostnames ``host-<ip with dashes>``), from the DHCP port's IP.
- Routers (:class:`RouterSpec`): one namespace per router with a leg per internal
  subnet (the router port's IP), the gateway leg on the external network with its
  default route, SNAT of the internal subnets to the gateway IP when ``snat`` is on,
  static routes, and floating IPs (1:1 DNAT and SNAT between a floating IP and a fixed
  IP on one of the legs), and port forwardings (one protocol port of a floating IP
  that has no port of its own, DNATed to an address and port on one of the legs). A
  router with ``admin_state_up`` False keeps its namespace and legs but forwards
  nothing.
- Security groups (:class:`PortFilter`): the rules of a port's groups, with remote
  groups already turned into address lists by the agent; traffic not allowed by a rule
  is dropped; anti-spoofing allows only the port's MAC and addresses (fixed IPs and
  allowed address pairs). ``port_security_enabled`` False means no filter at all.
- Tunnels: a driver that joins hosts (``tunnel_endpoint`` not None) carries each
  ``vxlan`` network's traffic to the other hosts in VXLAN packets (VNI = the segment's
  ``segmentation_id``) sent from its endpoint; what it floods (broadcast, unknown
  unicast, multicast) goes to every *peer*, the endpoints of the other hosts, which the
  agent keeps current with ``set_tunnel_peers``. The network's MTU leaves room for the
  50 bytes of VXLAN (the API gives vxlan networks 1450).
- Metadata: make ``169.254.169.254:80`` reachable from a network's guests, forwarding
  HTTP to ``upstream`` with the headers ``X-Forwarded-For`` (the guest's IP),
  ``X-Neutron-Network-ID`` and the signature the metadata service checks
  (``overcast/metadata/signature.py``). The agent serves it only for networks whose DHCP
  this host serves (a driver may put the proxy in the DHCP namespace).

Threading and blocking: every method is synchronous and may block (commands, processes);
the agent calls it from a worker thread, one call at a time per port, network and
router. Each method says how long it may block.

Errors: ``overcast.network.drivers.errors``. Removing what does not exist succeeds.
Backend failures raise NetworkDriverError subclasses; a failed call leaves no half-made
thing behind (a failed ``plug_port`` leaves no device; a failed ``sync_*`` leaves what
was there before, or nothing). Optional features are :class:`Capabilities` flags, all
False here; the base methods of an optional feature raise DriverCapabilityError, so a
driver overrides the methods and sets the flag together.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain

from .errors import DriverCapabilityError

NETWORK_TYPES = ("vxlan", "flat", "local")


@dataclass(frozen=True)
class Capabilities:
    supports_dhcp: bool = False             # sync_dhcp, remove_dhcp, list_dhcp
    supports_routers: bool = False          # sync_router, remove_router, list_routers (incl. SNAT, routes)
    supports_floating_ips: bool = False     # RouterSpec.floating_ips
    supports_security_groups: bool = False  # set_port_filter
    supports_metadata: bool = False         # serve_metadata, stop_metadata, list_metadata

    @classmethod
    def all(cls) -> Capabilities:
        return cls(**{f.name: True for f in dataclasses.fields(cls)})

    def as_dict(self) -> dict[str, bool]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Segment:
    """How one network reaches this host."""

    network_id: str
    network_type: str = "vxlan"  # vxlan | flat | local
    segmentation_id: int | None = None  # the VNI of a vxlan network
    physical_network: str | None = None  # a flat network's physical network
    mtu: int = 1450


@dataclass(frozen=True)
class PortSpec:
    """A port to plug. ``fixed_ips``: ``[{"subnet_id", "ip_address"}]``."""

    id: str
    segment: Segment
    mac: str
    fixed_ips: list[dict] = field(default_factory=list)
    device_owner: str = ""
    device_id: str = ""
    admin_state_up: bool = True


@dataclass(frozen=True)
class SubnetSpec:
    id: str
    cidr: str
    ip_version: int = 4
    gateway_ip: str | None = None
    enable_dhcp: bool = True
    dns_nameservers: list[str] = field(default_factory=list)
    host_routes: list[dict] = field(default_factory=list)  # [{"destination", "nexthop"}]
    allocation_pools: list[dict] = field(default_factory=list)  # [{"start", "end"}]


@dataclass(frozen=True)
class DhcpHost:
    """One reservation: the port's MAC gets ``ip_address`` (one per fixed IP)."""

    port_id: str
    mac: str
    ip_address: str
    hostname: str = ""


@functools.lru_cache(maxsize=1 << 16)
def address_within(ip: str, cidrs: tuple[str, ...]) -> bool:
    """Whether ``ip`` lies in one of ``cidrs``; remembered, because a DHCP sync checks every
    reservation of the network (parsing 10,000 addresses again took ~100 ms a sync)."""
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


class Reservations(Sequence):
    """A network's reservations, grouped by port as the network agent keeps them, laid
    out in one list only when a driver reads them (a sync of 10,000 costs no more than a
    sync of ten until then)."""

    def __init__(self, groups: tuple[list[DhcpHost], ...]):
        self._groups, self._flat = groups, None

    def _all(self) -> list[DhcpHost]:
        if self._flat is None:
            self._flat = list(chain.from_iterable(self._groups))
        return self._flat

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self):
        return iter(self._all())


@dataclass(frozen=True)
class DhcpSpec:
    """A network's DHCP: its subnets, its ports' reservations, and the DHCP port the
    server answers from (its fixed IPs). Without a DHCP port nothing can be served: the
    driver treats the network as not served (as ``remove_dhcp``)."""

    segment: Segment
    subnets: list[SubnetSpec] = field(default_factory=list)
    hosts: Sequence[DhcpHost] = field(default_factory=list)  # a list, or Reservations
    dhcp_port: PortSpec | None = None
    dns_domain: str = "openstacklocal"


@dataclass(frozen=True)
class RouterLeg:
    """A router port: ``ip_address`` within ``cidr`` on ``segment``. An IPv6 leg with
    ``ipv6_ra_mode`` (``slaac``, ``dhcpv6-stateless``, ``dhcpv6-stateful``) advertises its
    prefix in router advertisements, in that mode; without it, nothing is advertised."""

    port_id: str
    mac: str
    segment: Segment
    subnet_id: str
    ip_address: str
    cidr: str
    ipv6_ra_mode: str | None = None


@dataclass(frozen=True)
class FloatingSpec:
    floating_ip: str
    fixed_ip: str
    port_id: str


@dataclass(frozen=True)
class ForwardingSpec:
    """A port forwarding: ``protocol`` traffic to ``floating_ip:external_port`` goes to
    ``internal_ip:internal_port`` (an address on one of the router's legs)."""

    floating_ip: str
    protocol: str  # tcp | udp | udplite | dccp
    external_port: int
    internal_ip: str
    internal_port: int


@dataclass(frozen=True)
class RouterSpec:
    id: str
    legs: list[RouterLeg] = field(default_factory=list)
    gateway: RouterLeg | None = None  # the leg on the external network
    gateway_ip: str | None = None  # the external subnet's gateway: the default route
    snat: bool = True
    routes: list[dict] = field(default_factory=list)  # [{"destination", "nexthop"}]
    floating_ips: list[FloatingSpec] = field(default_factory=list)
    port_forwardings: list[ForwardingSpec] = field(default_factory=list)  # floating IPs with no port of their own
    admin_state_up: bool = True  # False: legs in place (ports stay ACTIVE) but nothing is forwarded


@dataclass(frozen=True)
class FilterRule:
    direction: str  # ingress | egress
    ethertype: str = "IPv4"
    protocol: str | None = None  # None: any; a name or a number as a string
    port_range_min: int | None = None  # or the ICMP type
    port_range_max: int | None = None  # or the ICMP code
    remote_ip_prefixes: tuple[str, ...] = ()  # empty: anywhere


@dataclass(frozen=True)
class PortFilter:
    port_id: str
    rules: list[FilterRule] = field(default_factory=list)
    stateful: bool = True
    port_security_enabled: bool = True
    allowed_addresses: list[dict] = field(default_factory=list)  # [{"ip_address", "mac_address"}]


class NetworkDriver(ABC):
    """One host's network plumbing. See the module docstring for the vocabulary."""

    capabilities = Capabilities()

    @abstractmethod
    def init_host(self, host: str) -> None:
        """Prepare the host (check tools, make the base bridges). Called once before
        anything else; idempotent; may block a few seconds."""

    def report(self) -> dict:
        """What the agents API shows as the agents' ``configurations`` (counts, mappings)."""
        return {}

    # -- ports ------------------------------------------------------------------

    @abstractmethod
    def plug_port(self, port: PortSpec) -> dict:
        """Make the port's device on its network's bridge and return its VIF. Plugging a
        plugged port returns the same VIF (its MAC and MTU brought up to date). Raises
        UnsupportedNetworkType, or PlugFailed leaving no device behind. Blocks < 2 s."""

    @abstractmethod
    def unplug_port(self, port_id: str) -> None:
        """Remove the port's device and filter; a bridge with nothing left on it goes
        too. Not plugged: no-op. Blocks < 2 s."""

    @abstractmethod
    def list_ports(self) -> list[str]:
        """Ids of the ports plugged on this host."""

    def vif(self, port_id: str) -> dict | None:
        """The VIF of a plugged port, or None."""
        return None

    # -- tunnels ------------------------------------------------------------------

    def tunnel_endpoint(self) -> str | None:
        """This host's tunnel endpoint (VTEP): the address other hosts send its vxlan
        networks' packets to, which the agent reports as ``tunneling_ip``; None when the
        driver joins no hosts (one host, or a driver without tunnels)."""
        return None

    def set_tunnel_peers(self, peers: list[str]) -> None:
        """Flood every vxlan network's traffic to these endpoints (the other hosts'),
        replacing the previous list, for the networks plugged now and later; this host's
        own endpoint in the list is ignored. Idempotent (no duplicate entries). A driver
        without an endpoint only remembers them (this default). Blocks < 1 s per network
        plugged."""
        self._tunnel_peers = sorted(set(peers) - {self.tunnel_endpoint()})

    def tunnel_peers(self) -> list[str]:
        """The peers last set (sorted, without this host's endpoint)."""
        return list(getattr(self, "_tunnel_peers", []))

    # -- security groups --------------------------------------------------------

    def set_port_filter(self, port_filter: PortFilter) -> None:
        """Make the port's traffic obey ``port_filter`` (replacing its previous rules).
        Raises PortNotPlugged for a port not plugged here. Blocks < 2 s."""
        raise DriverCapabilityError(action="filter ports")

    def set_port_filters(self, port_filters: list[PortFilter]) -> None:
        """``set_port_filter`` for several ports (one rule of a group reaches all its
        members); a driver may apply them in one step. Idempotent. PortNotPlugged if one is
        not plugged: this default has then applied the ones before it, a driver applying
        them in one step has applied none. Blocks < 2 s for 50 ports."""
        for port_filter in port_filters:
            self.set_port_filter(port_filter)

    # -- DHCP -------------------------------------------------------------------

    def sync_dhcp(self, spec: DhcpSpec) -> None:
        """Serve DHCP for the network as ``spec`` says; a spec without a DHCP-enabled
        subnet stops it. Reservations for addresses outside the DHCP-enabled subnets
        are ignored. Blocks < 5 s (a server may be (re)started)."""
        raise DriverCapabilityError(action="serve DHCP")

    def remove_dhcp(self, network_id: str) -> None:
        """Stop serving DHCP for the network and remove its files. Not served: no-op."""
        raise DriverCapabilityError(action="serve DHCP")

    def list_dhcp(self) -> list[str]:
        """Ids of the networks served."""
        return []

    # -- routers ----------------------------------------------------------------

    def sync_router(self, spec: RouterSpec) -> None:
        """Make the router's namespace match ``spec``: legs, gateway and default route,
        SNAT, static routes, floating IPs, port forwardings. Raises NetworkDriverError
        (leaving the router as it was) for a floating IP or forwarding whose internal
        address is on no leg, or either on a router without a gateway. Blocks < 5 s."""
        raise DriverCapabilityError(action="run routers")

    def remove_router(self, router_id: str) -> None:
        """Remove the router's namespace and all it holds. Unknown: no-op."""
        raise DriverCapabilityError(action="run routers")

    def list_routers(self) -> list[str]:
        return []

    # -- metadata ---------------------------------------------------------------

    def serve_metadata(self, network_id: str, upstream: str) -> None:
        """Make 169.254.169.254:80 reachable from the network's guests, proxied to
        ``upstream`` (an http URL) with X-Forwarded-For and X-Neutron-Network-ID. Idempotent
        (a new upstream replaces the old). Blocks < 5 s."""
        raise DriverCapabilityError(action="serve metadata")

    def stop_metadata(self, network_id: str) -> None:
        """Stop the network's metadata proxy. Not served: no-op."""
        raise DriverCapabilityError(action="serve metadata")

    def list_metadata(self) -> list[str]:
        return []
