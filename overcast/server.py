"""The all-in-one cloud: wire the services, prepare the data dir, serve one ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import anyio.to_thread
from starlette.responses import JSONResponse
from starlette.routing import Route as StarletteRoute

from overcast import clientconfig
from overcast.common import heartbeats
from overcast.common.api.app import build_app
from overcast.common.bus import Bus, make_transport
from overcast.common.config import Config
from overcast.common.db import Database
from overcast.common.db.migrate import upgrade
from overcast.common.policy import Enforcer
from overcast.compute.api import console_proxy
from overcast.identity.bootstrap import bootstrap
from overcast import driver_choice
from overcast.services import SERVICES

log = logging.getLogger("overcast")


class Cloud:
    """One overcast process: configuration, database, bus, services and the app."""

    def __init__(self, config: Config):
        self.config = config
        self.drivers = driver_choice.choose(config)  # "auto" drivers become real ones
        self.host = socket.gethostname()
        config.data_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.db = Database(config.database_url)
        self.bus = Bus(make_transport(config.bus.url), host=self.host)
        self.services: dict[str, object] = {}
        for spec in SERVICES:
            self.services[spec.name] = spec.build(config, self.db, {"bus": self.bus, **self.services})
        self.identity = self.services["identity"]
        self.passwords: dict[str, str] = {}
        self.clouds_file = None
        self._tasks: list[asyncio.Task] = []

    def prepare(self) -> None:
        """Migrate the schema, make keys, bootstrap, and write the client files."""
        upgrade(self.db)
        for service in self.services.values():
            service.start()
        ident = self.config.identity
        self.passwords = clientconfig.bootstrap_passwords(
            self.config.data_path, ident.admin_password, ident.demo_password
        )
        bootstrap(self.identity, SERVICES, self.passwords["admin"], self.passwords["demo"])
        self.clouds_file = clientconfig.write(
            self.config.data_path, self.auth_url, self.passwords, ident.region
        )

    @property
    def auth_url(self) -> str:
        return f"{self.config.public_url}/identity/v3"

    def endpoints(self) -> dict[str, str]:
        """Service type -> the URL the catalog gives for it."""
        base = self.config.public_url
        return {spec.service_type: f"{base}{spec.prefix}{spec.endpoint_path}" for spec in SERVICES if spec.in_catalog}

    def enforcer(self) -> Enforcer:
        rules = [rule for spec in SERVICES for rule in spec.policies()]
        path = self.config.policy.file or self.config.data_path / "policy.yaml"
        return Enforcer(rules, path if (self.config.policy.file or path.exists()) else None)

    def app(self):
        mounts = [(spec.prefix, spec.routes(), spec.fault_style, spec.microversions()) for spec in SERVICES]
        state = {**self.services, "authenticator": self.identity.auth, "enforcer": self.enforcer()}
        index = StarletteRoute("/", self._index, methods=["GET"])
        consoles = console_proxy.routes(self.config.compute.novnc_dir)  # noVNC's pages and websocket
        return build_app(mounts, state, root_routes=[index, *consoles], lifespan=self.lifespan)

    async def _index(self, request):
        return JSONResponse({"overcast": {"services": self.endpoints()}})

    @contextlib.asynccontextmanager
    async def lifespan(self, app):
        # blocking handler work runs in this many threads; more only adds GIL contention
        anyio.to_thread.current_default_thread_limiter().total_tokens = self.config.server.worker_threads
        await self.bus.start()
        await heartbeats.serve(self.bus, self.db)
        for spec in SERVICES:
            beats = heartbeats.report_forever(self.bus, f"overcast-{spec.name}", self.host, spec.name)
            self._tasks.append(asyncio.create_task(beats))
        running = [service for service in self.services.values() if hasattr(service, "serve")]
        for service in running:  # bus consumers and in-process agents
            await service.serve()
        try:
            yield
        finally:
            for service in reversed(running):
                await service.stop()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.bus.stop()
            self.db.close()
