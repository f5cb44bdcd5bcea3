"""Gratuitous ARP from a device inside a namespace, so the neighbours of a moved address
(the host on ``br-ex``, other routers) learn its new MAC at once.

When a router's gateway leg takes an IPv4 address it did not hold (a floating IP
associated, or moved here from another router, whose leg has another MAC), the router
announces it as ``arping -U`` does: an ARP request for the address from the address,
broadcast, from the leg's MAC. Linux neighbours update an entry they already have on
such a request (``arp_accept`` off only stops them making new ones), whatever its state.

The frame is sent from a raw ``AF_PACKET`` socket opened inside the namespace, by a
thread of its own that enters the namespace (``setns``) and ends with it, so no tool is
needed and no other thread changes namespace. The first announcement is sent before
:func:`announce` returns; ``repeats`` more follow ``interval`` seconds apart from that
thread (a frame lost on a busy bridge is made up for), as Neutron's L3 agent repeats its
own (``send_arp_for_ha``, 3 by default).
"""

from __future__ import annotations

import ctypes
import ipaddress
import logging
import socket
import struct
import threading
import time

log = logging.getLogger("overcast.network.linux")
CLONE_NEWNET = 0x40000000
ETH_P_ARP = 0x0806
BROADCAST = b"\xff" * 6


def frame(mac: bytes, address: str) -> bytes:
    """The broadcast Ethernet frame of a gratuitous ARP request for ``address`` from ``mac``."""
    ip = ipaddress.IPv4Address(address).packed
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, ip, b"\x00" * 6, ip)
    packet = BROADCAST + mac + struct.pack("!H", ETH_P_ARP) + arp
    return packet.ljust(60, b"\x00")  # the shortest Ethernet frame, as a NIC would pad it


def _enter(netns: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    with open(f"/run/netns/{netns}") as handle:
        if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns into {netns}")


def _send(device: str, addresses: list[str]) -> None:
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as sock:
        sock.bind((device, ETH_P_ARP))
        mac = sock.getsockname()[4]  # the device's hardware address
        for address in addresses:
            sock.send(frame(mac, address))


def announce(netns: str, device: str, addresses: list[str], repeats: int = 2, interval: float = 1.0) -> None:
    """Announce the IPv4 ``addresses`` of ``device`` in ``netns``; the first round is sent
    when this returns (blocks a few ms), the repeats follow in the background. A failure
    (the device gone meanwhile) is logged, never raised: a missed announcement only
    delays the neighbours until their entries go stale."""
    addresses = [address for address in addresses if ipaddress.ip_address(address).version == 4]
    if not addresses:
        return
    first = threading.Event()

    def run() -> None:
        try:
            _enter(netns)  # this thread only, and it ends here
            for round_ in range(1 + repeats):
                if round_:
                    time.sleep(interval)
                try:
                    _send(device, addresses)
                except OSError as error:
                    if not round_:
                        raise
                    log.debug("gratuitous ARP from %s in %s: %s", device, netns, error)
                    return
                first.set()
        except OSError as error:
            log.warning("gratuitous ARP for %s from %s in %s failed: %s", ", ".join(addresses), device, netns, error)
        finally:
            first.set()

    threading.Thread(target=run, name=f"garp-{device}", daemon=True).start()
    first.wait(5)
