"""The network agent: one per host, playing Neutron's DHCP, L3, metadata and Linux
bridge agents over one :class:`NetworkDriver`.

It hears the fanout topic ``network`` (``service/agent_api.py``: port, network, router
and security group changes, each carrying ids) and answers calls on ``network.<host>``
(``plug_port(port_id) -> vif``, ``unplug_port(port_id)``) from the compute agent. It
reads what it needs through a source (:class:`agent_specs.ServiceSource`, the service's
Python interface in this process; :class:`agent_source.BusSource` on another host) and makes the host
match it through the driver, whose calls are idempotent: a missed message is repaired
by the next one about the same thing, and a start re-syncs everything.

Heartbeats go out as the four Neutron binaries, so ``network agent list`` shows them;
the bridge agent's carry the host's tunnel endpoint (``tunneling_ip``) when the driver
has one. Such an agent asks the source for the other hosts' endpoints (the live agents'
``tunneling_ip``) at start and every ``PEERS_INTERVAL`` seconds, and hands them to the
driver when they change: a host that comes is flooded to within that time, one whose
agent stopped beating is dropped once it counts as down.
It serves DHCP and metadata only for the networks scheduled to its DHCP agent and runs
only the routers scheduled to its L3 agent (``service/agent_scheduler.py``): at start it
asks for them (``agent_sync``, which also schedules what is unscheduled), and on each
network or router event it asks whether the network or router is still its own, dropping
it (namespace, dnsmasq, proxy, its DHCP port) when not. In the all-in-one cloud its one
DHCP and L3 agent get everything.
"""

from __future__ import annotations

import asyncio
import logging

from overcast.common import heartbeats
from overcast.network import agent_specs as specs
from overcast.network.agent_ports import PortCache
from overcast.network.drivers import NetworkDriver
from overcast.network.errors import NetworkNotFound

log = logging.getLogger("overcast.network.agent")
TOPIC = "network"
#: binary -> the topic Neutron's agent of that kind reports
BINARIES = {"neutron-dhcp-agent": "dhcp_agent", "neutron-l3-agent": "l3_agent",
            "neutron-metadata-agent": "N/A", "neutron-linuxbridge-agent": "N/A"}
BRIDGE_AGENT = "neutron-linuxbridge-agent"
PEERS_INTERVAL = heartbeats.INTERVAL  # seconds between two reads of the other hosts' tunnel endpoints


