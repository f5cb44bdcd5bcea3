"""Subnet pools: prefixes subnets take their CIDR from, with default, minimum and maximum
prefix lengths. A subnet created with ``subnetpool_id`` (and a ``prefixlen``, or a CIDR
inside the pool) gets the first free block of that size; blocks never overlap other
subnets of the pool. Pools are visible to their project and, when shared, to all."""

from __future__ import annotations

import ipaddress

from sqlalchemy import func, or_, select

from overcast.network import errors
from overcast.network.models import Subnet, SubnetPool
from overcast.network.service.records import apply, bump, standard, tags_of

BOUNDS = {4: (8, 32), 6: (64, 128)}  # Neutron's default min and max prefix lengths


def pool_dict(row: SubnetPool, tags: list[str]) -> dict:
    return {**standard(row, tags), "ip_version": row.ip_version, "prefixes": list(row.prefixes or []),
            "default_prefixlen": row.default_prefixlen, "min_prefixlen": row.min_prefixlen,
            "max_prefixlen": row.max_prefixlen, "shared": row.shared, "is_default": row.is_default,
            "default_quota": row.default_quota, "address_scope_id": row.address_scope_id}


def merged(prefixes: list) -> tuple[int, list[str]]:
    """The IP version and the collapsed, sorted prefixes; 400 for bad or mixed ones."""
    networks = []
    for prefix in prefixes:
        try:
            networks.append(ipaddress.ip_network(prefix, strict=False))
        except (ValueError, TypeError):
            raise errors.InvalidInput(reason=f"'{prefix}' is not a valid IP subnet") from None
    if not networks:
        raise errors.InvalidInput(reason="A subnet pool needs at least one prefix")
    versions = {network.version for network in networks}
    if len(versions) > 1:
        raise errors.InvalidInput(reason="Cannot mix IPv4 and IPv6 prefixes in a subnet pool")
    return versions.pop(), [str(network) for network in ipaddress.collapse_addresses(networks)]


def visible_pools(ctx):
    if ctx.is_admin:
        return True
    return or_(SubnetPool.project_id == (ctx.project_id or ""), SubnetPool.shared.is_(True))


