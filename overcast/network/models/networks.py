"""Networks, subnets, subnet pools and the IP allocations IPAM hands out.

An allocation row is what makes an address taken: (subnet_id, ip_address) is the
primary key, so two requests racing for one address cannot both win on any backend.
``ip_key`` is the address as 32 hex digits, whose text order is numeric order, so IPAM
finds the next free address with a short range scan from the subnet's cursor
(``Subnet.next_ip_key``) instead of reading every allocation.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from overcast.common.db import Base
from overcast.network.models.standard import Standard


class Network(Standard, Base):
    __tablename__ = "network_networks"
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    external: Mapped[bool] = mapped_column(Boolean, default=False)  # router:external
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)  # the default external network
    mtu: Mapped[int] = mapped_column(Integer, default=1500)
    network_type: Mapped[str] = mapped_column(String(32), default="vxlan")  # provider:network_type
    physical_network: Mapped[str | None] = mapped_column(String(64))
    segmentation_id: Mapped[int | None] = mapped_column(Integer)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    dns_domain: Mapped[str] = mapped_column(String(255), default="")
    availability_zone_hints: Mapped[list] = mapped_column(JSON, default=list)


class SubnetPool(Standard, Base):
    __tablename__ = "network_subnetpools"
    ip_version: Mapped[int] = mapped_column(Integer, default=4)
    prefixes: Mapped[list] = mapped_column(JSON, default=list)
    default_prefixlen: Mapped[int] = mapped_column(Integer)
    min_prefixlen: Mapped[int] = mapped_column(Integer)
    max_prefixlen: Mapped[int] = mapped_column(Integer)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    default_quota: Mapped[int | None] = mapped_column(Integer)
    address_scope_id: Mapped[str | None] = mapped_column(String(36))


class Subnet(Standard, Base):
    __tablename__ = "network_subnets"
    network_id: Mapped[str] = mapped_column(String(36), ForeignKey("network_networks.id", ondelete="CASCADE"),
                                            index=True)
    ip_version: Mapped[int] = mapped_column(Integer, default=4)
    cidr: Mapped[str] = mapped_column(String(64))
    gateway_ip: Mapped[str | None] = mapped_column(String(64))
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    allocation_pools: Mapped[list] = mapped_column(JSON, default=list)  # [{"start", "end"}]
    dns_nameservers: Mapped[list] = mapped_column(JSON, default=list)
    host_routes: Mapped[list] = mapped_column(JSON, default=list)  # [{"destination", "nexthop"}]
    ipv6_ra_mode: Mapped[str | None] = mapped_column(String(32))
    ipv6_address_mode: Mapped[str | None] = mapped_column(String(32))
    subnetpool_id: Mapped[str | None] = mapped_column(String(36))
    segment_id: Mapped[str | None] = mapped_column(String(36))
    dns_publish_fixed_ip: Mapped[bool] = mapped_column(Boolean, default=False)
    next_ip_key: Mapped[str] = mapped_column(String(32), default="")  # IPAM's cursor


class IPAllocation(Base):
    __tablename__ = "network_ip_allocations"
    __table_args__ = (Index("ix_network_ip_allocations_port", "port_id"),
                      Index("ix_network_ip_allocations_address", "network_id", "ip_address"))
    subnet_id: Mapped[str] = mapped_column(String(36), ForeignKey("network_subnets.id", ondelete="CASCADE"),
                                           primary_key=True)
    ip_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(64))
    network_id: Mapped[str] = mapped_column(String(36))
    port_id: Mapped[str] = mapped_column(String(36), ForeignKey("network_ports.id", ondelete="CASCADE"))
