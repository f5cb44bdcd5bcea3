"""DHCP: a ``qdhcp-<network>`` namespace and one dnsmasq per network.

The namespace holds the DHCP port's leg (``ns-<port>``, its other end on the network's
bridge) with the port's fixed IPs and ``169.254.169.254/32``, where the metadata proxy of
this namespace listens (:mod:`.metadata`). dnsmasq runs there as a daemon with a pid
file, so it outlives the agent; it is in *static* mode: only the reservations of the
network's ports (by MAC, hostname ``host-<ip with dashes>``) get addresses. Per subnet
it sends the router (none without a gateway), DNS servers (the subnet's, else itself,
answering the instances' names in the network's ``dns_domain``), the MTU (option 26) and
classless static routes (option 121, and 249 for Windows) holding the subnet's host
routes, the metadata route via the DHCP port, and the default route (a client that gets
option 121 ignores option 3). IPv6 subnets are served stateful DHCPv6 (addresses by
MAC); the router advertisements that send clients to it are the router's business.
Names outside ``dns_domain`` are not resolved when a subnet gives no DNS servers (the
namespace has no way out to an upstream resolver).

The files of a network live in ``STATE/dhcp/<network id>/``: ``hosts``, ``opts`` and
``names`` (reread by dnsmasq on SIGHUP, so reservation and option changes reload without a
restart), ``leases``, ``pid``, ``log`` and ``port`` (the DHCP port's id, to unplug its
leg). A change of the command line (subnets, domain) or of the leg's addresses restarts
dnsmasq; a dnsmasq found dead is started again. Which networks are served is what that
directory holds: namespaces of other clouds on the machine are never looked at.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import time
from pathlib import Path

from overcast.network.drivers.base import DhcpSpec, SubnetSpec, address_within
from overcast.network.drivers.errors import NetworkDriverError

from .bridges import Bridges
from .host import METADATA_IP, Host, dhcp_namespace, inner_name

LEASE_SECONDS = 86400  # Neutron's dhcp_lease_duration


def hostname(ip: str) -> str:
    return "host-" + ip.replace(".", "-").replace(":", "-")


def domain(spec: DhcpSpec) -> str:
    """The network's DNS domain without Neutron's trailing dot (``example.org.``)."""
    return spec.dns_domain.strip(".") or "openstacklocal"


def _tag(subnet: SubnetSpec) -> str:
    return f"subnet-{subnet.id}"


def served_subnets(spec: DhcpSpec) -> list[SubnetSpec]:
    """The DHCP-enabled subnets on which the DHCP port has an address (nothing else can be served)."""
    return [subnet for subnet in spec.subnets if subnet.enable_dhcp and server_ip(spec, subnet)]


def server_ip(spec: DhcpSpec, subnet: SubnetSpec) -> str | None:
    """The DHCP port's address on ``subnet``."""
    network = ipaddress.ip_network(subnet.cidr, strict=False)
    for ip in spec.dhcp_port.fixed_ips if spec.dhcp_port else []:
        if ip.get("subnet_id") == subnet.id or (ip.get("ip_address")
                                                and ipaddress.ip_address(ip["ip_address"]) in network):
            return ip["ip_address"]
    return None


def addresses(spec: DhcpSpec) -> list[str]:
    """What the leg carries: the DHCP port's addresses with their prefix, and the metadata address."""
    out = [f"{server_ip(spec, subnet)}/{ipaddress.ip_network(subnet.cidr, strict=False).prefixlen}"
           for subnet in served_subnets(spec)]
    return sorted(set(out)) + [f"{METADATA_IP}/32"]


def command(spec: DhcpSpec, directory: Path, device: str) -> list[str]:
    """dnsmasq's command line: what only a restart changes (interface, ranges, domain)."""
    argv = ["dnsmasq", "--no-hosts", "--no-resolv", "--conf-file=/dev/null", "--strict-order",
            f"--pid-file={directory / 'pid'}", f"--dhcp-hostsfile={directory / 'hosts'}",
            f"--dhcp-optsfile={directory / 'opts'}", f"--addn-hosts={directory / 'names'}",
            f"--dhcp-leasefile={directory / 'leases'}", f"--log-facility={directory / 'log'}", "--log-dhcp",
            f"--interface={device}", "--except-interface=lo", "--bind-interfaces",
            # root keeps reading the files on SIGHUP wherever the state directory is (dnsmasq drops to nobody)
            "--user=root", "--group=root", f"--domain={domain(spec)}", f"--local=/{domain(spec)}/",
            "--dhcp-lease-max=16777216"]
    for subnet in served_subnets(spec):
        network = ipaddress.ip_network(subnet.cidr, strict=False)
        if network.version == 4:
            argv.append(f"--dhcp-range=set:{_tag(subnet)},{network.network_address},static,"
                        f"{network.netmask},{LEASE_SECONDS}s")
        else:
            argv.append(f"--dhcp-range=set:{_tag(subnet)},{network.network_address},static,"
                        f"{network.prefixlen},{LEASE_SECONDS}s")
    return argv


