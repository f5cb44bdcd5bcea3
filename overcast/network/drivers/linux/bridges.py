"""Layer 2: a Linux bridge per network, a tap per guest port, a veth pair per namespace leg.

A tenant network (``vxlan`` or ``local``, or ``flat`` on an unmapped physical network)
gets its own bridge ``brq<net>``, made with its first port and removed with its last; a
flat network on a mapped physical network uses the mapped bridge (``br-ex`` for
``public``), which the driver makes at start and never removes. When the host has a
tunnel endpoint, a vxlan network's bridge also holds the network's VXLAN device
(:mod:`.tunnels`), which joins it to the network's bridges on the other hosts; it comes
and goes with the bridge.

A guest's tap gets the port's MAC with its first byte set to ``fe`` (the guest's own
NIC carries the real one; two equal MACs on one bridge would confuse its learning), and
the bridge has no address: the host is not on tenant networks. What each plugged port's
VIF is lives in ``STATE/ports/<port id>.json``; which ports are plugged is read from the
kernel (the links' aliases).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from overcast.network.drivers.base import NETWORK_TYPES, PortSpec, Segment
from overcast.network.drivers.errors import NetworkDriverError, PlugFailed, UnsupportedNetworkType

from .host import Host, bridge_name, inner_name, no_ipv6, tap_name, vxlan_name
from .tunnels import Tunnels


def tap_mac(mac: str) -> str:
    return "fe" + mac[2:]


class Bridges:
    def __init__(self, host: Host, tunnels: Tunnels | None = None):
        self.host = host
        self.tunnels = tunnels or Tunnels(host)

    @property
    def _vif_dir(self) -> Path:
        return self.host.state_dir / "ports"

    def init(self) -> None:
        """Make the mapped physical bridges (``br-ex``) if missing."""
        for physnet, bridge in self.host.mappings.items():
            self._bridge(bridge, self.host.alias("physnet", physnet))

    # -- bridges ----------------------------------------------------------------------

    def bridge_for(self, segment: Segment) -> str:
        """The bridge of a segment, made (and up) if missing; UnsupportedNetworkType."""
        if segment.network_type not in NETWORK_TYPES:
            raise UnsupportedNetworkType(network_type=segment.network_type)
        mapped = self.host.mappings.get(segment.physical_network or "") if segment.network_type == "flat" else None
        if mapped:
            return self._bridge(mapped, self.host.alias("physnet", segment.physical_network))
        bridge = self._bridge(bridge_name(segment.network_id), self.host.alias("net", segment.network_id))
        if self.tunnels.carries(segment):
            try:
                self.tunnels.attach(segment, bridge)
            except NetworkDriverError:
                self._drop_bridge_if_empty(bridge)
                raise
        return bridge

    def _bridge(self, name: str, alias: str) -> str:
        run = self.host.run
        if not self.host.link_exists(name):
            run("ip", "link", "add", name, "type", "bridge", "forward_delay", "0", "stp_state", "0")
            no_ipv6(name)
        run("ip", "link", "set", name, "alias", alias, "up")
        return name

    def _drop_bridge_if_empty(self, name: str) -> None:
        """Remove a network's own bridge once nothing is plugged in it (mapped ones stay)."""
        if name in self.host.mappings.values() or not self.host.link_exists(name):
            return
        tunnel = vxlan_name(name[len("brq"):])  # a network's own bridge holds its VXLAN device too
        members = set(os.listdir(f"/sys/class/net/{name}/brif"))
        if not members - {tunnel}:
            if tunnel in members:
                self.host.run("ip", "link", "del", tunnel, check=False)
            self.host.run("ip", "link", "del", name, check=False)

    def _master(self, device: str) -> str | None:
        try:
            return os.path.basename(os.readlink(f"/sys/class/net/{device}/master"))
        except OSError:
            return None

    # -- guest ports --------------------------------------------------------------------

    def plug(self, port: PortSpec) -> dict:
        """A guest's tap on its network's bridge (made or brought up to date); its VIF."""
        bridge = self.bridge_for(port.segment)
        tap, fresh = tap_name(port.id), not self.host.link_exists(tap_name(port.id))
        try:
            if fresh:
                self.host.run("ip", "tuntap", "add", "dev", tap, "mode", "tap")
                no_ipv6(tap)
            self._join(tap, bridge, tap_mac(port.mac), port.segment.mtu, self.host.alias("port", port.id))
            vif = {"id": port.id, "mac": port.mac, "devname": tap, "bridge": bridge, "mtu": port.segment.mtu,
                   "network_id": port.segment.network_id}
            self._save_vif(vif)
        except NetworkDriverError as error:
            if fresh:
                self.host.run("ip", "link", "del", tap, check=False)
                self._drop_bridge_if_empty(bridge)
            raise PlugFailed(port_id=port.id, reason=str(error)) from None
        return vif

    def _join(self, device: str, bridge: str, mac: str, mtu: int, alias: str) -> None:
        old = self._master(device)
        self.host.run("ip", "link", "set", device, "address", mac, "mtu", str(mtu), "alias", alias)
        self.host.run("ip", "link", "set", device, "master", bridge, "up")
        if old and old != bridge:
            self._drop_bridge_if_empty(old)

    def unplug(self, port_id: str) -> None:
        tap = tap_name(port_id)
        if tap_name(port_id) in self._owned_taps("port"):
            bridge = self._master(tap)
            self.host.run("ip", "link", "del", tap, check=False)
            if bridge:
                self._drop_bridge_if_empty(bridge)
        (self._vif_dir / f"{port_id}.json").unlink(missing_ok=True)

    def list(self) -> list[str]:
        return sorted(self.host.owned("port"))

    def vif(self, port_id: str) -> dict | None:
        link = self.host.owned("port").get(port_id)
        return self._vif(port_id, link) if link else None

    def _vif(self, port_id: str, link: dict) -> dict:
        try:
            return json.loads((self._vif_dir / f"{port_id}.json").read_text())
        except (OSError, ValueError):  # plugged by a run that died before writing it: what the kernel says
            return {"id": port_id, "mac": "fa" + link["address"][2:], "devname": link["ifname"],
                    "bridge": self._master(link["ifname"]), "mtu": link["mtu"]}

    def vifs(self) -> dict[str, dict]:
        """The VIF of every plugged port, by port id (the links read once, not once a port)."""
        return {port_id: self._vif(port_id, link) for port_id, link in self.host.owned("port").items()}

    def _owned_taps(self, kind: str) -> set[str]:
        return {link["ifname"] for link in self.host.owned(kind).values()}

    def _save_vif(self, vif: dict) -> None:
        self._vif_dir.mkdir(parents=True, exist_ok=True)
        path = self._vif_dir / f"{vif['id']}.json"
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(vif))
        os.replace(temp, path)

    # -- namespace legs -------------------------------------------------------------------

    def plug_leg(self, port_id: str, kind: str, netns: str, mac: str, segment: Segment) -> str:
        """A veth pair for a namespace's port: ``tap<port>`` on the segment's bridge,
        ``<kind>-<port>`` (kind ns, qr or qg) inside ``netns`` (which must exist) with
        ``mac``, both up, with the segment's MTU. Idempotent. The inner device's name."""
        bridge = self.bridge_for(segment)
        outer, inner = tap_name(port_id), inner_name(kind, port_id)
        mtu = str(segment.mtu)
        if self.host.link_exists(outer) and not self.host.link_exists(inner, netns):
            self.host.run("ip", "link", "del", outer, check=False)  # half a pair, or in another namespace
        if not self.host.link_exists(outer):
            self.host.run("ip", "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", netns)
            no_ipv6(outer)
        try:
            self._join(outer, bridge, tap_mac(mac), segment.mtu, self.host.alias("leg", port_id))
            self.host.run("ip", "link", "set", inner, "address", mac, "mtu", mtu, "up", netns=netns)
        except NetworkDriverError:
            self.unplug_leg(port_id)
            raise
        return inner

    def unplug_leg(self, port_id: str) -> None:
        """Remove a leg (both ends; a network's bridge left empty goes too). Not there: no-op."""
        outer = tap_name(port_id)
        if outer in self._owned_taps("leg") or self.host.link_exists(outer):
            bridge = self._master(outer)
            self.host.run("ip", "link", "del", outer, check=False)
            if bridge:
                self._drop_bridge_if_empty(bridge)

    def legs(self) -> list[str]:
        """Ids of the ports plugged as namespace legs."""
        return sorted(self.host.owned("leg"))

