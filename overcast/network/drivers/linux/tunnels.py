"""VXLAN between hosts: a vxlan network's bridge gets a VXLAN device ``vx-<net>`` beside
its taps (VNI = the segment's ``segmentation_id``, sent from this host's endpoint
``local_ip`` to UDP ``port`` of the other hosts), so the bridges of one network on all
hosts are one layer 2 segment.

No multicast: what the bridge floods (ARP, DHCP, unknown unicast) the device sends to
every peer, one copy each (head-end replication), through one all-zero-MAC FDB entry
per peer (``bridge fdb append 00:00:00:00:00:00 dev vx-<net> dst <peer>``). The device
learns from what arrives which host holds which MAC (learning on, as Neutron's Linux
bridge agent without l2population), so unicast goes to that host only.

A host without ``local_ip`` makes no VXLAN device: its networks stay on this host, as
in the all-in-one cloud. The devices carry the alias ``<prefix>:vxlan:<network id>``;
their flood lists are read back from the kernel, so a restart re-syncs them without
duplicates.
"""

from __future__ import annotations

import json

from overcast.network.drivers.base import Segment

from .host import Host, no_ipv6, vxlan_name

FLOOD_MAC = "00:00:00:00:00:00"


class Tunnels:
    def __init__(self, host: Host, local_ip: str = "", port: int = 4789):
        self.host = host
        self.local_ip = local_ip
        self.port = port
        self.peers: list[str] = []

    def carries(self, segment: Segment) -> bool:
        """Whether the segment's bridge gets a VXLAN device on this host."""
        return bool(self.local_ip) and segment.network_type == "vxlan" and segment.segmentation_id is not None

    def init(self) -> None:
        """Remove the devices of a previous run that no longer fit: all of them without
        an endpoint, those outside a bridge (their bridge went behind our back); remake
        those with another endpoint or port (same VNI, bridge and MTU)."""
        for network_id, link in self.host.owned("vxlan").items():
            master = link.get("master")
            if not self.local_ip or not master:
                self.host.run("ip", "link", "del", link["ifname"], check=False)
            elif not self._fits(link, self._vni(link)):
                self._make(link["ifname"], network_id, self._vni(link), link["mtu"], master)

    def attach(self, segment: Segment, bridge: str) -> str:
        """The segment's VXLAN device in ``bridge`` (made, or remade if its VNI, endpoint
        or port differ), up, with the segment's MTU and the flood list. Idempotent."""
        name = vxlan_name(segment.network_id)
        link = self._link(name)
        if link is None or not self._fits(link, segment.segmentation_id):
            self._make(name, segment.network_id, segment.segmentation_id, segment.mtu, bridge)
        else:
            self.host.run("ip", "link", "set", name, "mtu", str(segment.mtu), "master", bridge, "up")
        self._flood(name)
        return name

    def remove(self, network_id: str) -> None:
        """Remove the network's device (its FDB entries go with it). Not there: no-op."""
        name = vxlan_name(network_id)
        if self._link(name) is not None:
            self.host.run("ip", "link", "del", name, check=False)

    def set_peers(self, peers: list[str]) -> None:
        """Flood to ``peers`` from now on, on every device here and every one made later."""
        self.peers = sorted(set(peers) - {self.local_ip})
        for link in self.host.owned("vxlan").values():
            self._flood(link["ifname"])

    def list(self) -> dict[str, str]:
        """Network id -> the name of its VXLAN device, for this driver's devices."""
        return {network_id: link["ifname"] for network_id, link in self.host.owned("vxlan").items()}

    def flood_list(self, name: str) -> list[str]:
        """The endpoints a device floods to (its all-zero-MAC FDB entries)."""
        entries = json.loads(self.host.run("bridge", "-j", "fdb", "show", "dev", name, check=False) or "[]")
        return sorted(entry["dst"] for entry in entries if entry.get("mac") == FLOOD_MAC and entry.get("dst"))

    # -- mechanics ------------------------------------------------------------------------

    def _make(self, name: str, network_id: str, vni: int, mtu: int, bridge: str) -> None:
        run = self.host.run
        run("ip", "link", "del", name, check=False)
        run("ip", "link", "add", name, "type", "vxlan", "id", str(vni), "local", self.local_ip,
            "dstport", str(self.port))
        try:
            no_ipv6(name)
            run("ip", "link", "set", name, "alias", self.host.alias("vxlan", network_id), "mtu", str(mtu),
                "master", bridge, "up")
        except Exception:
            run("ip", "link", "del", name, check=False)
            raise

    def _flood(self, name: str) -> None:
        have = set(self.flood_list(name))
        for peer in sorted(set(self.peers) - have):
            self.host.run("bridge", "fdb", "append", FLOOD_MAC, "dev", name, "dst", peer)
        for peer in sorted(have - set(self.peers)):
            self.host.run("bridge", "fdb", "del", FLOOD_MAC, "dev", name, "dst", peer, check=False)

    def _link(self, name: str) -> dict | None:
        if not self.host.link_exists(name):
            return None
        shown = json.loads(self.host.run("ip", "-j", "-d", "link", "show", "dev", name, check=False) or "[]")
        return shown[0] if shown else None

    @staticmethod
    def _vni(link: dict) -> int | None:
        return (link.get("linkinfo") or {}).get("info_data", {}).get("id")

    def _fits(self, link: dict, vni: int | None) -> bool:
        info = (link.get("linkinfo") or {}).get("info_data", {})
        local = info.get("local") or info.get("local6")
        return info.get("id") == vni and local == self.local_ip and info.get("port") == self.port