def hosts_file(spec: DhcpSpec) -> str:
    """One reservation a line: ``mac,name,ip`` (``[ip]`` for IPv6), for addresses of served subnets only."""
    cidrs = tuple(subnet.cidr for subnet in served_subnets(spec))
    lines = []
    for host in spec.hosts:
        if not address_within(host.ip_address, cidrs):
            continue
        shown = f"[{host.ip_address}]" if ":" in host.ip_address else host.ip_address
        lines.append(f"{host.mac},{host.hostname or hostname(host.ip_address)},{shown}")
    return "".join(f"{line}\n" for line in sorted(set(lines)))


def names_file(spec: DhcpSpec) -> str:
    """The instances' names for DNS (``ip name.domain name``), as a hosts file."""
    cidrs = tuple(subnet.cidr for subnet in served_subnets(spec))
    lines = set()
    for host in spec.hosts:
        if address_within(host.ip_address, cidrs):
            name = host.hostname or hostname(host.ip_address)
            lines.add(f"{host.ip_address} {name}.{domain(spec)} {name}")
    return "".join(f"{line}\n" for line in sorted(lines))


def opts_file(spec: DhcpSpec) -> str:
    """The options of each served subnet, tagged by subnet."""
    lines = []
    for subnet in served_subnets(spec):
        tag, own = _tag(subnet), server_ip(spec, subnet)
        if ipaddress.ip_network(subnet.cidr, strict=False).version == 6:
            dns = ",".join(f"[{server}]" for server in subnet.dns_nameservers) or f"[{own}]"
            lines.append(f"tag:{tag},option6:dns-server,{dns}")
            continue
        lines.append(f"tag:{tag},option:router" + (f",{subnet.gateway_ip}" if subnet.gateway_ip else ""))
        lines.append(f"tag:{tag},option:dns-server,{','.join(subnet.dns_nameservers or [own])}")
        lines.append(f"tag:{tag},option:mtu,{spec.segment.mtu}")
        routes = [(METADATA_IP + "/32", own)]
        routes += [(route["destination"], route["nexthop"]) for route in subnet.host_routes
                   if route["destination"] != METADATA_IP + "/32"]
        if subnet.gateway_ip and not any(ipaddress.ip_network(dest).prefixlen == 0 for dest, _ in routes):
            routes.append(("0.0.0.0/0", subnet.gateway_ip))
        flat = ",".join(f"{dest},{hop}" for dest, hop in routes)
        lines.append(f"tag:{tag},option:classless-static-route,{flat}")
        lines.append(f"tag:{tag},249,{flat}")
    return "".join(f"{line}\n" for line in lines)


