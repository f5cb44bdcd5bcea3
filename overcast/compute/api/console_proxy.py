"""The noVNC proxy (Nova's nova-novncproxy), inside the one app: noVNC's pages under
``/vnc`` and a websocket that relays one browser to one guest's VNC server.

A console URL is ``<base>/vnc/vnc_lite.html?path=%3Ftoken%3D<token>``; noVNC opens the
websocket at ``/<path>`` of the host that served the page, so the relay answers at ``/``
(and at ``/vnc/websockify``, noVNC's default) with ``?token=`` (or a ``token`` cookie).
The relay takes the token (one use), asks the instance's compute agent where the console
is now, refuses when that is not where the token said, connects to the unix socket and
copies bytes both ways as binary frames until either side closes. Failures after the
handshake close the websocket with a reason (1008: the token; 1011: the console); a
browser page from another origin is refused at the handshake (403), as Nova checks the
Origin header.

noVNC's files come from its Debian package (``compute.novnc_dir``); nothing of noVNC is
copied into overcast.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse
from starlette.routing import Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from overcast.common.bus import BusError
from overcast.common.errors import OvercastError

CHUNK = 64 * 1024
log = logging.getLogger("overcast.compute.console")


def routes(novnc_dir: str) -> list:
    """The Starlette routes to put at the app's root."""
    if Path(novnc_dir).is_dir():
        pages = StaticFiles(directory=novnc_dir)
    else:
        pages = PlainTextResponse(f"noVNC is not installed in {novnc_dir} (apt-get install novnc)\n", status_code=404)
    return [WebSocketRoute("/", relay), WebSocketRoute("/vnc/websockify", relay), Mount("/vnc", app=pages)]


def origin_allowed(websocket: WebSocket, base_url: str) -> bool:
    """No Origin (not a browser), or the page came from this host or the console base URL."""
    origin = websocket.headers.get("origin")
    if not origin:
        return True
    netloc = urlsplit(origin).netloc.lower()
    return netloc in (websocket.headers.get("host", "").lower(), urlsplit(base_url).netloc.lower())


async def relay(websocket: WebSocket) -> None:
    consoles = websocket.app.state.compute.consoles
    if not origin_allowed(websocket, consoles.base_url):
        await websocket.close(code=1008)  # before accept: a 403 to the handshake
        return
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol="binary" if "binary" in offered else None)
    token = websocket.query_params.get("token") or websocket.cookies.get("token", "")
    grant = await asyncio.to_thread(consoles.take, token)
    if grant is None:
        await websocket.close(code=1008, reason="the console token is unknown, expired or already used")
        return
    try:
        console = await consoles.locate(grant.host, grant.instance_uuid)
    except (OvercastError, BusError) as error:
        await websocket.close(code=1011, reason=f"console unavailable: {error}"[:120])
        return
    if not console.get("path"):
        await websocket.close(code=1011, reason=f"host {grant.host} serves no VNC socket for this guest"
                                                " (the fake driver runs none)"[:120])
        return
    if console["path"] != grant.path:
        await websocket.close(code=1008, reason="the console moved since the token was made")
        return
    try:
        reader, writer = await asyncio.open_unix_connection(console["path"])
    except OSError as error:
        await websocket.close(code=1011, reason=f"cannot reach the console: {error.strerror or error}"[:120])
        return
    log.info("console of %s open", grant.instance_uuid)
    try:
        await _copy_both_ways(websocket, reader, writer)
    finally:
        writer.close()
        if websocket.application_state == WebSocketState.CONNECTED:
            try:
                await websocket.close(code=1000)
            except (RuntimeError, WebSocketDisconnect, OSError):
                pass
        log.info("console of %s closed", grant.instance_uuid)


async def _copy_both_ways(websocket: WebSocket, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    async def to_guest():
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes") or (message.get("text") or "").encode()
            writer.write(data)
            await writer.drain()

    async def to_browser():
        while data := await reader.read(CHUNK):
            await websocket.send_bytes(data)

    tasks = [asyncio.create_task(to_guest()), asyncio.create_task(to_browser())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