class NetworkAgent:
    def __init__(self, bus, driver: NetworkDriver, host: str, source, metadata_upstream: str = "",
                 ports_only: bool = False, follow_events: bool | None = None):
        self.bus = bus
        self.ports_only = ports_only  # a compute host's L2 agent only: plugs its ports, no DHCP, L3 or metadata
        # hear the fanout (port and security group changes) and re-sync the ports at start; an
        # L2 agent of a fake host (``compute.fake_hosts``) needs neither
        self.follow_events = (not ports_only) if follow_events is None else follow_events
        self.driver = driver
        self.host = host
        self.source = source
        self.metadata_upstream = metadata_upstream
        self._lock = asyncio.Lock()  # one change at a time: specs are computed from a consistent read
        self._tasks: list[asyncio.Task] = []
        self._dhcp_asked: dict[str, tuple] = {}  # network id -> the DHCP port change last asked for
        self._filters: dict = {}  # port id -> the PortFilter last set on it (unchanged ones are not set again)
        self._ports = PortCache()  # what port events keep up to date between reads (agent_ports.py)
        self._pending_ports: dict[str, str | None] = {}  # port events waiting for the lock
        self._peers: list[str] | None = None  # the tunnel peers last given to the driver (None: not yet)

    # -- start and stop ------------------------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self.driver.init_host, self.host)
        endpoint = self.driver.tunnel_endpoint()
        if endpoint:  # floods reach the other hosts before anything is plugged
            await self._run(self._sync_peers)
        binaries = BINARIES
        if self.ports_only:  # as Neutron's compute nodes run only the L2 agent
            binaries = {BRIDGE_AGENT: BINARIES[BRIDGE_AGENT]}
        if self.follow_events:
            await self.resync()
            await self.bus.serve(TOPIC, self.fanout_handlers(), fanout=True)
        await self.bus.serve(f"{TOPIC}.{self.host}", {"plug_port": self.plug_port, "unplug_port": self.unplug_port})
        tunnel = {"tunneling_ip": endpoint, "tunnel_types": ["vxlan"]} if endpoint else None
        self._tasks = [asyncio.create_task(heartbeats.report_forever(
            self.bus, binary, self.host, topic, tunnel if binary == BRIDGE_AGENT else None))
            for binary, topic in binaries.items()]
        if endpoint:
            self._tasks.append(asyncio.create_task(self._keep_peers()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _keep_peers(self) -> None:
        while True:
            await asyncio.sleep(PEERS_INTERVAL)
            await self._run(self._sync_peers)

    def _sync_peers(self) -> None:
        """Give the driver the other hosts' tunnel endpoints: always on the first call (a
        restart re-syncs what the kernel holds), then only when they changed."""
        try:
            peers = sorted(self.source.tunnel_peers(self.host))
            if peers != self._peers:
                self.driver.set_tunnel_peers(peers)
                self._peers = peers
        except Exception:  # the controller is away, or refuses: the next round tries again
            log.warning("network agent: tunnel peers of %s not updated", self.host, exc_info=True)

    def fanout_handlers(self) -> dict:
        return {"port_update": self.on_port_update, "port_delete": self.on_port_delete,
                "network_update": self.on_network_update, "network_delete": self.on_network_delete,
                "router_update": self.on_router_update, "router_delete": self.on_router_delete,
                "security_groups_update": self.on_security_groups_update}

    async def _run(self, work, *args):
        async with self._lock:
            return await asyncio.to_thread(work, *args)

    # -- calls from the compute agent ------------------------------------------------

    async def plug_port(self, payload: dict) -> dict:
        """Plug the port here and filter it; returns its VIF (the compute contract's dict)."""
        return await self._run(self._plug, payload["port_id"])

    async def unplug_port(self, payload: dict) -> None:
        await self._run(self._unplug, payload["port_id"])

    def _plug(self, port_id: str) -> dict:
        port = self.source.port(port_id)
        self._ports.put(port)  # its event may come after this call
        network = next(iter(self.source.networks(id=[port["network_id"]])), None)
        if network is None:
            raise NetworkNotFound(id=port["network_id"])
        vif = self.driver.plug_port(specs.port_spec(port, network))
        self._filter([port_id])
        self.source.port_status(port_id, "ACTIVE")
        return vif

    def _unplug(self, port_id: str) -> None:
        plugged = port_id in self.driver.list_ports()
        self._filters.pop(port_id, None)
        self.driver.unplug_port(port_id)
        if plugged:
            self._quietly(self.source.port_status, port_id, "DOWN")

    # -- fanout events ---------------------------------------------------------------

    async def on_port_update(self, payload: dict) -> None:
        await self._port_event(payload["port_id"], None)

    async def on_port_delete(self, payload: dict) -> None:
        await self._port_event(payload["port_id"], payload.get("network_id"))

    async def _port_event(self, port_id: str, network_id: str | None) -> None:
        """Port events wait for the lock together: the first to get it takes every port
        changed meanwhile, reads them in one go and brings each network's DHCP, each
        router and the filters up to date once (the others find nothing left to do)."""
        self._pending_ports[port_id] = network_id or self._pending_ports.get(port_id)
        async with self._lock:
            pending, self._pending_ports = self._pending_ports, {}
            if pending:
                await asyncio.to_thread(self._ports_changed, pending)

    async def on_network_update(self, payload: dict) -> None:
        await self._run(self._network_changed, payload["network_id"])

    async def on_network_delete(self, payload: dict) -> None:
        await self._run(self._network_changed, payload["network_id"])

    async def on_router_update(self, payload: dict) -> None:
        await self._run(self._router_changed, payload["router_id"])

    async def on_router_delete(self, payload: dict) -> None:
        await self._run(self._router_changed, payload["router_id"])

    async def on_security_groups_update(self, payload: dict) -> None:
        await self._run(self._filter, None, True)

    # -- the work (worker threads, under the lock) ---------------------------------------

    def _ports_changed(self, pending: dict[str, str | None]) -> None:
        """Ports changed (id -> its network, when a deleted port's event named it)."""
        found = {port["id"]: port for port in self.source.ports(id=list(pending))}
        networks, routers = {}, {}  # ordered sets
        plugged = set(self.driver.list_ports())
        for port_id, network_id in pending.items():
            port = found.get(port_id)
            if port is None:
                self._ports.drop(port_id)
            else:
                self._ports.put(port)
            if port_id in plugged:
                self._replug(port_id, port)
            network_id = port["network_id"] if port else network_id
            if network_id:
                networks[network_id] = None
            if port and port.get("device_owner", "").startswith("network:router") and port.get("device_id"):
                routers[port["device_id"]] = None
        for network_id in networks:
            self._network_changed(network_id, reread=False)
        for router_id in routers:
            self._router_changed(router_id)
        self._filter(None)

    def _replug(self, port_id: str, port: dict | None) -> None:
        """A port plugged here changed: unplugged when gone or bound elsewhere, else plugged
        again (MAC, MTU and addresses brought up to date); its filter is set anew."""
        self._filters.pop(port_id, None)
        if port is None or port.get("binding:host_id") not in (self.host, ""):
            self.driver.unplug_port(port_id)
            return
        network = next(iter(self.source.networks(id=[port["network_id"]])), None)
        if network is not None:
            self.driver.plug_port(specs.port_spec(port, network))

    def _network_changed(self, network_id: str, reread: bool = True) -> None:
        """The network's DHCP and metadata brought up to date; its ports read whole again
        unless ``reread`` is false and they are known (a port event: that port was read)."""
        if self.ports_only:  # DHCP and metadata are other hosts' work
            return
        network = next(iter(self.source.networks(id=[network_id])), None)
        if network is None:
            self._ports.forget(network_id)
            self._dhcp_asked.pop(network_id, None)
            self.driver.remove_dhcp(network_id)
            self.driver.stop_metadata(network_id)
            return
        subnets = self.source.subnets(network_id=[network_id])
        if reread or not self._ports.knows(network_id):
            self._network_ports(network_id)
        self._serve_dhcp(network, subnets)
        self._metadata(network, subnets)

    def _serve_dhcp(self, network: dict, subnets: list[dict], hosted: bool | None = None) -> None:
        """Serve the network's DHCP from the ports kept for it (read whole before)."""
        if not self.driver.capabilities.supports_dhcp:
            return
        if hosted is None:
            hosted = self.source.dhcp_choice(network["id"], self.host)
        if self._dhcp_port(network, subnets if hosted else [], self._ports.dhcp_ports(network["id"])):
            self._network_ports(network["id"])
        if not hosted:
            self.driver.remove_dhcp(network["id"])
            return
        servers = self._ports.dhcp_ports(network["id"])
        spec = specs.dhcp_spec(network, subnets, servers, self._ports.reservations(network["id"]),
                               self._dhcp_device(network["id"]))
        self.driver.sync_dhcp(spec)
        if spec.dhcp_port is not None and network["id"] in self.driver.list_dhcp() \
                and next(p for p in servers if p["id"] == spec.dhcp_port.id).get("status") != "ACTIVE":
            self.source.port_status(spec.dhcp_port.id, "ACTIVE")
            self._ports.set_status(spec.dhcp_port.id, "ACTIVE")

    def _network_ports(self, network_id: str) -> None:
        """The network's ports read whole, and kept for the port events to come."""
        self._ports.fill(self.source.ports(network_id=[network_id]), [network_id])

    def _dhcp_port(self, network: dict, subnets: list[dict], ports: list[dict]) -> bool:
        """Give the network the DHCP port its DHCP-enabled subnets need (Neutron's DHCP
        agent makes it too): an address on each, bound here; none without such subnets.
        Each wanted set is asked for once, so a port the service cannot give (a full
        subnet) is not asked for again on every event. Whether anything changed."""
        wanted = specs.dhcp_subnets(network, subnets)
        device = self._dhcp_device(network["id"])
        existing = [p for p in ports if p["network_id"] == network["id"] and p.get("device_owner") == specs.DHCP_OWNER
                    and p.get("device_id") == device]
        asked = (tuple(sorted(wanted)), tuple(sorted(p["id"] for p in existing)))
        if self._dhcp_asked.get(network["id"]) == asked:
            return False
        self._dhcp_asked[network["id"]] = asked
        if not wanted:
            for port in existing:
                self._quietly(self.source.delete_port, port["id"])
            return bool(existing)
        if not existing:
            return self._quietly(self.source.create_port, {
                "network_id": network["id"], "project_id": network.get("project_id") or "",
                "device_owner": specs.DHCP_OWNER, "device_id": device,
                "binding:host_id": self.host, "fixed_ips": [{"subnet_id": subnet} for subnet in wanted]})
        port, changed = existing[0], False
        have = {ip["subnet_id"] for ip in port.get("fixed_ips") or []}
        if have != set(wanted):
            keep = [ip for ip in port.get("fixed_ips") or [] if ip["subnet_id"] in wanted]
            changed = self._quietly(self.source.update_port, port["id"], {
                "fixed_ips": keep + [{"subnet_id": subnet} for subnet in wanted if subnet not in have]})
        if port.get("binding:host_id") != self.host:
            changed = self._quietly(self.source.bind_port, port["id"], self.host) or changed
        return changed

    def _dhcp_device(self, network_id: str) -> str:
        """The device id of this host's DHCP port on a network (one per host, as Neutron's)."""
        return f"dhcp-{self.host}-{network_id}"

    @staticmethod
    def _quietly(work, *args) -> bool:
        """Run a change through the service; log (not raise) a refusal. Whether it worked."""
        try:
            work(*args)
            return True
        except Exception:  # the service refused (a subnet just deleted, no free address): the next event retries
            log.warning("network agent: %s%s failed", getattr(work, "__name__", work), args, exc_info=True)
            return False

    def _metadata(self, network: dict, subnets: list[dict]) -> None:
        """Serve metadata where this host serves the network's DHCP: the proxy lives in the
        DHCP namespace, and guests reach it through the DHCP port's address."""
        if not self.driver.capabilities.supports_metadata or not self.metadata_upstream:
            return
        dhcp_here = not self.driver.capabilities.supports_dhcp or network["id"] in self.driver.list_dhcp()
        if specs.serves_dhcp(network, subnets) and dhcp_here:
            self.driver.serve_metadata(network["id"], self.metadata_upstream)
        else:
            self.driver.stop_metadata(network["id"])

    def _router_changed(self, router_id: str) -> None:
        if self.ports_only:  # routers run on other hosts
            return
        router = next(iter(self.source.routers(id=[router_id])), None)
        if router is None or not self.source.l3_choice(router_id, self.host):  # gone, or another agent's
            self.driver.remove_router(router_id)
            return
        ports = self.source.ports(device_id=[router_id])
        network_ids = sorted({port["network_id"] for port in ports})
        networks = self.source.networks(id=network_ids) if network_ids else []
        subnets = self.source.subnets(network_id=network_ids) if network_ids else []
        self._sync_router(specs.router_spec(router, ports, networks, subnets,
                                            self.source.floatingips(router_id=[router_id])), ports)

    def _sync_router(self, spec, ports: list[dict]) -> None:
        """Run the router and report its ports ACTIVE (as Neutron's L3 agent does)."""
        self.driver.sync_router(spec)
        status = {port["id"]: port.get("status") for port in ports}
        for leg in [*spec.legs, *([spec.gateway] if spec.gateway else [])]:
            if status.get(leg.port_id) != "ACTIVE":
                self._quietly(self.source.port_status, leg.port_id, "ACTIVE")

    def _filter(self, port_ids: list[str] | None, reread: bool = False) -> None:
        """Set the filters of the given plugged ports (None: all of them, but only those
        whose filter differs from the one this agent last set: a port event or a rule of
        one group must not rewrite the filters of every port on the host). The ports (for
        the groups' members) are the ones the events kept, read whole again on ``reread``
        (a security group change: rare, and a member may have come without a port event)."""
        if not self.driver.capabilities.supports_security_groups:
            return
        plugged = set(self.driver.list_ports())
        for port_id in set(self._filters) - plugged:  # unplugged meanwhile
            del self._filters[port_id]
        wanted = plugged if port_ids is None else plugged & set(port_ids)
        if not wanted:
            return
        ports = None if reread or not self.follow_events else self._ports.all()  # kept only by events
        if ports is None:
            ports = self.source.ports()
            self._ports.fill(ports)
        groups = {group["id"]: group for group in self.source.security_groups()}
        members = specs.group_members(ports)
        changed = []
        for port in ports:
            if port["id"] in wanted:
                port_filter = specs.port_filter(port, groups, members)
                if port_ids is not None or self._filters.get(port["id"]) != port_filter:
                    changed.append(port_filter)
        for port_filter in changed:
            self._filters.pop(port_filter.port_id, None)  # unknown until the driver has it
        if changed:
            self.driver.set_port_filters(changed)  # in one step where the driver can
        self._filters.update((port_filter.port_id, port_filter) for port_filter in changed)

    async def resync(self) -> None:
        """Make the host match the database: plug this host's ports, serve the DHCP and
        metadata of the networks scheduled here, run the routers scheduled here (an L2
        agent: the ports only); remove what the database no longer has or gave elsewhere."""
        await self._run(self._resync)

    def _resync(self) -> None:
        self._filters.clear()  # every filter is set again from the database
        networks = {network["id"]: network for network in self.source.networks()}
        subnets, ports = self.source.subnets(), self.source.ports()
        self._ports.fill(ports)
        local = [port for port in ports if port.get("binding:host_id") == self.host
                 and not port.get("device_owner", "").startswith("network:") and port["network_id"] in networks]
        for port_id in set(self.driver.list_ports()) - {port["id"] for port in local}:
            self.driver.unplug_port(port_id)
        for port in local:
            self._try(self.driver.plug_port, specs.port_spec(port, networks[port["network_id"]]))
            if port.get("status") != "ACTIVE" and port["id"] in self.driver.list_ports():
                self._quietly(self.source.port_status, port["id"], "ACTIVE")
        self._filter(None)
        if self.ports_only:
            return
        hosted = self.source.agent_sync(self.host)  # what is scheduled here
        if self.driver.capabilities.supports_dhcp:
            for network_id in set(self.driver.list_dhcp()) - set(networks):
                self.driver.remove_dhcp(network_id)
        for network in networks.values():
            self._try(self._serve_dhcp, network, subnets, network["id"] in hosted["networks"])
            self._try(self._metadata, network, subnets)
        if self.driver.capabilities.supports_routers:
            routers = [router for router in self.source.routers() if router["id"] in hosted["routers"]]
            for router_id in set(self.driver.list_routers()) - {router["id"] for router in routers}:
                self.driver.remove_router(router_id)
            floating = self.source.floatingips()
            for router in routers:
                self._try(self._sync_router, specs.router_spec(router, ports, list(networks.values()), subnets,
                                                               floating), ports)

    @staticmethod
    def _try(work, *args) -> None:
        try:
            work(*args)
        except Exception:  # one broken thing must not stop the rest of the re-sync
            log.exception("network agent: re-sync of %s failed", getattr(args[0], "id", args[0]))


def make_agent(config, bus, source) -> NetworkAgent:
    """This host's network agent with the configured driver, reading from ``source`` (a
    ServiceSource in the controller's process, a BusSource on another host)."""
    import socket

    from overcast.network.drivers import make_driver

    from overcast import driver_choice

    if config.network.driver == "auto":
        driver_choice.choose(config)
    network = config.network
    host = network.host or socket.gethostname()
    options = {"local_ip": network.local_ip} if network.local_ip else {}  # the fake pretends to have it
    if network.driver == "linux":
        options = {"state_dir": str(config.data_path / "network"), "prefix": network.linux_prefix,
                   "bridge_mappings": network.bridge_mappings, "metadata_secret": metadata_secret(config),
                   "local_ip": network.local_ip, "vxlan_port": network.vxlan_port}
    from overcast.metadata import SPEC as METADATA

    return NetworkAgent(bus, make_driver(network.driver, **options), host, source,
                        metadata_upstream=config.public_url + METADATA.prefix, ports_only=network.l2_only,
                        follow_events=True)


def metadata_secret(config) -> str:
    """The secret metadata proxies sign with: the configured one, else one made on first use
    and kept (mode 0600) in DATA_DIR/network/metadata_secret. Made in a file of its own and
    linked into place, so processes starting together never read a half-written secret."""
    import os
    import secrets

    if config.network.metadata_secret:
        return config.network.metadata_secret
    path = config.data_path / "network" / "metadata_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".metadata_secret.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: theirs is the secret
        finally:
            os.unlink(draft)
    return path.read_text().strip()
