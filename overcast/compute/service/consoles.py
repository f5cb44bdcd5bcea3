"""Remote consoles: which console types exist, one-time tokens for them, and where a
token's console listens now.

A console URL carries a random token; only its SHA-256 is stored (``ConsoleToken``), with
the instance, its compute host and where the console listened. The URL works once, within
``compute.console_token_ttl`` seconds (Nova's ``[consoleauth] token_ttl``, 600): the
proxy (``api/console_proxy.py``) takes the token, which deletes its row in the same
statement that checks the expiry, then asks the host's agent where the console is now.

Only VNC through noVNC is served; every other protocol answers "Unavailable console
type", as Nova does for a console type its deployment has switched off.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import delete, select

from overcast.common.bus import RemoteError
from overcast.common.db import utcnow
from overcast.compute import errors, states
from overcast.compute.models import ConsoleToken

#: protocol -> the console types Nova knows for it (its request schema and compute manager)
TYPES = {"vnc": ("novnc", "xvpvnc"), "spice": ("spice-html5", "spice-direct"), "rdp": ("rdp-html5",),
         "serial": ("serial",), "mks": ("webmks",)}
#: the (protocol, type) pairs overcast serves
SERVED = {("vnc", "novnc")}
AGENT_TIMEOUT = 30  # seconds the host's agent may take to say where a console is


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Grant:
    """What a taken token allows: one connection to this instance's console."""

    instance_uuid: str
    host: str
    console_type: str
    port: int | None
    path: str | None


class Consoles:
    def __init__(self, compute):
        self.compute = compute
        self.db = compute.db
        self.config = compute.config

    @property
    def base_url(self) -> str:
        """The noVNC page the URLs point at (Nova's ``[vnc] novncproxy_base_url``)."""
        return self.config.compute.novncproxy_base_url or f"{self.config.public_url}/vnc/vnc_lite.html"

    @property
    def ttl(self) -> int:
        return self.config.compute.console_token_ttl

    # -- the API side ----------------------------------------------------------------------

    async def create(self, ctx, uuid: str, protocol: str, kind: str) -> dict:
        """A one-time console URL for server ``uuid``: ``{"protocol", "type", "url"}``.
        Raises ComputeInvalid (400) for a type overcast does not serve or that does not
        belong to the protocol, ComputeConflict (409) while the guest is not running."""
        if (protocol, kind) not in SERVED:
            if kind and protocol in TYPES and kind not in TYPES[protocol]:
                raise errors.ComputeInvalid(f"Invalid console type {kind}")
            raise errors.ComputeInvalid(f"Unavailable console type {kind or protocol}.")
        row = await asyncio.to_thread(self.compute.servers.get, ctx, uuid)
        if not row.host or row.vm_state == states.BUILDING:
            raise errors.ComputeConflict(f"Instance {uuid} is not ready")
        console = await self.locate(row.host, uuid, protocol)
        token = await asyncio.to_thread(self.issue, uuid, row.host, kind, console)
        return {"protocol": protocol, "type": kind, "url": f"{self.base_url}?{urlencode({'path': f'?token={token}'})}"}

    async def locate(self, host: str, uuid: str, protocol: str = "vnc") -> dict:
        """Ask ``host``'s agent where the console is; ComputeConflict when the guest has
        none now (stopped, paused, gone) or the driver serves no such console."""
        try:
            return await self.compute.bus.call(f"compute.{host}", "get_remote_console",
                                               {"uuid": uuid, "kind": protocol}, timeout=AGENT_TIMEOUT)
        except RemoteError as error:
            if error.exc_type in ("InstanceInvalidState", "InstanceNotFound"):
                raise errors.ComputeConflict(f"Instance {uuid} is not ready: {error.message}") from None
            if error.exc_type == "DriverCapabilityError":
                raise errors.ComputeInvalid(f"Unavailable console type {protocol}: {error.message}") from None
            raise

    # -- the token store (blocking; called in threads) ---------------------------------------

    def issue(self, uuid: str, host: str, kind: str, console: dict) -> str:
        """Store a new token's hash for ``console`` (a driver's get_remote_console answer)
        and return the token. Drops expired rows on the way."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.db.session() as session:
            session.execute(delete(ConsoleToken).where(ConsoleToken.expires <= now))
            session.add(ConsoleToken(token_hash=token_hash(token), console_type=kind, instance_uuid=uuid, host=host,
                                     port=console.get("port"), path=console.get("path"),
                                     internal_access_path=console.get("internal_access_path"),
                                     access_url_base=self.base_url,
                                     expires=now + datetime.timedelta(seconds=self.ttl)))
        return token

    def find(self, token: str) -> Grant | None:
        """What ``token`` would open, without using it up; None when unknown or expired."""
        with self.db.session() as session:
            row = session.scalar(select(ConsoleToken).where(ConsoleToken.token_hash == token_hash(token or ""),
                                                            ConsoleToken.expires > utcnow()))
            return Grant(row.instance_uuid, row.host, row.console_type, row.port, row.path) if row else None

    def take(self, token: str) -> Grant | None:
        """Use ``token`` up: its Grant, or None when it is unknown, expired or used. Two
        proxies taking the same token at once: one wins (the delete counts rows)."""
        if not token:
            return None
        digest = token_hash(token)
        with self.db.session() as session:
            row = session.scalar(select(ConsoleToken).where(ConsoleToken.token_hash == digest))
            if row is None:
                return None
            grant = Grant(row.instance_uuid, row.host, row.console_type, row.port, row.path)
            gone = session.execute(delete(ConsoleToken).where(ConsoleToken.id == row.id,
                                                              ConsoleToken.expires > utcnow()))
            if gone.rowcount != 1:
                session.execute(delete(ConsoleToken).where(ConsoleToken.id == row.id))  # expired: drop it
                return None
        return grant
