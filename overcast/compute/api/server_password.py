"""/servers/{id}/os-server-password: the encrypted password a guest posted to the
metadata service (empty until it does), and clearing it."""

from __future__ import annotations

import asyncio

from overcast.common.api import Route, reply
from overcast.compute.api.server_network import authorized_server

P = "os_compute_api:"
S = "/v2.1/servers/{server_id}"


async def show(req):
    row = await authorized_server(req, "os-server-password:show")
    return reply({"password": (row.system_metadata or {}).get("password", "")})


async def clear(req):
    row = await authorized_server(req, "os-server-password:clear")
    meta = {k: v for k, v in (row.system_metadata or {}).items() if k != "password"}
    await asyncio.to_thread(req.state.compute.progress.apply, row.uuid, {"system_metadata": meta}, check_task=False)
    return reply(None, status=204)


ROUTES = [
    Route("GET", S + "/os-server-password", show, P + "os-server-password:show"),
    Route("DELETE", S + "/os-server-password", clear, P + "os-server-password:clear"),
]
