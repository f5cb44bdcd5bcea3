"""GET /v2.1/os-console-auth-tokens/{console_token}: what a console token opens (admin).

Nova's console proxies call this to check a token; overcast's proxy reads the token table
itself, so this is for operators and clients. Reading does not use the token up. Below
2.31 only RDP tokens could be read (Nova: 401); overcast has none, so every token is 401.
"""

from __future__ import annotations

import asyncio

from overcast.common.api import reply
from overcast.common.errors import Unauthorized
from overcast.compute import errors


async def show(req):
    req.authorize({"project_id": req.context.project_id})
    grant = await asyncio.to_thread(req.state.compute.consoles.find, req.params["console_token"])
    if grant is None:
        raise errors.ComputeNotFound("Token not found")
    if not req.version.at_least("2.31") and grant.console_type != "rdp-html5":
        raise Unauthorized("The requested console type details are not accessible")
    return reply({"console": {"instance_uuid": grant.instance_uuid, "host": grant.host, "port": grant.port,
                              "internal_access_path": None}})
