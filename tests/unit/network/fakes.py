"""Stand-ins for the port and subnet logic (another branch) in the router and floating IP
unit tests: ports with the addresses asked for, or the next free one of a subnet.
The functional tests run the real ones."""

from __future__ import annotations

import ipaddress

from sqlalchemy import select

from overcast.network import errors
from overcast.network.models import IPAllocation, Port, Subnet


def key(ip: str) -> str:
    return f"{int(ipaddress.ip_address(ip)):032x}"


class FakePorts:
    def __init__(self, db):
        self.db = db
        self.macs = 0

    def create_in(self, session, ctx, values: dict) -> Port:
        self.macs += 1
        port = Port(network_id=values["network_id"], project_id=values.get("project_id", ""),
                    device_owner=values.get("device_owner", ""), device_id=values.get("device_id", ""),
                    mac_address=f"fa:16:3e:00:00:{self.macs:02x}", name=values.get("name", ""))
        session.add(port)
        session.flush()
        wanted = values.get("fixed_ips")
        if wanted is None:
            first = session.scalars(select(Subnet).where(Subnet.network_id == port.network_id)).first()
            wanted = [{"subnet_id": first.id}] if first else []
        for one in wanted:
            subnet = session.get(Subnet, one["subnet_id"]) if "subnet_id" in one else next(
                row for row in session.scalars(select(Subnet).where(Subnet.network_id == port.network_id))
                if ipaddress.ip_address(one["ip_address"]) in ipaddress.ip_network(row.cidr))
            ip = one.get("ip_address") or self._free(session, subnet)
            if session.get(IPAllocation, (subnet.id, key(ip))) is not None:
                raise errors.IpAddressAlreadyAllocated(ip=ip, subnet_id=subnet.id)
            session.add(IPAllocation(subnet_id=subnet.id, ip_key=key(ip), ip_address=ip,
                                     network_id=port.network_id, port_id=port.id))
        session.flush()
        return port

    @staticmethod
    def _free(session, subnet: Subnet) -> str:
        taken = set(session.scalars(select(IPAllocation.ip_address).where(IPAllocation.subnet_id == subnet.id)))
        for host in list(ipaddress.ip_network(subnet.cidr).hosts())[1:]:
            if str(host) not in taken and str(host) != subnet.gateway_ip:
                return str(host)
        raise errors.IpAddressGenerationFailure(network_id=subnet.network_id)

    def delete_in(self, session, port_id: str) -> None:
        for row in session.scalars(select(IPAllocation).where(IPAllocation.port_id == port_id)):
            session.delete(row)
        session.delete(session.get(Port, port_id))
        session.flush()


class FakeSubnets:
    def __init__(self, db):
        self.db = db

    def find_row(self, session, ctx, subnet_id: str) -> Subnet:
        row = session.get(Subnet, subnet_id)
        if row is None:
            raise errors.SubnetNotFound(id=subnet_id)
        return row

    def make(self, network_id: str, cidr: str, project: str, gateway: str | None = "auto") -> str:
        net = ipaddress.ip_network(cidr)
        with self.db.session() as session:
            row = Subnet(network_id=network_id, cidr=cidr, project_id=project, ip_version=net.version,
                         gateway_ip=str(next(net.hosts())) if gateway == "auto" else gateway)
            session.add(row)
            session.flush()
            return row.id
