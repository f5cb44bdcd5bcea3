"""IP address management: which address of a subnet a port gets, never the same twice.

An address is taken when its row is in ``network_ip_allocations``. The primary key
(subnet_id, ip_key) is the only guard needed, on SQLite, PostgreSQL and MariaDB alike:
an allocation is an INSERT in a savepoint, and an IntegrityError means another request
got there first, so we try another address (a specific address asked for: 409).

Finding a free address never reads every allocation. ``ip_key`` is the address as 32 hex
digits (text order is numeric order), ``Subnet.next_ip_key`` a cursor just past the last
address handed out, and the search reads allocations in key order from the cursor in
short pages, inside the allocation pools, wrapping around to the pools' start. The
cursor is a hint: on PostgreSQL and MariaDB a background writer saves it after the
allocating transaction commits, so racing requests never queue on the subnet row (nor
deadlock on it); SQLite, which runs one writer at a time, writes it in the same one.
Racing requests that collide spread out over the next few free addresses.

IPv6 subnets in ``slaac`` or ``dhcpv6-stateless`` address mode give a port the EUI-64
address of its MAC (Neutron's rule), not one from the pools.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import threading

from sqlalchemy import delete, event, select, text, update
from sqlalchemy.exc import IntegrityError

from overcast.network import errors
from overcast.network.models import IPAllocation, Subnet

log = logging.getLogger("overcast.network")

PAGE = 64  # allocation keys read per range scan
SPREAD = 16  # after a collision, the next try is one of this many free-looking addresses
MAX_TRIES = 200  # collisions before giving up with IpAddressGenerationFailure
AUTO_MODES = ("slaac", "dhcpv6-stateless")
CURSORS = "ipam_cursors"  # session.info key: subnet id -> cursor to save after commit


def ip_key(address) -> str:
    """The sortable key of an address: its integer value as 32 hex digits."""
    return f"{int(ipaddress.ip_address(address)):032x}"


def address_of(number: int, version: int) -> str:
    return str(ipaddress.IPv4Address(number) if version == 4 else ipaddress.IPv6Address(number))


def pool_ranges(subnet: Subnet) -> list[tuple[int, int]]:
    """The subnet's allocation pools as sorted (first, last) integer pairs."""
    return sorted((int(ipaddress.ip_address(pool["start"])), int(ipaddress.ip_address(pool["end"])))
                  for pool in subnet.allocation_pools or [])


def is_auto_address(subnet: Subnet) -> bool:
    """Whether ports get their address from the subnet prefix and their MAC (SLAAC)."""
    return subnet.ip_version == 6 and subnet.ipv6_address_mode in AUTO_MODES


