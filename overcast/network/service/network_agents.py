"""The agents API's data: Neutron agents as the heartbeats know them, and the
availability zones they make.

A network agent reports as four binaries (``agent.BINARIES``); each (binary, host) seen
in ``service_heartbeats`` is an agent, alive while its beats are young. Its id,
``admin_state_up`` and ``description`` live in ``network_agents``, made on first sight.
Deleting an agent forgets both rows: if it still runs, its next beat brings it back with
a new id, as Neutron's agents re-register.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from overcast.common.db import utcnow
from overcast.common.heartbeats import DOWN_AFTER, ServiceRecord
from overcast.network import errors
from overcast.network.models import DhcpAgentChoice, FloatingIP, NetworkAgentRow, Port, RouterAgentBinding, Subnet

KINDS = {  # binary -> (agent_type, topic, has an availability zone)
    "neutron-dhcp-agent": ("DHCP agent", "dhcp_agent", True),
    "neutron-l3-agent": ("L3 agent", "l3_agent", True),
    "neutron-metadata-agent": ("Metadata agent", "N/A", False),
    "neutron-linuxbridge-agent": ("Linux bridge agent", "N/A", False),
}


def stamp(moment) -> str | None:
    """Neutron's agent timestamps: ``2026-12-07 06:39:19`` (UTC, no zone)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else None


