"""A second host for the Linux driver's two-host tests: a LinuxNetworkDriver living in a
network namespace of its own (a Python process under ``ip netns exec``, so it also sees
that namespace's /sys), driven from the test over a pipe, one JSON line per call.

:class:`RemoteHost` looks enough like the driver for ``linux_guests.Guest``: ``bridges``
and ``firewall`` calls go to the process; ``host`` is a local :class:`Host` with the same
prefix, since namespace names are the machine's (``ip netns add`` from anywhere) and a
guest's commands run inside the guest's own namespace.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from overcast.network.drivers import base
from overcast.network.drivers.linux.host import Host

TESTS = Path(__file__).resolve().parents[1]
SERVE = "from contract.linux_hosts import serve; serve()"


def encode(value):
    """Specs (dataclasses) to JSON, tagged with their class."""
    if dataclasses.is_dataclass(value):
        return {"__spec__": type(value).__name__,
                **{f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    return value


def decode(value):
    if isinstance(value, dict) and "__spec__" in value:
        fields = {name: decode(item) for name, item in value.items() if name != "__spec__"}
        return getattr(base, value["__spec__"])(**fields)
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def serve() -> None:
    """The process's side: the driver's options on the first line, then one call a line
    (``{"path": "bridges.plug_leg", "args": [...]}``), one answer a line."""
    from overcast.network.drivers import make_driver

    driver = make_driver("linux", **json.loads(sys.stdin.readline()))
    for line in sys.stdin:
        request = json.loads(line)
        target = driver
        for part in request["path"].split("."):
            target = getattr(target, part)
        try:
            reply = {"result": target(*decode(request["args"]))}
        except Exception as error:  # handed back to the test, which raises it
            reply = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(reply, default=str), flush=True)


class RemoteError(RuntimeError):
    pass


class Calls:
    """``calls.plug_leg(...)`` -> the process's ``driver.<path>.plug_leg(...)``."""

    def __init__(self, remote: RemoteHost, path: str):
        self._remote, self._path = remote, path

    def __getattr__(self, name: str):
        return lambda *args: self._remote.call(f"{self._path}.{name}", *args)


class RemoteHost:
    """Host B: the Linux driver in namespace ``netns`` (which must exist)."""

    def __init__(self, netns: str, state_dir: str, prefix: str, bridge_mappings: str, **options):
        self.netns = netns
        self.host = Host(state_dir, prefix, bridge_mappings)
        env = {**os.environ, "PYTHONPATH": f"{TESTS}:{TESTS.parent}"}
        self.process = subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-c", SERVE], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._send({"state_dir": state_dir, "prefix": prefix, "bridge_mappings": bridge_mappings, **options})
        self.bridges, self.firewall, self.tunnels = Calls(self, "bridges"), Calls(self, "firewall"), Calls(self, "tunnels")

    def _send(self, message: dict) -> None:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def call(self, path: str, *args):
        self._send({"path": path, "args": encode(list(args))})
        line = self.process.stdout.readline()
        if not line:
            raise RemoteError(f"host {self.netns} is gone (exit status {self.process.poll()})")
        reply = json.loads(line)
        if "error" in reply:
            raise RemoteError(reply["error"])
        return reply["result"]

    def init_host(self, name: str) -> None:
        self.call("init_host", name)

    def plug_port(self, port: base.PortSpec) -> dict:
        return self.call("plug_port", port)

    def unplug_port(self, port_id: str) -> None:
        self.call("unplug_port", port_id)

    def list_ports(self) -> list[str]:
        return self.call("list_ports")

    def set_tunnel_peers(self, peers: list[str]) -> None:
        self.call("set_tunnel_peers", peers)

    def tunnel_peers(self) -> list[str]:
        return self.call("tunnel_peers")

    def run(self, *args: str, check: bool = True) -> str:
        """A command in the host's namespace (not in a guest's)."""
        return self.host.run("ip", "netns", "exec", self.netns, *args, check=check)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
