"""The network agents the API lists: one row per (binary, host) seen in the heartbeats,
holding what an admin may set (``admin_state_up``, ``description``) and the agent's id.
Liveness is not stored here: it is the heartbeat's age."""

from __future__ import annotations

import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base, utcnow
from overcast.network.models.standard import new_uuid


class NetworkAgentRow(Base):
    __tablename__ = "network_agents"
    __table_args__ = (UniqueConstraint("binary", "host"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    binary: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class DhcpAgentChoice(Base):
    """A network scheduled to a DHCP agent (Neutron's ``networkdhcpagentbindings``):
    the scheduler's choice or an admin's (``dhcp_agent_scheduler``). An agent serves
    DHCP and metadata only for the networks it has a row for. ``hosted`` is always true
    now (false rows, an admin's removal under the old every-agent rule, went in 0017)."""

    __tablename__ = "network_dhcp_agent_choices"
    network_id: Mapped[str] = mapped_column(String(36), ForeignKey("network_networks.id", ondelete="CASCADE"),
                                            primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(36), ForeignKey("network_agents.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)
    hosted: Mapped[bool] = mapped_column(Boolean, default=True)


class RouterAgentBinding(Base):
    """The one L3 agent a router runs on (Neutron's ``routerl3agentbindings`` for legacy
    routers: the router id is the key, so a router is never bound twice)."""

    __tablename__ = "network_router_l3_agent_bindings"
    router_id: Mapped[str] = mapped_column(String(36), ForeignKey("network_routers.id", ondelete="CASCADE"),
                                           primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(36), ForeignKey("network_agents.id", ondelete="CASCADE"),
                                          index=True)
