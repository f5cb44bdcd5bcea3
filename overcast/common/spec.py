"""ServiceSpec: what the server needs to know to mount, wire and catalog one service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # package name, e.g. "identity"
    service_type: str  # catalog type, e.g. "identity"
    catalog_name: str  # catalog name clients see, e.g. "keystone"
    prefix: str  # URL prefix in the all-in-one app, e.g. "/identity"
    endpoint_path: str  # appended to public URL + prefix for catalog endpoints, e.g. "/v3"
    fault_style: str  # identity | compute | network | ...
    routes: Callable[[], list]  # returns the route rows (imports lazily)
    policies: Callable[[], list]  # returns the default policy Rules
    build: Callable  # (config, db, services built so far) -> the service object, state key = name