class Dhcp:
    def __init__(self, host: Host, bridges: Bridges):
        self.host = host
        self.bridges = bridges

    @property
    def _root(self) -> Path:
        return self.host.state_dir / "dhcp"

    def _dir(self, network_id: str) -> Path:
        return self._root / network_id

    # -- the contract ------------------------------------------------------------------

    def sync(self, spec: DhcpSpec) -> None:
        """Serve the network as ``spec`` says (nothing to serve: as ``remove``). A failure
        on a network not served before leaves nothing behind."""
        network_id = spec.segment.network_id
        if not served_subnets(spec):
            self.remove(network_id)
            return
        fresh = not self._dir(network_id).exists()
        try:
            self._sync(spec)
        except Exception:
            if fresh:
                self.remove(network_id)
            raise

    def remove(self, network_id: str) -> None:
        """Stop dnsmasq, unplug the leg, delete the namespace and the files. Not served: no-op."""
        directory = self._dir(network_id)
        for pid in _running(directory):
            _kill(pid)
        namespace = dhcp_namespace(network_id)
        legs = {_read(directory / "port")} - {""}
        if namespace in self.host.namespaces():  # and any other leg found in it (its port file lost, say)
            inner = {link["ifname"] for link in self.host.links(namespace)}
            legs |= {port_id for port_id in self.bridges.legs() if inner_name("ns", port_id) in inner}
        for port_id in sorted(legs):
            self.bridges.unplug_leg(port_id)
        self.host.remove_namespace(namespace)
        shutil.rmtree(directory, ignore_errors=True)

    def list(self) -> list[str]:
        return sorted(entry.name for entry in self._root.iterdir()) if self._root.is_dir() else []

    def pid(self, network_id: str) -> int | None:
        """The network's running dnsmasq, or None."""
        return self._pid(self._dir(network_id))

    # -- the work ---------------------------------------------------------------------------

    def _sync(self, spec: DhcpSpec) -> None:
        network_id, port = spec.segment.network_id, spec.dhcp_port
        directory = self._dir(network_id)
        directory.mkdir(parents=True, exist_ok=True)
        namespace = dhcp_namespace(network_id)
        old_port = _read(directory / "port")
        if old_port and old_port != port.id:
            self.bridges.unplug_leg(old_port)  # the network has a new DHCP port
        _write(directory / "port", port.id)
        self.host.add_namespace(namespace)
        device = self.bridges.plug_leg(port.id, "ns", namespace, port.mac, spec.segment)
        readdressed = self._address(namespace, device, addresses(spec))
        changed = [name for name, text in (("hosts", hosts_file(spec)), ("opts", opts_file(spec)),
                                           ("names", names_file(spec))) if _write(directory / name, text)]
        argv = command(spec, directory, device)
        pid = self._pid(directory)
        running = _running(directory)  # more than the pid file's one: a pid file lost, say
        if pid is None or readdressed or running != [pid] or _cmdline(pid) != argv:
            before = _cmdline(pid) if pid else []
            for other in running:
                _kill(other)
            try:
                self._start(namespace, directory, argv)
            except NetworkDriverError:
                if before:  # keep serving as before (with the new reservations) rather than not at all
                    try:
                        self._start(namespace, directory, before)
                    except NetworkDriverError:
                        pass
                raise
        elif changed:
            os.kill(pid, signal.SIGHUP)

    def _address(self, namespace: str, device: str, wanted: list[str]) -> bool:
        """Give the leg exactly ``wanted`` (global and metadata addresses; IPv6 link-local
        stays). Whether anything changed."""
        shown = json.loads(self.host.run("ip", "-j", "addr", "show", "dev", device, netns=namespace) or "[]")
        have = {f"{info['local']}/{info['prefixlen']}" for link in shown for info in link.get("addr_info", [])
                if not (info.get("family") == "inet6" and info.get("scope") == "link")}
        for address in sorted(have - set(wanted)):
            self.host.run("ip", "addr", "del", address, "dev", device, netns=namespace)
        for address in wanted:
            if address not in have:
                extra = ["nodad"] if ":" in address else []
                self.host.run("ip", "addr", "add", address, "dev", device, *extra, netns=namespace)
        return have != set(wanted)

    def _start(self, namespace: str, directory: Path, argv: list[str]) -> None:
        (directory / "pid").unlink(missing_ok=True)
        self.host.run(*argv, netns=namespace)  # dnsmasq forks, and its first process exits once the daemon runs
        deadline = time.monotonic() + 3
        while self._pid(directory) is None:
            if time.monotonic() > deadline:
                raise NetworkDriverError(action="start dnsmasq", reason=f"no daemon; see {directory / 'log'}")
            time.sleep(0.05)

    @staticmethod
    def _pid(directory: Path) -> int | None:
        """The pid in the directory's pid file, if that process is alive and is this directory's dnsmasq."""
        text = _read(directory / "pid")
        if not text.isdigit():
            return None
        argv = _cmdline(int(text))
        return int(text) if f"--pid-file={directory / 'pid'}" in argv else None


def _running(directory: Path) -> list[int]:
    """Every live dnsmasq of ``directory`` (found by its pid file argument in /proc)."""
    mark, found = f"--pid-file={directory / 'pid'}", []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and mark.encode() in Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0"):
                found.append(int(entry))
        except OSError:
            continue  # gone meanwhile
    return sorted(pid for pid in found if _cmdline(pid))  # zombies are dead


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z":
            return []  # a zombie: dead
    except OSError:
        return []
    return raw.decode(errors="replace").rstrip("\0").split("\0")


def _kill(pid: int) -> None:
    """SIGTERM, then SIGKILL if it lingers; waits until it is gone."""
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _cmdline(pid):
                return
            time.sleep(0.02)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _write(path: Path, text: str) -> bool:
    """Write ``text`` atomically if it differs; whether it did."""
    try:
        if path.read_text() == text:
            return False
    except OSError:
        pass
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(text)
    os.replace(temp, path)
    return True
