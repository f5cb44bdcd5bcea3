"""Which DHCP agent serves which network and which L3 agent runs which router: Neutron's
``dhcp_agent_scheduler`` and ``l3_agent_scheduler``.

A binding row says an agent hosts a network (``network_dhcp_agent_choices``) or a router
(``network_router_l3_agent_bindings``, one agent per router); agents serve only what
is bound to them. The scheduler binds

- a network with a DHCP-enabled subnet to ``[network] dhcp_agents_per_network`` live DHCP
  agents, the ones hosting the fewest networks, when a subnet or a (non-DHCP) port of it is
  created, as Neutron's DHCP notifier schedules on ``subnet_create_end``/``port_create_end``;
- a router to the live L3 agent running the fewest routers, whenever it changes unbound;
- everything unbound when an agent starts (its re-sync, as Neutron's agents sync);

and, every half ``agent_failover_seconds``, moves what agents dead that long hold to live
ones: networks when ``allow_automatic_dhcp_failover`` (default on), routers when
``allow_automatic_l3agent_failover`` (default off), as Neutron. A dead agent's DHCP port
goes with its network (it cannot remove it itself). An admin adds and removes bindings
through the API; the agents hear ``network_update``/``router_update`` and plug or drop.

Live: an enabled agent whose last beat is younger than both the heartbeats' DOWN_AFTER and
``agent_failover_seconds``. Scheduling takes one lock per process, so two requests never
bind one network to more agents than asked (several API processes may, rarely, as Neutron's
servers may; the next failover or an admin evens it out).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import delete, func, select

from overcast.common.db import utcnow
from overcast.common.heartbeats import DOWN_AFTER, ServiceRecord, record
from overcast.network import errors
from overcast.network.models import DhcpAgentChoice, Network, NetworkAgentRow, Port, Router, RouterAgentBinding, Subnet

log = logging.getLogger("overcast.network")
DHCP = "neutron-dhcp-agent"
L3 = "neutron-l3-agent"
DHCP_OWNER = "network:dhcp"


def dhcp_device(host: str, network_id: str) -> str:
    """The device id of a host's DHCP port on a network (the agent makes it so)."""
    return f"dhcp-{host}-{network_id}"


