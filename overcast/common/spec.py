"""ServiceSpec: what the server needs to know to mount, wire and catalog one service.

Code is named by ``"module:attribute"`` strings and imported only when the server asks
for it, so importing a service package does nothing (STYLE: nothing at import).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


def _load(reference: str):
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # package name and app-state key, e.g. "identity"
    service_type: str  # catalog type, e.g. "identity"
    catalog_name: str  # catalog name clients see, e.g. "keystone"
    prefix: str  # URL prefix in the all-in-one app, e.g. "/identity"
    endpoint_path: str  # appended to public URL + prefix for catalog endpoints, e.g. "/v3"
    fault_style: str  # identity | compute | network | image ...
    routes_ref: str  # "module:ROUTES", the route rows
    policies_ref: str  # "module:RULES", the default policy rules
    service_ref: str  # "module:Class", built as Class(config, db, **needs)
    microversions_ref: str | None = None  # "module:RANGE", a MicroversionRange, for services that have them
    needs: tuple[str, ...] = ()  # what the constructor also takes: "bus" or services built before it
    in_catalog: bool = True  # False: served, but not an endpoint of the Keystone catalog (the metadata API)

    def routes(self) -> list:
        return _load(self.routes_ref)

    def policies(self) -> list:
        return _load(self.policies_ref)

    def microversions(self):
        return _load(self.microversions_ref) if self.microversions_ref else None

    def build(self, config, db, parts: dict | None = None):
        """The service object; ``parts`` holds the bus and the services built so far."""
        parts = parts or {}
        return _load(self.service_ref)(config, db, **{name: parts[name] for name in self.needs})