class SubnetPools:
    model = SubnetPool

    def __init__(self, service):
        self.service = service
        self.db = service.db

    def find_row(self, session, ctx, pool_id: str) -> SubnetPool:
        row = session.scalars(select(SubnetPool).where(SubnetPool.id == pool_id, visible_pools(ctx))).first()
        if row is None:
            raise errors.SubnetPoolNotFound(id=pool_id)
        return row

    def _dicts(self, session, rows: list[SubnetPool]) -> list[dict]:
        tags = tags_of(session, [row.id for row in rows])
        return [pool_dict(row, tags.get(row.id, [])) for row in rows]

    def get(self, ctx, pool_id: str) -> dict:
        with self.db.session() as session:
            return self._dicts(session, [self.find_row(session, ctx, pool_id)])[0]

    def list(self, ctx, filters: dict) -> list[dict]:
        query = select(SubnetPool).where(visible_pools(ctx)).order_by(SubnetPool.created_at)
        for name in ("id", "name"):
            if name in filters:
                query = query.where(getattr(SubnetPool, name).in_(filters[name]))
        with self.db.session() as session:
            return self._dicts(session, list(session.scalars(query)))

    def create(self, ctx, items: list[dict]) -> list[dict]:
        with self.db.session() as session:
            rows = []
            for values in items:
                values = dict(values)
                version, prefixes = merged(values.pop("prefixes", None) or [])
                low, high = BOUNDS[version]
                minimum = values.pop("min_prefixlen", None)
                minimum = low if minimum is None else minimum
                maximum = values.pop("max_prefixlen", None)
                maximum = high if maximum is None else maximum
                default = values.pop("default_prefixlen", None)
                default = minimum if default is None else default
                self._check_bounds(version, minimum, maximum, default)
                if values.get("is_default"):
                    self._check_one_default(session, version)
                row = SubnetPool(ip_version=version, prefixes=prefixes, min_prefixlen=minimum, max_prefixlen=maximum,
                                 default_prefixlen=default)
                apply(row, {k: v for k, v in values.items() if k in ("name", "description", "project_id", "shared",
                                                                     "is_default", "default_quota",
                                                                     "address_scope_id")})
                session.add(row)
                rows.append(row)
            session.flush()
            for project_id in {row.project_id for row in rows}:
                self.service.quotas.check(session, project_id, "subnetpool")
            return self._dicts(session, rows)

    @staticmethod
    def _check_bounds(version: int, minimum: int, maximum: int, default: int) -> None:
        low, high = BOUNDS[version]
        for name, value in (("min_prefixlen", minimum), ("max_prefixlen", maximum), ("default_prefixlen", default)):
            if not 0 <= value <= high:
                raise errors.InvalidInput(reason=f"{name} {value} is out of range for IPv{version}")
        if minimum > maximum:
            raise errors.IllegalSubnetPoolPrefixBounds(prefix_type="min_prefixlen", prefixlen=minimum,
                                                       base_prefix_type="max_prefixlen", base_prefixlen=maximum)
        if not minimum <= default <= maximum:
            raise errors.IllegalSubnetPoolPrefixBounds(prefix_type="default_prefixlen", prefixlen=default,
                                                       base_prefix_type="min_prefixlen", base_prefixlen=minimum)

    @staticmethod
    def _check_one_default(session, version: int, exclude: str | None = None) -> None:
        query = select(SubnetPool.id).where(SubnetPool.is_default.is_(True), SubnetPool.ip_version == version)
        found = [ident for ident in session.scalars(query) if ident != exclude]
        if found:
            raise errors.InvalidInput(reason="A default subnetpool for this IP family has already been set. "
                                             "Only one default may exist per IP family")

    def update(self, ctx, pool_id: str, values: dict) -> dict:
        with self.db.session() as session:
            row = self.find_row(session, ctx, pool_id)
            values = dict(values)
            if "prefixes" in values:
                version, prefixes = merged(list(row.prefixes or []) + list(values["prefixes"] or []))
                if version != row.ip_version:
                    raise errors.IllegalSubnetPoolPrefixUpdate(msg="cannot change the IP version")
                wanted = [ipaddress.ip_network(p, strict=False) for p in values["prefixes"] or []]
                for old in row.prefixes or []:
                    if not any(ipaddress.ip_network(old).subnet_of(new) for new in wanted):
                        raise errors.IllegalSubnetPoolPrefixUpdate(msg=f"Prefix {old} cannot be removed")
                values["prefixes"] = prefixes
            minimum = values.get("min_prefixlen", row.min_prefixlen)
            maximum = values.get("max_prefixlen", row.max_prefixlen)
            default = values.get("default_prefixlen", row.default_prefixlen)
            self._check_bounds(row.ip_version, minimum, maximum, default)
            if values.get("is_default"):
                self._check_one_default(session, row.ip_version, exclude=row.id)
            apply(row, values)
            bump(row)
            session.flush()
            return self._dicts(session, [row])[0]

    def delete(self, ctx, pool_id: str) -> None:
        with self.db.session() as session:
            row = self.find_row(session, ctx, pool_id)
            if session.scalar(select(func.count()).select_from(Subnet).where(Subnet.subnetpool_id == pool_id)):
                raise errors.SubnetPoolInUse(subnet_pool_id=pool_id, reason="Subnets are allocated from it")
            session.delete(row)

    # allocation (called by Subnets.create in its transaction)
    def default_pool_id(self, session, version: int) -> str:
        found = session.scalar(select(SubnetPool.id).where(SubnetPool.is_default.is_(True),
                                                            SubnetPool.ip_version == version))
        if not found:
            raise errors.InvalidInput(reason=f"No default subnetpool found for IPv{version}")
        return found

    def allocate(self, session, pool: SubnetPool, cidr: str | None, prefixlen: int | None) -> str:
        """A CIDR for a new subnet of ``pool``: ``cidr`` if inside the pool and free, else the
        first free block of ``prefixlen`` (default: the pool's); 409 when none is left."""
        taken = [ipaddress.ip_network(c) for c in session.scalars(select(Subnet.cidr).where(
            Subnet.subnetpool_id == pool.id))]
        prefixes = [ipaddress.ip_network(p) for p in pool.prefixes or []]
        if cidr:
            wanted = ipaddress.ip_network(cidr)
            if not any(wanted.version == p.version and wanted.subnet_of(p) for p in prefixes):
                raise errors.SubnetAllocationError(reason=f"Cidr {cidr} is not within the subnet pool's prefixes")
            self._check_length(pool, wanted.prefixlen)
            if any(wanted.overlaps(t) for t in taken):
                raise errors.SubnetAllocationError(reason=f"Cidr {cidr} overlaps with another subnet")
            return str(wanted)
        length = pool.default_prefixlen if prefixlen is None else prefixlen
        self._check_length(pool, length)
        free = list(prefixes)
        for used in taken:
            free = [piece for block in free for piece in
                    ((block,) if not block.overlaps(used) else
                     (() if block.subnet_of(used) else block.address_exclude(used)))]
        for block in sorted(free):
            if block.prefixlen <= length:
                return str(next(block.subnets(new_prefix=length)))
        raise errors.SubnetAllocationError(reason=f"Insufficient prefix space to allocate subnet size /{length}")

    @staticmethod
    def _check_length(pool: SubnetPool, length: int) -> None:
        if not pool.min_prefixlen <= length <= pool.max_prefixlen:
            raise errors.SubnetAllocationError(
                reason=f"Unsupported prefix length {length}: the pool allows {pool.min_prefixlen} to "
                       f"{pool.max_prefixlen}")
