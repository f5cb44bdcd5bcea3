"""Compute's side of networking, over the network service's Python interface.

- ``plan`` (API time, before any row is written): the ``networks`` and
  ``security_groups`` of a create request checked and resolved, so a bad request gets
  its 400/409 and leaves nothing behind. Without ``networks`` (or with ``auto``) the
  project's one usable network is picked; none means no NIC, several is a 409.
- ``allocate`` (the conductor, once a host is chosen): ports created (or the given
  ones taken over) for the instance and bound to the host; the VIFs the agent plugs.
- ``deallocate`` (when the server is gone): the ports compute created are deleted, the
  ones the user gave are released for reuse.
- ``addresses``: the ``addresses`` of servers, read live from the ports.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid as uuidlib

from overcast.common.api.context import RequestContext
from overcast.common.errors import NotFound
from overcast.compute import errors

log = logging.getLogger("overcast.compute.network")
ADMIN = RequestContext(user_id="nova", roles=["admin"], request_id="compute-network")


class NetworkApi:
    admin = ADMIN

    def __init__(self, network):
        self.network = network  # NetworkService, or None when the cloud runs without one

    @property
    def enabled(self) -> bool:
        return self.network is not None

    # -- API time ------------------------------------------------------------------------

    def plan(self, ctx, networks, group_names: list[str], count: int) -> tuple[list[dict], list[str]]:
        """(requested NICs as [{network_id, port_id, fixed_ip}], security group ids)."""
        if not self.enabled:
            return [], []
        if networks == "none":
            return [], self._group_ids(ctx, group_names)
        if networks in (None, "auto", []):
            picked = self._only_network(ctx, networks == "auto")
            requested = [{"network_id": picked}] if picked else []
        else:
            requested = [self._check_nic(ctx, nic, count) for nic in networks]
        return requested, self._group_ids(ctx, group_names)

    def _only_network(self, ctx, auto: bool) -> str | None:
        """The project's one usable network (its own or shared, never external). With
        ``auto`` and none, the network service's auto-allocated topology (Nova's 2.37)."""
        usable = [net for net in self.network.networks.list(ctx, {})
                  if (net["project_id"] == ctx.project_id or net["shared"]) and not net["router:external"]]
        if len(usable) > 1:
            raise errors.ComputeConflict("Multiple possible networks found, use a Network ID to be more specific.")
        if usable:
            return usable[0]["id"]
        if not auto:
            return None
        try:
            return self.network.auto_allocate.get(ctx, ctx.project_id)["id"]
        except Exception as error:
            log.warning("auto-allocating a network for %s failed: %s", ctx.project_id, error)
            raise errors.ComputeInvalid("Unable to automatically allocate a network for project "
                                        f"{ctx.project_id}") from None

    def _check_nic(self, ctx, nic, count: int) -> dict:
        if not isinstance(nic, dict):
            raise errors.ComputeInvalid(f"Invalid input for field/attribute networks. Value: {nic}.")
        port_id, network_id, fixed_ip = nic.get("port"), nic.get("uuid"), nic.get("fixed_ip")
        if port_id:
            if count > 1:
                raise errors.ComputeInvalid("Unable to launch multiple instances with a single configured port ID. "
                                            "Please launch your instance one by one with different ports.")
            try:
                port = self.network.ports.get(ctx, port_id)
            except NotFound:
                raise errors.ComputeInvalid(f"Port {port_id} could not be found.") from None
            if port.get("device_id"):
                raise errors.ComputeConflict(f"Port {port_id} is still in use.")
            return {"port_id": port_id, "network_id": port["network_id"]}
        if not network_id:
            raise errors.ComputeInvalid("Bad networks format: network uuid is not in proper format ()")
        try:
            uuidlib.UUID(str(network_id))
            network = self.network.networks.get(ctx, network_id)
        except (ValueError, NotFound):
            raise errors.ComputeInvalid(f"Network {network_id} could not be found.") from None
        if network["router:external"] and not network["shared"] and not ctx.is_admin:
            raise errors.ComputeForbidden(f"It is not allowed to create an interface on external network "
                                          f"{network_id}")
        if fixed_ip is not None:
            try:
                fixed_ip = str(ipaddress.ip_address(fixed_ip))
            except ValueError:
                raise errors.ComputeInvalid(f"Invalid fixed IP address ({fixed_ip})") from None
            if count > 1:
                raise errors.ComputeInvalid("max_count cannot be greater than 1 if an fixed_ip is specified.")
        return {"network_id": network_id, **({"fixed_ip": fixed_ip} if fixed_ip else {})}

    def _group_ids(self, ctx, names: list[str]) -> list[str]:
        groups = self.network.security_groups.list(ctx, {})
        own = [group for group in groups if group["project_id"] == ctx.project_id]
        ids = []
        for name in names:
            match = [g for g in own if g["name"] == name] or [g for g in groups if g["id"] == name]
            if not match and name == "default":
                from overcast.network.service.default_groups import ensure_default

                ids.append(ensure_default(self.network.db, ctx.project_id))
                continue
            if not match:
                raise errors.ComputeInvalid(f"Security group {name} not found for project {ctx.project_id}.")
            if len(match) > 1:
                raise errors.ComputeConflict(f"Multiple security groups found matching '{name}'. Use an ID to "
                                             "be more specific.")
            ids.append(match[0]["id"])
        return list(dict.fromkeys(ids))

    # -- conductor time ---------------------------------------------------------------------

    def allocate(self, row, host: str) -> list[dict]:
        """Ports for ``row`` bound to ``host``; the VIFs, in request order. All or nothing."""
        return self._allocate(row, (row.system_metadata or {}).get("network_plan") or {}, host)

    def _allocate(self, row, plan: dict, host: str) -> list[dict]:
        made, taken, vifs = [], [], []
        owner = f"compute:{row.availability_zone or 'nova'}"
        try:
            for nic in plan.get("nics", []):
                if nic.get("port_id"):
                    port = self.network.ports.update(ADMIN, nic["port_id"], {"device_id": row.uuid,
                                                                            "device_owner": owner})
                    taken.append(port["id"])
                else:
                    values = {"network_id": nic["network_id"], "project_id": row.project_id, "device_id": row.uuid,
                              "device_owner": owner}
                    network = self.network.networks.get(ADMIN, nic["network_id"])
                    if network["port_security_enabled"]:
                        values["security_groups"] = plan.get("security_groups", [])
                    if nic.get("fixed_ip"):
                        values["fixed_ips"] = [{"ip_address": nic["fixed_ip"]}]
                    (port,) = self.network.ports.create(ADMIN, [values])
                    made.append(port["id"])
                port = self.network.ports.bind(port["id"], host)
                vifs.append(self.vif(port))
        except Exception:
            self._release(made, taken)
            raise
        return vifs

    def attach(self, ctx, row, host: str, network_id: str | None, port_id: str | None,
               fixed_ips: list | None) -> tuple[dict, bool]:
        """A port for an interface hot-plug, bound to ``host``: (port, made by compute)."""
        if port_id:
            nic = self._check_nic(ctx, {"port": port_id}, 1)
        elif network_id:
            nic = self._check_nic(ctx, {"uuid": network_id, "fixed_ip": (fixed_ips or [{}])[0].get("ip_address")}, 1)
        else:
            picked = self._only_network(ctx, auto=True)
            nic = {"network_id": picked}
        groups = self._group_ids(ctx, ["default"]) if not port_id else []
        (vif,) = self._allocate(row, {"nics": [nic], "security_groups": groups}, host)
        return self.network.ports.get(ADMIN, vif["id"]), not port_id

    def detach(self, row, port_id: str, made: bool) -> None:
        """Free a detached interface's port: deleted if compute made it, else released."""
        self._release([port_id] if made else [], [] if made else [port_id])

    def vif(self, port: dict) -> dict:
        network = self.network.networks.get(ADMIN, port["network_id"])
        return {"id": port["id"], "mac": port["mac_address"], "network_id": port["network_id"],
                "mtu": network["mtu"], "fixed_ips": port.get("fixed_ips", [])}

    def vifs(self, uuid: str) -> list[dict]:
        """The VIFs of an instance's ports (for rebuilds and restarts)."""
        if not self.enabled:
            return []
        return [self.vif(port) for port in self.network.ports.list_by_device(uuid)]

    def _release(self, made: list[str], taken: list[str]) -> None:
        for port_id in made:
            try:
                self.network.ports.delete(ADMIN, port_id)
            except NotFound:
                pass
        for port_id in taken:
            try:
                self.network.ports.update(ADMIN, port_id, {"device_id": "", "device_owner": "",
                                                           "binding:host_id": ""})
            except NotFound:
                pass

    def deallocate(self, row) -> None:
        """Free the ports of a deleted server (safe to repeat)."""
        if not self.enabled:
            return
        mine = set((row.system_metadata or {}).get("network_plan", {}).get("given_ports", []))
        ports = self.network.ports.list_by_device(row.uuid)
        self._release([p["id"] for p in ports if p["id"] not in mine], [p["id"] for p in ports if p["id"] in mine])

    # -- reads -----------------------------------------------------------------------------------

    def servers_with_ip(self, regex: str, version: int | None) -> set[str]:
        if not self.enabled:
            return set()
        try:
            pattern = re.compile(regex)
        except re.error:
            pattern = re.compile(re.escape(regex))
        return self.network.devices_with_address(pattern, version)

    def addresses(self, uuids: list[str]) -> dict[str, dict]:
        if not self.enabled or not uuids:
            return {}
        return self.network.instance_addresses(uuids)