def eui64(cidr: str, mac: str) -> str:
    """The modified EUI-64 address of ``mac`` in the /64 ``cidr`` (RFC 4291 appendix A)."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    interface = octets[:3] + [0xFF, 0xFE] + octets[3:]
    network = ipaddress.ip_network(cidr)
    return str(ipaddress.IPv6Address(int(network.network_address) | int.from_bytes(bytes(interface), "big")))


def check_in_subnet(subnet: Subnet, address: str) -> None:
    """400 unless ``address`` may be a port's on ``subnet`` (inside it, not its network or
    IPv4 broadcast address)."""
    ip = ipaddress.ip_address(address)
    network = ipaddress.ip_network(subnet.cidr)
    if ip.version != network.version or ip not in network:
        raise errors.InvalidIpForSubnet(ip_address=address)
    if network.num_addresses > 2 and (ip == network.network_address
                                      or (ip.version == 4 and ip == network.broadcast_address)):
        raise errors.InvalidIpForSubnet(ip_address=address)


def begin_write(session) -> None:
    """Start the write transaction now on SQLite, before any savepoint.

    pysqlite begins a transaction only at the first INSERT/UPDATE/DELETE; a SAVEPOINT
    before that would open (and its RELEASE commit) a transaction of its own. A no-op
    UPDATE begins the real one and takes SQLite's write lock, so what follows reads the
    latest rows. Other databases need nothing."""
    if session.get_bind().dialect.name != "sqlite":
        return
    transaction = session.get_transaction()
    if session.info.get("write_begun") is not transaction:
        session.execute(text("UPDATE network_subnets SET next_ip_key = next_ip_key WHERE 1 = 0"))
        session.info["write_begun"] = transaction


class Ipam:
    """Allocates and releases the addresses of ports, inside the caller's transaction."""

    def __init__(self, db):
        self.db = db
        self.cursors = CursorWriter(db)

    def allocate(self, session, subnet: Subnet, port_id: str, address: str | None = None,
                 mac: str | None = None) -> str:
        """Give ``port_id`` an address on ``subnet`` and return it.

        ``address`` asks for that one: 400 ``InvalidIpForSubnet`` outside the subnet, 409
        ``IpAddressAlreadyAllocated`` if taken. Otherwise the next free pool address (or the
        EUI-64 address of ``mac`` on SLAAC subnets); 409 ``IpAddressGenerationFailure`` when
        the pools are exhausted. The row is flushed; the caller's commit makes it final."""
        if address is None and is_auto_address(subnet) and mac:
            address = eui64(subnet.cidr, mac)
        if address is not None:
            check_in_subnet(subnet, address)
            address = str(ipaddress.ip_address(address))
            if not self._claim(session, subnet, port_id, address):
                raise errors.IpAddressAlreadyAllocated(ip=address, subnet_id=subnet.id)
            return address
        return self._next_free(session, subnet, port_id)

    def release(self, session, port_id: str, subnet_ids: list[str] | None = None) -> None:
        """Free the port's addresses (on ``subnet_ids`` only, when given)."""
        query = delete(IPAllocation).where(IPAllocation.port_id == port_id)
        if subnet_ids is not None:
            query = query.where(IPAllocation.subnet_id.in_(subnet_ids))
        session.execute(query)

    def release_address(self, session, subnet_id: str, address: str) -> None:
        session.execute(delete(IPAllocation).where(IPAllocation.subnet_id == subnet_id,
                                                   IPAllocation.ip_key == ip_key(address)))

    def _claim(self, session, subnet: Subnet, port_id: str, address: str) -> bool:
        begin_write(session)
        try:
            with session.begin_nested():
                session.add(IPAllocation(subnet_id=subnet.id, ip_key=ip_key(address), ip_address=address,
                                         network_id=subnet.network_id, port_id=port_id))
            return True
        except IntegrityError:
            return False

    def _next_free(self, session, subnet: Subnet, port_id: str) -> str:
        ranges = pool_ranges(subnet)
        if not ranges:
            raise errors.IpAddressGenerationFailure(network_id=subnet.network_id)
        cursor = int(subnet.next_ip_key, 16) if subnet.next_ip_key else ranges[0][0]
        free = self.free_numbers(session, subnet.id, ranges, cursor)
        window: list[int] = []  # free-looking addresses to pick from
        for collisions in range(MAX_TRIES):
            while len(window) < (1 if not collisions else SPREAD):
                number = next(free, None)
                if number is None:
                    break
                window.append(number)
            if not window:
                break
            number = window.pop(random.randrange(len(window)) if collisions else 0)
            address = address_of(number, subnet.ip_version)
            if self._claim(session, subnet, port_id, address):
                self._advance(session, subnet.id, number + 1, subnet.next_ip_key or "")
                return address
        raise errors.IpAddressGenerationFailure(network_id=subnet.network_id)

    @staticmethod
    def free_numbers(session, subnet_id: str, ranges: list[tuple[int, int]], cursor: int):
        """Free addresses (as integers) in pool order from ``cursor``, then from the start.

        Reads allocation keys ``PAGE`` at a time, so a free address right after the cursor
        costs one short index range scan, however many ports the subnet has."""
        after = [(max(first, cursor), last) for first, last in ranges if last >= cursor]
        before = [(first, min(last, cursor - 1)) for first, last in ranges if first < cursor]
        for first, last in after + before:
            position = first
            while position <= last:
                keys = session.scalars(
                    select(IPAllocation.ip_key).where(IPAllocation.subnet_id == subnet_id,
                                                      IPAllocation.ip_key >= f"{position:032x}",
                                                      IPAllocation.ip_key <= f"{last:032x}")
                    .order_by(IPAllocation.ip_key).limit(PAGE)).all()
                for key in keys:
                    taken = int(key, 16)
                    while position < taken:
                        yield position
                        position += 1
                    position = max(position, taken + 1)
                if len(keys) < PAGE:
                    while position <= last:
                        yield position
                        position += 1

    def _advance(self, session, subnet_id: str, number: int, seen: str) -> None:
        """Move the subnet's cursor (``seen`` is where it was when read): once this
        transaction commits, or right away on SQLite, whose writers take turns anyway (this
        one holds the lock), saving a transaction."""
        key = f"{number:032x}"
        if session.get_bind().dialect.name == "sqlite":
            session.execute(update(Subnet).where(Subnet.id == subnet_id).values(next_ip_key=key))
            return
        cursors = session.info.setdefault(CURSORS, {})
        if not session.info.get("ipam_listening"):
            session.info["ipam_listening"] = True
            event.listen(session, "after_commit", self._save_cursors)
        cursors[subnet_id] = (key, cursors.get(subnet_id, (key, seen))[1])

    def _save_cursors(self, session) -> None:
        if session.get_nested_transaction() is not None:
            return  # a savepoint released, not the transaction committed
        cursors = session.info.pop(CURSORS, None) or {}
        if cursors:  # no SQL here: this thread still holds its connection
            self.cursors.put(cursors)


class CursorWriter:
    """Writes the cursors of committed allocations from one background thread (started on
    first use), so a request thread never waits for a second connection while holding
    one. Racing writes only move a cursor forward, except the one that wrapped around,
    and that only if no one moved the cursor meanwhile."""

    def __init__(self, db):
        self.db = db
        self.pending: list[tuple[str, str, str]] = []  # (subnet id, new key, key seen)
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.thread: threading.Thread | None = None

    def put(self, cursors: dict[str, tuple[str, str]]) -> None:
        with self.lock:
            self.pending += [(subnet_id, key, seen) for subnet_id, (key, seen) in sorted(cursors.items())]
            self.idle.clear()
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="ipam-cursors", daemon=True)
                self.thread.start()
        self.wake.set()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every cursor handed over so far is written (tests, shutdown)."""
        return self.idle.wait(timeout)

    def _run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            with self.lock:
                batch, self.pending = self.pending, []
            if batch:
                self._write(batch)
            with self.lock:
                if not self.pending:
                    self.idle.set()

    def _write(self, batch: list[tuple[str, str, str]]) -> None:
        try:
            with self.db.session() as session:
                for subnet_id, key, seen in batch:
                    moved = Subnet.next_ip_key < key if key > seen else Subnet.next_ip_key == seen
                    session.execute(update(Subnet).where(Subnet.id == subnet_id, moved).values(next_ip_key=key))
        except Exception:  # a hint only: the next allocation scans a little further
            log.warning("could not save IPAM cursors", exc_info=True)