class NetworkAgents:
    def __init__(self, service):
        self.service = service
        self.db = service.db
        self.zone = service.config.network.availability_zone

    def _beats(self, session) -> list[ServiceRecord]:
        return list(session.scalars(select(ServiceRecord).where(ServiceRecord.binary.in_(list(KINDS)))))

    def register(self) -> None:
        """Give every agent seen in the heartbeats its row."""
        with self.db.session() as session:
            known = set(session.execute(select(NetworkAgentRow.binary, NetworkAgentRow.host)).all())
            missing = [(beat.binary, beat.host) for beat in self._beats(session) if (beat.binary, beat.host) not in known]
        for binary, host in missing:
            try:
                with self.db.session() as session:
                    session.add(NetworkAgentRow(binary=binary, host=host))
            except IntegrityError:  # another request registered it first
                pass

    def _configurations(self, session, row: NetworkAgentRow, beat: ServiceRecord | None) -> dict:
        """What Neutron's agents report, counted over what is scheduled to this one."""
        def count(model, *where) -> int:
            return session.scalar(select(func.count()).select_from(model).where(*where))

        binary = row.binary
        if binary == "neutron-dhcp-agent":
            networks = select(DhcpAgentChoice.network_id).where(DhcpAgentChoice.agent_id == row.id)
            return {"dhcp_driver": "overcast", "dhcp_lease_duration": 86400, "log_agent_heartbeats": False,
                    "networks": count(DhcpAgentChoice, DhcpAgentChoice.agent_id == row.id),
                    "subnets": count(Subnet, Subnet.enable_dhcp.is_(True), Subnet.network_id.in_(networks)),
                    "ports": count(Port, Port.network_id.in_(networks))}
        if binary == "neutron-l3-agent":
            routers = select(RouterAgentBinding.router_id).where(RouterAgentBinding.agent_id == row.id)
            return {"agent_mode": "legacy", "routers": count(RouterAgentBinding, RouterAgentBinding.agent_id == row.id),
                    "floating_ips": count(FloatingIP, FloatingIP.router_id.in_(routers)),
                    "interfaces": count(Port, Port.device_owner == "network:router_interface",
                                        Port.device_id.in_(routers)),
                    "ex_gw_ports": count(Port, Port.device_owner == "network:router_gateway",
                                         Port.device_id.in_(routers)),
                    "gateway_external_network_id": "", "handle_internal_only_routers": True,
                    "log_agent_heartbeats": False}
        if binary == "neutron-metadata-agent":
            return {"metadata_proxy_socket": "", "nova_metadata_host": "", "log_agent_heartbeats": False}
        configurations = {"devices": count(Port, Port.binding_host_id != ""), "bridge_mappings": {},
                          "interface_mappings": {}, "log_agent_heartbeats": False}
        tunneling_ip = beat.reported().get("tunneling_ip") if beat else None
        if tunneling_ip:  # as Neutron's Linux bridge agent with VXLAN on
            configurations.update(tunneling_ip=tunneling_ip, tunnel_types=["vxlan"], l2_population=False)
        return configurations

    def _dict(self, session, row: NetworkAgentRow, beat: ServiceRecord | None, now) -> dict:
        agent_type, topic, zoned = KINDS[row.binary]
        seen = beat.last_seen if beat else None
        return {"id": row.id, "agent_type": agent_type, "binary": row.binary, "host": row.host, "topic": topic,
                "admin_state_up": row.admin_state_up, "description": row.description,
                "alive": bool(seen and (now - seen).total_seconds() < DOWN_AFTER),
                "availability_zone": self.zone if zoned else None,
                "configurations": self._configurations(session, row, beat),
                "created_at": stamp(row.created_at), "started_at": stamp(beat.created_at if beat else row.created_at),
                "heartbeat_timestamp": stamp(seen), "resources_synced": None}

    def list(self, ctx, filters: dict) -> list[dict]:
        self.register()
        now = utcnow()
        with self.db.session() as session:
            beats = {(beat.binary, beat.host): beat for beat in self._beats(session)}
            rows = session.scalars(select(NetworkAgentRow).order_by(NetworkAgentRow.host, NetworkAgentRow.binary))
            return [self._dict(session, row, beats.get((row.binary, row.host)), now) for row in rows]

    def get(self, ctx, agent_id: str) -> dict:
        with self.db.session() as session:
            row = session.get(NetworkAgentRow, agent_id)
            if row is None:
                raise errors.AgentNotFound(id=agent_id)
            return self._dict(session, row, session.get(ServiceRecord, (row.binary, row.host)), utcnow())

    def create(self, ctx, items: list[dict]) -> list[dict]:
        raise errors.HTTPBadRequest("Agents are created by their heartbeats")

    def update(self, ctx, agent_id: str, values: dict) -> dict:
        with self.db.session() as session:
            row = session.get(NetworkAgentRow, agent_id)
            if row is None:
                raise errors.AgentNotFound(id=agent_id)
            for name in ("admin_state_up", "description"):
                if name in values:
                    setattr(row, name, values[name])
        return self.get(ctx, agent_id)

    def delete(self, ctx, agent_id: str) -> None:
        with self.db.session() as session:
            row = session.get(NetworkAgentRow, agent_id)
            if row is None:
                raise errors.AgentNotFound(id=agent_id)
            session.execute(delete(ServiceRecord).where(ServiceRecord.binary == row.binary,
                                                        ServiceRecord.host == row.host))
            session.delete(row)

    def tunnel_peers(self, host: str) -> list[str]:
        """The tunnel endpoints of the live Linux bridge agents on hosts other than
        ``host`` (and other than its own endpoint), sorted: where its VXLAN floods go."""
        now = utcnow()
        with self.db.session() as session:
            beats = list(session.scalars(select(ServiceRecord).where(
                ServiceRecord.binary == "neutron-linuxbridge-agent")))
            endpoints = {beat.host: beat.reported().get("tunneling_ip") for beat in beats
                         if (now - beat.last_seen).total_seconds() < DOWN_AFTER}
        own = endpoints.pop(host, None)
        return sorted({ip for ip in endpoints.values() if ip and ip != own})

    def zones(self) -> list[dict]:
        """Availability zones: the zones of the DHCP agents (resource ``network``) and of
        the L3 agents (``router``), available while one of them is up and enabled."""
        found: dict[tuple[str, str], bool] = {}
        for agent in self.list(None, {}):
            resource = {"DHCP agent": "network", "L3 agent": "router"}.get(agent["agent_type"])
            if resource and agent["availability_zone"]:
                key = (agent["availability_zone"], resource)
                found[key] = found.get(key, False) or (agent["alive"] and agent["admin_state_up"])
        return [{"name": name, "resource": resource, "state": "available" if up else "unavailable"}
                for (name, resource), up in sorted(found.items())]
