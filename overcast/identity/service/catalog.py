"""Regions, services and endpoints, and the catalog built from them (cached in memory)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from overcast.common.db import new_id
from overcast.identity import errors
from overcast.identity.models import Endpoint, Region, Service
from overcast.identity.service.base import CACHE_TTL, SubService, dump_json, load_json, must_get, split_extra

INTERFACES = ("public", "internal", "admin")


class Catalog(SubService):
    def __init__(self, identity):
        super().__init__(identity)
        self._lock = threading.Lock()
        self._cached: tuple[float, list] | None = None

    def invalidate(self) -> None:
        """Forget the cached catalog (after any change to regions, services or endpoints)."""
        self._cached = None

    # regions

    def get_region(self, region_id: str) -> Region:
        with self.db.session() as session:
            return must_get(session, Region, region_id, errors.RegionNotFound)

    def list_regions(self, parent_region_id: str | None = None) -> list[Region]:
        query = select(Region).order_by(Region.id)
        if parent_region_id is not None:
            query = query.where(Region.parent_region_id == parent_region_id)
        with self.db.session() as session:
            return list(session.scalars(query))

    def create_region(self, fields: dict, region_id: str | None = None) -> Region:
        known, extra = split_extra(fields, {"description", "parent_region_id"})
        region_id = region_id or fields.get("id") or new_id()
        with self.db.session() as session:
            if session.get(Region, region_id) is not None:
                raise errors.Conflict(f"Conflict occurred attempting to store region - Duplicate ID, {region_id}.")
            parent = known.get("parent_region_id")
            if parent and session.get(Region, parent) is None:
                raise errors.ValidationError(f"Could not find region: {parent}.")
            known.setdefault("description", "")
            row = Region(id=region_id, extra=dump_json(extra), **known)
            session.add(row)
        self.invalidate()
        return row

    def update_region(self, region_id: str, fields: dict) -> Region:
        known, extra = split_extra(fields, {"description", "parent_region_id"})
        with self.db.session() as session:
            row = must_get(session, Region, region_id, errors.RegionNotFound)
            parent = known.get("parent_region_id")
            if parent and (parent == region_id or session.get(Region, parent) is None):
                raise errors.ValidationError(f"Invalid parent region: {parent}.")
            for key, value in known.items():
                setattr(row, key, value)
            if extra:
                row.extra = dump_json({**load_json(row.extra, {}), **extra})
        self.invalidate()
        return row

    def delete_region(self, region_id: str) -> None:
        with self.db.session() as session:
            row = must_get(session, Region, region_id, errors.RegionNotFound)
            if session.scalars(select(Region.id).where(Region.parent_region_id == region_id)).first():
                raise errors.ForbiddenAction(f"Cannot delete region {region_id}: it has child regions.")
            if session.scalars(select(Endpoint.id).where(Endpoint.region_id == region_id)).first():
                raise errors.ForbiddenAction(f"Cannot delete region {region_id}: it has endpoints.")
            session.delete(row)
        self.invalidate()

    # services

    def get_service(self, service_id: str) -> Service:
        with self.db.session() as session:
            return must_get(session, Service, service_id, errors.ServiceNotFound)

    def list_services(self, type: str | None = None, name: str | None = None) -> list[Service]:
        query = select(Service).order_by(Service.type)
        if type is not None:
            query = query.where(Service.type == type)
        with self.db.session() as session:
            rows = list(session.scalars(query))
        if name is not None:
            rows = [r for r in rows if load_json(r.extra, {}).get("name") == name]
        return rows

    def create_service(self, fields: dict) -> Service:
        known, extra = split_extra(fields, {"type", "enabled"})
        with self.db.session() as session:
            row = Service(id=new_id(), extra=dump_json(extra), **known)
            session.add(row)
        self.invalidate()
        return row

    def update_service(self, service_id: str, fields: dict) -> Service:
        known, extra = split_extra(fields, {"type", "enabled"})
        with self.db.session() as session:
            row = must_get(session, Service, service_id, errors.ServiceNotFound)
            for key, value in known.items():
                setattr(row, key, value)
            if extra:
                row.extra = dump_json({**load_json(row.extra, {}), **extra})
        self.invalidate()
        return row

    def delete_service(self, service_id: str) -> None:
        with self.db.session() as session:
            row = must_get(session, Service, service_id, errors.ServiceNotFound)
            for endpoint in session.scalars(select(Endpoint).where(Endpoint.service_id == service_id)):
                session.delete(endpoint)
            session.delete(row)
        self.invalidate()

    # endpoints

    def get_endpoint(self, endpoint_id: str) -> Endpoint:
        with self.db.session() as session:
            return must_get(session, Endpoint, endpoint_id, errors.EndpointNotFound)

    def list_endpoints(self, filters: dict | None = None) -> list[Endpoint]:
        query = select(Endpoint).order_by(Endpoint.service_id, Endpoint.interface)
        for key in ("interface", "service_id", "region_id"):
            if (filters or {}).get(key):
                query = query.where(getattr(Endpoint, key) == filters[key])
        with self.db.session() as session:
            return list(session.scalars(query))

    def _legacy_region(self, session, fields: dict) -> None:
        """Keystone's rule: a legacy ``region`` (without ``region_id``) is created if missing."""
        region = fields.pop("region", None)
        if region and "region_id" not in fields:
            fields["region_id"] = region
            if session.get(Region, region) is None:
                session.add(Region(id=region, description="", extra="{}"))
                session.flush()

    def _check_endpoint(self, session, known: dict) -> None:
        if "interface" in known and known["interface"] not in INTERFACES:
            raise errors.ValidationError(
                f"Invalid input for field 'interface': {known['interface']!r} is not one of {list(INTERFACES)}"
            )
        if "service_id" in known and session.get(Service, known["service_id"]) is None:
            raise errors.ValidationError(f"Could not find service: {known['service_id']}.")
        if known.get("region_id") and session.get(Region, known["region_id"]) is None:
            raise errors.ValidationError(f"Could not find region: {known['region_id']}.")

    def create_endpoint(self, fields: dict) -> Endpoint:
        with self.db.session() as session:
            self._legacy_region(session, fields)
            known, extra = split_extra(fields, {"service_id", "interface", "region_id", "url", "enabled"})
            self._check_endpoint(session, known)
            row = Endpoint(id=new_id(), extra=dump_json(extra), **known)
            session.add(row)
        self.invalidate()
        return row

    def update_endpoint(self, endpoint_id: str, fields: dict) -> Endpoint:
        with self.db.session() as session:
            row = must_get(session, Endpoint, endpoint_id, errors.EndpointNotFound)
            self._legacy_region(session, fields)
            known, extra = split_extra(fields, {"service_id", "interface", "region_id", "url", "enabled"})
            self._check_endpoint(session, known)
            for key, value in known.items():
                setattr(row, key, value)
            if extra:
                row.extra = dump_json({**load_json(row.extra, {}), **extra})
        self.invalidate()
        return row

    def delete_endpoint(self, endpoint_id: str) -> None:
        with self.db.session() as session:
            row = must_get(session, Endpoint, endpoint_id, errors.EndpointNotFound)
            session.delete(row)
        self.invalidate()

    # the catalog in tokens

    def catalog(self, project_id: str | None = None) -> list[dict]:
        """The v3 catalog: enabled services with their enabled endpoints.

        ``$(project_id)s`` / ``%(tenant_id)s`` in URLs are filled for project tokens;
        endpoints that need a project are left out of other tokens.
        """
        cached = self._cached
        if cached is None or time.monotonic() - cached[0] > CACHE_TTL:
            cached = (time.monotonic(), self._load())
            self._cached = cached
        result = []
        for service, endpoints in cached[1]:
            rendered = []
            for endpoint in endpoints:
                url = endpoint["url"]
                if "project_id)s" in url or "tenant_id)s" in url:
                    if not project_id:
                        continue
                    for token in ("$(project_id)s", "%(project_id)s", "$(tenant_id)s", "%(tenant_id)s"):
                        url = url.replace(token, project_id)
                rendered.append({**endpoint, "url": url})
            result.append({**service, "endpoints": rendered})
        return result

    def _load(self) -> list:
        with self.db.session() as session:
            services = list(session.scalars(select(Service).where(Service.enabled.is_(True)).order_by(Service.type)))
            endpoints = list(session.scalars(select(Endpoint).where(Endpoint.enabled.is_(True))))
        loaded = []
        for service in services:
            extra = load_json(service.extra, {})
            items = [
                {
                    "id": e.id,
                    "interface": e.interface,
                    "region": e.region_id,
                    "region_id": e.region_id,
                    "url": e.url,
                }
                for e in endpoints
                if e.service_id == service.id
            ]
            loaded.append(({"id": service.id, "type": service.type, "name": extra.get("name", "")}, items))
        return loaded
