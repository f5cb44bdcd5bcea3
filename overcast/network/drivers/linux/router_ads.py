"""IPv6 router advertisements from a router's internal legs (one dnsmasq per router, in
its namespace, doing nothing but RA).

A leg on an IPv6 subnet whose ``ipv6_ra_mode`` is set advertises the subnet's prefix, as
Neutron's L3 agent does with radvd: ``slaac`` with the autonomous flag (guests make their
address from it), ``dhcpv6-stateless`` with the autonomous and other-config flags (the
address from SLAAC, the rest from DHCPv6), ``dhcpv6-stateful`` with the managed flag and
no autonomous one (the address from DHCPv6, served by the network's DHCP namespace). A
subnet without ``ipv6_ra_mode`` is not advertised (its RAs come from elsewhere). The
router lifetime makes the guests' default route; a router without a gateway advertises a
lifetime of 0 (its prefixes, no default route), and one that is down advertises nothing.

dnsmasq sends the advertisements (``--enable-ra``, ``--port=0``: no DNS) with one
``--dhcp-range`` per prefix in the mode matching the subnet's (``ra-only``,
``ra-stateless``, ``static`` without any host: no address is ever leased); the router's
``ip6tables`` drop DHCPv6 requests to its legs, so that only the DHCP namespace answers
them. Like the DHCP server it is a daemon with a pid file in ``STATE/ra/<router>/``,
restarted only when its command line changes and adopted by the next agent.
"""

from __future__ import annotations

import ipaddress
import shutil
import time
from pathlib import Path

from overcast.network.drivers.base import RouterSpec
from overcast.network.drivers.errors import NetworkDriverError

from .dhcp import _cmdline, _kill, _read, _running
from .host import Host, router_namespace

#: ``ipv6_ra_mode`` -> dnsmasq's range mode
MODES = {"slaac": "ra-only", "dhcpv6-stateless": "ra-stateless", "dhcpv6-stateful": "static"}
INTERVAL = 30  # seconds between unsolicited advertisements (Neutron's radvd: 30 to 100)


def advertised(spec: RouterSpec, devices: dict[str, str]) -> list[tuple[str, ipaddress.IPv6Network, str]]:
    """(device, prefix, dnsmasq mode) of each leg the router advertises, in a stable order."""
    if not spec.admin_state_up:
        return []
    found = set()
    for leg in spec.legs:
        network = ipaddress.ip_network(leg.cidr, strict=False)
        if network.version == 6 and leg.ipv6_ra_mode in MODES and leg.port_id in devices:
            found.add((devices[leg.port_id], network, MODES[leg.ipv6_ra_mode]))
    return sorted(found, key=lambda item: (item[0], str(item[1])))


def command(spec: RouterSpec, directory: Path, legs: list[tuple[str, ipaddress.IPv6Network, str]]) -> list[str]:
    lifetime = [] if spec.gateway else ["0"]  # no gateway: no default route through this router
    argv = ["dnsmasq", "--port=0", "--no-hosts", "--no-resolv", "--conf-file=/dev/null",
            f"--pid-file={directory / 'pid'}", f"--log-facility={directory / 'log'}", "--enable-ra",
            "--bind-interfaces", "--except-interface=lo", "--user=root", "--group=root"]
    for device in sorted({device for device, _, _ in legs}):
        argv += [f"--interface={device}", f"--ra-param={','.join([device, str(INTERVAL), *lifetime])}"]
    for _, network, mode in legs:
        argv.append(f"--dhcp-range={network.network_address},{mode},{network.prefixlen}")
    return argv


class RouterAdvertisements:
    def __init__(self, host: Host):
        self.host = host

    def _dir(self, router_id: str) -> Path:
        return self.host.state_dir / "ra" / router_id

    def sync(self, spec: RouterSpec, devices: dict[str, str]) -> None:
        """Advertise what ``spec`` says (``devices``: port id -> its leg); nothing: stop."""
        legs = advertised(spec, devices)
        if not legs:
            self.stop(spec.id)
            return
        directory = self._dir(spec.id)
        directory.mkdir(parents=True, exist_ok=True)
        argv = command(spec, directory, legs)
        pid, running = self.pid(spec.id), _running(directory)
        if pid is not None and running == [pid] and _cmdline(pid) == argv:
            return
        for other in running:
            _kill(other)
        (directory / "pid").unlink(missing_ok=True)
        self.host.run(*argv, netns=router_namespace(spec.id))  # forks; the daemon writes its pid file
        deadline = time.monotonic() + 3
        while self.pid(spec.id) is None:
            if time.monotonic() > deadline:
                raise NetworkDriverError(action="start dnsmasq", reason=f"no daemon; see {directory / 'log'}")
            time.sleep(0.05)

    def stop(self, router_id: str) -> None:
        """Stop the router's advertisements and remove their files. None: no-op."""
        directory = self._dir(router_id)
        if directory.is_dir():
            for pid in _running(directory):
                _kill(pid)
            shutil.rmtree(directory, ignore_errors=True)

    def pid(self, router_id: str) -> int | None:
        """The router's running dnsmasq, or None."""
        directory = self._dir(router_id)
        text = _read(directory / "pid")
        if not text.isdigit():
            return None
        return int(text) if f"--pid-file={directory / 'pid'}" in _cmdline(int(text)) else None
