"""Routers (their interfaces and gateway are ports owned by the router), static
routes, floating IPs and port forwardings."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base
from overcast.network.models.standard import Standard


class Router(Standard, Base):
    __tablename__ = "network_routers"
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    gw_network_id: Mapped[str | None] = mapped_column(String(36))  # external_gateway_info.network_id
    gw_port_id: Mapped[str | None] = mapped_column(String(36))
    enable_snat: Mapped[bool] = mapped_column(Boolean, default=True)
    distributed: Mapped[bool] = mapped_column(Boolean, default=False)
    ha: Mapped[bool] = mapped_column(Boolean, default=False)
    availability_zone_hints: Mapped[list] = mapped_column(JSON, default=list)


class RouterRoute(Base):
    __tablename__ = "network_router_routes"
    router_id: Mapped[str] = mapped_column(String(36), ForeignKey("network_routers.id", ondelete="CASCADE"),
                                           primary_key=True)
    destination: Mapped[str] = mapped_column(String(64), primary_key=True)
    nexthop: Mapped[str] = mapped_column(String(64), primary_key=True)


class FloatingIP(Standard, Base):
    __tablename__ = "network_floating_ips"
    __table_args__ = (UniqueConstraint("floating_network_id", "floating_ip_address"),
                      Index("ix_network_floating_ips_port", "port_id"))
    floating_network_id: Mapped[str] = mapped_column(String(36), ForeignKey("network_networks.id"))
    floating_ip_address: Mapped[str] = mapped_column(String(64))
    floating_port_id: Mapped[str] = mapped_column(String(36))  # the port holding the address
    port_id: Mapped[str | None] = mapped_column(String(36))  # the associated internal port
    fixed_ip_address: Mapped[str | None] = mapped_column(String(64))
    router_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    dns_name: Mapped[str] = mapped_column(String(255), default="")
    dns_domain: Mapped[str] = mapped_column(String(255), default="")


class PortForwarding(Base):
    __tablename__ = "network_port_forwardings"
    __table_args__ = (UniqueConstraint("floatingip_id", "external_port", "protocol"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    floatingip_id: Mapped[str] = mapped_column(String(36), ForeignKey("network_floating_ips.id", ondelete="CASCADE"))
    internal_port_id: Mapped[str] = mapped_column(String(36), ForeignKey("network_ports.id", ondelete="CASCADE"))
    internal_ip_address: Mapped[str] = mapped_column(String(64))
    internal_port: Mapped[int] = mapped_column(Integer)
    external_port: Mapped[int] = mapped_column(Integer)
    protocol: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(255), default="")