class AgentScheduler:
    def __init__(self, service):
        self.service = service
        self.db = service.db
        self.config = service.config.network
        self._lock = threading.Lock()

    # -- what is live and how loaded ------------------------------------------------------

    def _ages(self, session, binary: str) -> dict[str, float]:
        now = utcnow()
        return {beat.host: (now - beat.last_seen).total_seconds()
                for beat in session.scalars(select(ServiceRecord).where(ServiceRecord.binary == binary))}

    def _live(self, session, binary: str) -> list[NetworkAgentRow]:
        limit = min(DOWN_AFTER, self.config.agent_failover_seconds)
        ages = self._ages(session, binary)
        rows = session.scalars(select(NetworkAgentRow).where(NetworkAgentRow.binary == binary,
                                                             NetworkAgentRow.admin_state_up.is_(True)))
        return [row for row in rows if ages.get(row.host, limit) < limit]

    def _dead(self, session, binary: str) -> list[NetworkAgentRow]:
        ages = self._ages(session, binary)
        rows = session.scalars(select(NetworkAgentRow).where(NetworkAgentRow.binary == binary))
        return [row for row in rows if ages.get(row.host, 0.0) >= self.config.agent_failover_seconds]

    @staticmethod
    def _load(session, model, agent_ids: list[str]) -> dict[str, int]:
        return dict(session.execute(select(model.agent_id, func.count()).where(
            model.agent_id.in_(agent_ids)).group_by(model.agent_id)).all())

    @staticmethod
    def _least_loaded(candidates: list[NetworkAgentRow], load: dict[str, int], count: int) -> list[NetworkAgentRow]:
        return sorted(candidates, key=lambda row: (load.get(row.id, 0), row.host))[:count]

    # -- binding ---------------------------------------------------------------------------

    def _bind_network(self, session, network_id: str, exclude: set[str] = frozenset()) -> list[str]:
        """Bind a network with a DHCP-enabled subnet to live agents up to the wanted
        number; the hosts of the agents added."""
        if session.scalar(select(Subnet.id).where(Subnet.network_id == network_id,
                                                  Subnet.enable_dhcp.is_(True)).limit(1)) is None:
            return []
        bound = set(session.scalars(select(DhcpAgentChoice.agent_id).where(DhcpAgentChoice.network_id == network_id)))
        wanted = self.config.dhcp_agents_per_network - len(bound)
        if wanted <= 0:
            return []
        candidates = [row for row in self._live(session, DHCP) if row.id not in bound and row.id not in exclude]
        chosen = self._least_loaded(candidates, self._load(session, DhcpAgentChoice, [r.id for r in candidates]),
                                    wanted)
        for row in chosen:
            session.add(DhcpAgentChoice(network_id=network_id, agent_id=row.id, hosted=True))
        session.flush()
        return [row.host for row in chosen]

    def _bind_router(self, session, router_id: str, exclude: set[str] = frozenset()) -> str | None:
        """Bind an unbound router to the live L3 agent running the fewest; its host."""
        if session.get(Router, router_id) is None or session.get(RouterAgentBinding, router_id) is not None:
            return None
        candidates = [row for row in self._live(session, L3) if row.id not in exclude]
        chosen = self._least_loaded(candidates, self._load(session, RouterAgentBinding, [r.id for r in candidates]), 1)
        if not chosen:
            return None
        session.add(RouterAgentBinding(router_id=router_id, agent_id=chosen[0].id))
        session.flush()
        return chosen[0].host

    def schedule_networks(self, network_ids) -> None:
        """Bind each network that needs DHCP agents (after a subnet or port of it was made)."""
        with self._lock, self.db.session() as session:
            for network_id in sorted(set(network_ids)):
                self._bind_network(session, network_id)

    def schedule_router(self, router_id: str) -> None:
        """Bind the router to an L3 agent if it has none (after any change of it)."""
        with self._lock, self.db.session() as session:
            self._bind_router(session, router_id)

    # -- what the agents ask ------------------------------------------------------------------

    def agent_sync(self, host: str) -> dict:
        """An agent (re)starting on ``host``: count its DHCP and L3 agents alive (as Neutron's
        report their state before they sync), bind whatever is unbound, and answer the
        ids of the networks and routers it hosts."""
        for binary, topic in ((DHCP, "dhcp_agent"), (L3, "l3_agent")):
            record(self.db, binary, host, topic)
        self.service.network_agents.register()
        with self._lock, self.db.session() as session:
            with_dhcp = set(session.scalars(select(Subnet.network_id).where(Subnet.enable_dhcp.is_(True))))
            for network_id in sorted(with_dhcp):
                self._bind_network(session, network_id)
            bound = select(RouterAgentBinding.router_id)
            for router_id in session.scalars(select(Router.id).where(Router.id.not_in(bound))).all():
                self._bind_router(session, router_id)
            return {"networks": sorted(self._hosted(session, DhcpAgentChoice.network_id, DhcpAgentChoice, DHCP, host)),
                    "routers": sorted(self._hosted(session, RouterAgentBinding.router_id, RouterAgentBinding, L3,
                                                   host))}

    @staticmethod
    def _hosted(session, column, model, binary: str, host: str, **where) -> set[str]:
        query = select(column).join(NetworkAgentRow, NetworkAgentRow.id == model.agent_id).where(
            NetworkAgentRow.binary == binary, NetworkAgentRow.host == host)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return set(session.scalars(query))

    def dhcp_hosted(self, network_id: str, host: str) -> bool:
        with self.db.session() as session:
            return bool(self._hosted(session, DhcpAgentChoice.network_id, DhcpAgentChoice, DHCP, host,
                                     network_id=network_id))

    def l3_hosted(self, router_id: str, host: str) -> bool:
        with self.db.session() as session:
            return bool(self._hosted(session, RouterAgentBinding.router_id, RouterAgentBinding, L3, host,
                                     router_id=router_id))

    # -- the API (admins) ---------------------------------------------------------------------

    def _agent(self, session, agent_id: str) -> NetworkAgentRow:
        row = session.get(NetworkAgentRow, agent_id)
        if row is None:
            raise errors.AgentNotFound(id=agent_id)
        return row

    def agent_network_ids(self, agent_id: str) -> set[str]:
        with self.db.session() as session:
            self._agent(session, agent_id)
            return set(session.scalars(select(DhcpAgentChoice.network_id).where(DhcpAgentChoice.agent_id == agent_id)))

    def network_agent_ids(self, network_id: str) -> set[str]:
        with self.db.session() as session:
            return set(session.scalars(select(DhcpAgentChoice.agent_id).where(
                DhcpAgentChoice.network_id == network_id)))

    def agent_router_ids(self, agent_id: str) -> set[str]:
        with self.db.session() as session:
            self._agent(session, agent_id)
            return set(session.scalars(select(RouterAgentBinding.router_id).where(
                RouterAgentBinding.agent_id == agent_id)))

    def router_agent_ids(self, router_id: str) -> set[str]:
        with self.db.session() as session:
            return set(session.scalars(select(RouterAgentBinding.agent_id).where(
                RouterAgentBinding.router_id == router_id)))

    def add_network(self, agent_id: str, network_id: str) -> None:
        """Bind a network to a DHCP agent (404 not an enabled DHCP agent or no network,
        409 already bound); more than ``dhcp_agents_per_network`` is allowed, as Neutron."""
        with self._lock, self.db.session() as session:
            if session.get(Network, network_id) is None:
                raise errors.NetworkNotFound(id=network_id)
            row = self._agent(session, agent_id)
            if row.binary != DHCP or not row.admin_state_up:
                raise errors.InvalidDHCPAgent(id=agent_id)
            if session.get(DhcpAgentChoice, (network_id, agent_id)) is not None:
                raise errors.NetworkHostedByDHCPAgent(network_id=network_id, agent_id=agent_id)
            session.add(DhcpAgentChoice(network_id=network_id, agent_id=agent_id, hosted=True))
        self.service.agents.network_changed(network_id)

    def remove_network(self, agent_id: str, network_id: str) -> None:
        """Unbind (409 when not bound); the agent drops the network's DHCP and metadata and
        its DHCP port (the service removes the port of an agent that is not alive)."""
        with self._lock, self.db.session() as session:
            row = self._agent(session, agent_id)
            choice = session.get(DhcpAgentChoice, (network_id, agent_id))
            if choice is None:
                raise errors.NetworkNotHostedByDhcpAgent(network_id=network_id, agent_id=agent_id)
            session.delete(choice)
            host, alive = row.host, row.id in {live.id for live in self._live(session, DHCP)}
        if not alive:
            self._drop_dhcp_ports([(host, network_id)])
        self.service.agents.network_changed(network_id)

    def add_router(self, agent_id: str, router_id: str) -> None:
        """Bind a router to an L3 agent (404 not an enabled L3 agent or no router; 409
        when another agent runs it; nothing when this one does, as Neutron)."""
        with self._lock, self.db.session() as session:
            row = self._agent(session, agent_id)
            if row.binary != L3 or not row.admin_state_up:
                raise errors.InvalidL3Agent(id=agent_id)
            if session.get(Router, router_id) is None:
                raise errors.RouterNotFound(id=router_id)
            binding = session.get(RouterAgentBinding, router_id)
            if binding is not None and binding.agent_id != agent_id:
                raise errors.RouterHostedByL3Agent(router_id=router_id, agent_id=binding.agent_id)
            if binding is None:
                session.add(RouterAgentBinding(router_id=router_id, agent_id=agent_id))
        self.service.agents.router_changed(router_id, schedule=False)

    def remove_router(self, agent_id: str, router_id: str) -> None:
        with self._lock, self.db.session() as session:
            self._agent(session, agent_id)
            binding = session.get(RouterAgentBinding, router_id)
            if binding is None or binding.agent_id != agent_id:
                raise errors.RouterNotHostedByL3Agent(router_id=router_id, agent_id=agent_id)
            session.delete(binding)
        self.service.agents.router_changed(router_id, schedule=False)

    # -- failover ---------------------------------------------------------------------------------

    def failover(self) -> None:
        """Move the networks and routers of agents dead for ``agent_failover_seconds`` to
        live agents, as the config allows. Nothing moves while no agent of the kind is
        alive (the controller itself is more likely cut off than every agent dead)."""
        dropped: list[tuple[str, str]] = []
        routers: list[str] = []
        with self._lock, self.db.session() as session:
            if self.config.allow_automatic_dhcp_failover and self._live(session, DHCP):
                for agent in self._dead(session, DHCP):
                    network_ids = list(session.scalars(select(DhcpAgentChoice.network_id).where(
                        DhcpAgentChoice.agent_id == agent.id)))
                    if not network_ids:
                        continue
                    session.execute(delete(DhcpAgentChoice).where(DhcpAgentChoice.agent_id == agent.id))
                    for network_id in network_ids:
                        log.warning("DHCP agent of %s dead: network %s rescheduled to %s", agent.host, network_id,
                                    self._bind_network(session, network_id, exclude={agent.id}) or "no agent")
                        dropped.append((agent.host, network_id))
            if self.config.allow_automatic_l3agent_failover and self._live(session, L3):
                for agent in self._dead(session, L3):
                    for binding in session.scalars(select(RouterAgentBinding).where(
                            RouterAgentBinding.agent_id == agent.id)).all():
                        session.delete(binding)
                        session.flush()
                        host = self._bind_router(session, binding.router_id, exclude={agent.id})
                        log.warning("L3 agent of %s dead: router %s rescheduled to %s", agent.host,
                                    binding.router_id, host)
                        routers.append(binding.router_id)
        self._drop_dhcp_ports(dropped)
        for network_id in sorted({network_id for _, network_id in dropped}):
            self.service.agents.network_changed(network_id)
        for router_id in routers:
            self.service.agents.router_changed(router_id, schedule=False)

    def _drop_dhcp_ports(self, pairs: list[tuple[str, str]]) -> None:
        """Delete the DHCP ports agents that cannot do it left on networks no longer theirs."""
        from overcast.network.agent_specs import ADMIN

        for host, network_id in pairs:
            with self.db.session() as session:
                port_ids = list(session.scalars(select(Port.id).where(
                    Port.network_id == network_id, Port.device_owner == DHCP_OWNER,
                    Port.device_id == dhcp_device(host, network_id))))
            for port_id in port_ids:
                try:
                    self.service.ports.delete(ADMIN, port_id)
                except errors.PortNotFound:
                    pass
