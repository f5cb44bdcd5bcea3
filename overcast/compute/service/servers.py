"""Servers: create (validate, count quota, write rows), read, update and the database side
of delete. Scheduling and the host work happen later, in the conductor and the agent."""

from __future__ import annotations

import dataclasses
import datetime
import re
import secrets
import uuid as uuidlib
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update

from overcast.common.db import utcnow
from overcast.common.errors import NotFound
from overcast.compute import errors, states
from overcast.compute.models import Instance, InstanceAction, InstanceFault, InstanceMetadata, InstanceTag

HOSTNAME_BAD = re.compile(r"[^a-z0-9.-]+")


@dataclass
class BootRequest:
    name: str
    flavor_ref: str
    image_ref: str = ""
    key_name: str | None = None
    networks: list | str | None = None
    security_groups: list[str] = field(default_factory=lambda: ["default"])
    user_data: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    availability_zone: str | None = None
    min_count: int = 1
    max_count: int = 1
    config_drive: bool = False
    tags: list[str] = field(default_factory=list)
    block_devices: list[dict] = field(default_factory=list)
    description: str | None = None
    access_ip_v4: str | None = None
    access_ip_v6: str | None = None
    hostname: str | None = None
    group: str | None = None  # os:scheduler_hints group
    same_host: list[str] = field(default_factory=list)  # os:scheduler_hints same_host (instance uuids)
    different_host: list[str] = field(default_factory=list)  # os:scheduler_hints different_host


def hostname_for(name: str) -> str:
    """A DNS label from a display name, as Nova sanitizes it."""
    label = HOSTNAME_BAD.sub("-", name.lower().replace(" ", "-").replace("_", "-")).strip(".-")[:63]
    return label.rstrip(".-") or "server"


def image_columns(image) -> dict:
    """The instance's ``kernel_id`` and ``ramdisk_id``: the image's properties, as Nova
    keeps them at boot and rebuild ("" without an image or the properties)."""
    props = (getattr(image, "properties", None) or {}) if image is not None else {}
    return {"kernel_id": props.get("kernel_id") or "", "ramdisk_id": props.get("ramdisk_id") or ""}


def flavor_copy(flavor) -> dict:
    return {"flavorid": flavor.flavorid, "name": flavor.name, "memory_mb": flavor.memory_mb, "vcpus": flavor.vcpus,
            "root_gb": flavor.root_gb, "ephemeral_gb": flavor.ephemeral_gb, "swap": flavor.swap,
            "description": flavor.description, "extra_specs": dict(getattr(flavor, "extra_specs", {}) or {})}


class Servers:
    def __init__(self, compute):
        self.compute = compute
        self.db = compute.db

    # -- create ------------------------------------------------------------------

    def flavor_for(self, ctx, ref: str):
        """The flavor a boot or resize names; 400 (not 404) when the caller cannot use it."""
        try:
            return self.compute.flavors.get(ctx, ref)
        except NotFound:
            raise errors.ComputeInvalid(f"Flavor {ref} could not be found.") from None

    def _volume_image(self, ctx, boot: list[dict]):
        """The image a new boot volume is made from (for its kernel and ramdisk), or None."""
        if not boot or boot[0].get("source_type") != "image" or not boot[0].get("uuid"):
            return None
        try:
            return self.compute.image.images.get(ctx, boot[0]["uuid"])
        except NotFound:
            return None

    def image_for(self, ctx, ref: str, flavor):
        """The image a boot or rebuild names, checked against the flavor (400s as Nova)."""
        images = self.compute.image.images
        try:
            image = images.get(ctx, ref)
        except NotFound:
            raise errors.ComputeInvalid(f"Image {ref} could not be found.") from None
        if image.status != "active":
            raise errors.ComputeInvalid(f"Image {ref} is not active.")
        for key in ("kernel_id", "ramdisk_id"):  # an AMI's kernel and ramdisk: the caller must see them too
            boot_image = (image.properties or {}).get(key)
            if boot_image:
                try:
                    images.get(ctx, boot_image)
                except NotFound:
                    raise errors.ComputeInvalid(f"Image {boot_image} could not be found.") from None
        if (image.min_ram or 0) > flavor.memory_mb:
            raise errors.ComputeInvalid("Flavor's memory is too small for requested image.")
        if flavor.root_gb:
            disk = flavor.root_gb << 30
            if (image.min_disk or 0) << 30 > disk:
                raise errors.ComputeInvalid(f"Flavor's disk is too small for requested image. Flavor disk is {disk} "
                                            f"bytes, minimum disk is {(image.min_disk or 0) << 30} bytes.")
            if (image.size or 0) > disk:
                raise errors.ComputeInvalid(f"Flavor's disk is too small for requested image. Flavor disk is {disk} "
                                            f"bytes, image is {image.size} bytes.")
        return image

    def key_for(self, ctx, name: str | None) -> str | None:
        """The public key of the caller's keypair ``name``; 400 when there is none."""
        if name is None:
            return None
        try:
            return self.compute.keypairs.get(ctx.user_id, name).public_key
        except NotFound:
            raise errors.ComputeInvalid("Invalid key_name provided.") from None

    def _zone(self, ctx, zone: str | None) -> tuple[str | None, str | None]:
        """(zone, forced host) from ``zone``, ``zone:host`` or ``zone::node`` (admin)."""
        if not zone:
            return None, None
        name, _, host = zone.partition(":")
        host = host.lstrip(":") or None
        if host and not ctx.is_admin:
            raise errors.ComputeForbidden("Policy doesn't allow os_compute_api:servers:create:forced_host to be "
                                          "performed.")
        if name and name not in self.compute.zones():
            raise errors.ComputeInvalid("The requested availability zone is not available")
        return name or None, host

    def create(self, ctx, req: BootRequest) -> tuple[list[Instance], str]:
        """Validate ``req`` and write the instances (BUILD/scheduling); (rows, reservation id)."""
        flavor = self.flavor_for(ctx, req.flavor_ref)
        image_mappings = self.compute.volume_backed.image_mappings(ctx, req.image_ref, req.block_devices)
        if image_mappings is not None:  # a volume-backed server's image: boot from its volume snapshots
            req = dataclasses.replace(req, image_ref="", block_devices=image_mappings)
        boot = [bdm for bdm in req.block_devices if str(bdm.get("boot_index")) == "0"]
        image_ref = req.image_ref
        if req.block_devices:
            self.compute.volume_attachments.check_boot(ctx, req.block_devices)
        if boot and boot[0].get("source_type") == "image" and boot[0].get("destination_type", "local") == "local":
            image_ref = image_ref or boot[0].get("uuid", "")
        elif boot:  # volume-backed: the instance has no image of its own
            image_ref = None
        if image_ref is not None and not image_ref:
            raise errors.ComputeInvalid("Missing imageRef attribute")
        image = self.image_for(ctx, image_ref, flavor) if image_ref else self._volume_image(ctx, boot)
        image_id = image.id if image_ref else ""
        key_data = self.key_for(ctx, req.key_name)
        zone, force_host = self._zone(ctx, req.availability_zone)
        limits = self.compute.quotas.limits(ctx.project_id)
        if 0 <= limits["metadata_items"] < len(req.metadata):
            raise errors.QuotaExceeded(f"Quota exceeded for metadata_items: Maximum number of metadata items "
                                       f"exceeds {limits['metadata_items']}", over=["metadata_items"])
        count = self._count(ctx, req, flavor)
        nics, group_ids = self.compute.network_api.plan(ctx, req.networks, req.security_groups, count)
        system_metadata = {"force_host": force_host} if force_host else {}
        for hint in ("same_host", "different_host"):  # what the scheduler reads (conductor._place)
            if getattr(req, hint):
                system_metadata[hint] = list(getattr(req, hint))
        if nics:
            system_metadata["network_plan"] = {"nics": nics, "security_groups": group_ids,
                                               "given_ports": [nic["port_id"] for nic in nics if nic.get("port_id")]}
        group_uuid = None
        if req.group:
            group_uuid, _ = self.compute.server_groups.plan(ctx, req.group)
        reservation = "r-" + secrets.token_hex(4)
        now = utcnow()
        rows = []
        with self.db.session() as session:
            for index in range(count):
                name = req.name if count == 1 else f"{req.name}-{index + 1}"
                row = Instance(
                    uuid=str(uuidlib.uuid4()), project_id=ctx.project_id, user_id=ctx.user_id, display_name=name,
                    display_description=req.description, hostname=req.hostname or hostname_for(name),
                    image_ref=image_id, flavor_id=flavor.flavorid, flavor=flavor_copy(flavor),
                    vcpus=flavor.vcpus, memory_mb=flavor.memory_mb, root_gb=flavor.root_gb,
                    ephemeral_gb=flavor.ephemeral_gb, key_name=req.key_name, key_data=key_data,
                    user_data=req.user_data, config_drive=req.config_drive, availability_zone=zone,
                    requested_zone=zone, vm_state=states.BUILDING, task_state="scheduling", power_state=0,
                    access_ip_v4=req.access_ip_v4, access_ip_v6=req.access_ip_v6, reservation_id=reservation,
                    launch_index=index, security_groups=req.security_groups, networks=req.networks,
                    block_devices=req.block_devices, **image_columns(image),
                    system_metadata=system_metadata,
                    created_at=now + datetime.timedelta(microseconds=index), updated_at=now,
                )
                session.add(row)
                session.flush()
                for key, value in req.metadata.items():
                    session.add(InstanceMetadata(instance_uuid=row.uuid, key=key, value=value))
                for tag in dict.fromkeys(req.tags):
                    session.add(InstanceTag(instance_uuid=row.uuid, tag=tag))
                session.add(InstanceAction(instance_uuid=row.uuid, action="create", request_id=ctx.request_id,
                                           user_id=ctx.user_id, project_id=ctx.project_id, start_time=now))
                rows.append(row)
        try:
            self.compute.quotas.check_instances(ctx.project_id, count, flavor.vcpus, flavor.memory_mb, already=True)
            if group_uuid:
                self.compute.server_groups.add_members(group_uuid, [r.uuid for r in rows], ctx.project_id)
        except errors.QuotaExceeded:
            self._purge([r.uuid for r in rows])
            raise
        return rows, reservation

    def _count(self, ctx, req: BootRequest, flavor) -> int:
        """max_count if it fits in the quota, else the most that fits down to min_count."""
        quotas = self.compute.quotas
        try:
            quotas.check_instances(ctx.project_id, req.max_count, flavor.vcpus, flavor.memory_mb)
            return req.max_count
        except errors.QuotaExceeded:
            if req.min_count == req.max_count:
                raise
        limits, used = quotas.limits(ctx.project_id), quotas.usage(ctx.project_id)
        room = req.max_count
        for name, each in (("instances", 1), ("cores", flavor.vcpus), ("ram", flavor.memory_mb)):
            if limits[name] >= 0 and each:
                room = min(room, (limits[name] - used[name]) // each)
        quotas.check_instances(ctx.project_id, max(room, req.min_count), flavor.vcpus, flavor.memory_mb)
        return max(room, req.min_count)

    def _purge(self, uuids: list[str]) -> None:
        with self.db.session() as session:
            for model in (InstanceMetadata, InstanceTag, InstanceAction, InstanceFault):
                session.execute(delete(model).where(model.instance_uuid.in_(uuids)))
            session.execute(delete(Instance).where(Instance.uuid.in_(uuids)))

    # -- read ----------------------------------------------------------------------

    def get(self, ctx, uuid: str, session=None, deleted: bool = False) -> Instance:
        """The server if the caller's project owns it (admin: any); 404 otherwise."""
        query = select(Instance).where(Instance.uuid == uuid)
        if not deleted:
            query = query.where(Instance.deleted.is_(False))
        if not ctx.is_admin:
            query = query.where(Instance.project_id == ctx.project_id)
        row = self.db.first(query, session)
        if row is None:
            raise errors.ServerNotFound(uuid)
        return row

    def show(self, ctx, uuid: str) -> Instance:
        with self.db.session() as session:
            row = self.get(ctx, uuid, session)
            self.load_extras(session, [row])
            return row

    def load_extras(self, session, rows: list[Instance]) -> list[Instance]:
        """Attach ``meta``, ``tags`` and ``fault`` to each row (three queries for any number)."""
        ids = [r.uuid for r in rows]
        meta: dict[str, dict] = {i: {} for i in ids}
        tags: dict[str, list] = {i: [] for i in ids}
        faults: dict[str, InstanceFault] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for iid, key, value in session.execute(select(InstanceMetadata.instance_uuid, InstanceMetadata.key,
                                                          InstanceMetadata.value)
                                                   .where(InstanceMetadata.instance_uuid.in_(chunk))):
                meta[iid][key] = value
            for iid, tag in session.execute(select(InstanceTag.instance_uuid, InstanceTag.tag)
                                            .where(InstanceTag.instance_uuid.in_(chunk))):
                tags[iid].append(tag)
            erred = [r.uuid for r in rows[start:start + 500] if r.vm_state in (states.ERROR, states.DELETED)]
            if erred:
                for fault in session.scalars(select(InstanceFault).where(InstanceFault.instance_uuid.in_(erred))
                                             .order_by(InstanceFault.id)):
                    faults[fault.instance_uuid] = fault
        addresses = self.compute.network_api.addresses(ids)
        for row in rows:
            row.meta, row.tag_list, row.fault = meta[row.uuid], sorted(tags[row.uuid]), faults.get(row.uuid)
            row.net_addresses = addresses.get(row.uuid, {})
        self.compute.volume_attachments.annotate(rows)
        return rows

    # -- update ----------------------------------------------------------------------

    def update(self, ctx, uuid: str, values: dict) -> Instance:
        """name, description, accessIPv4/6 and hostname (2.90)."""
        with self.db.session() as session:
            row = self.get(ctx, uuid, session)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            session.flush()
            self.load_extras(session, [row])
            return row

    # -- delete (the database side) -----------------------------------------------------

    def mark_deleted(self, uuid: str) -> Instance | None:
        """Finish a delete: the row is marked deleted, its claims and group membership go.
        Returns the row, or None if it was already gone (safe to repeat)."""
        now = utcnow()
        with self.db.session() as session:
            gone = session.get(Instance, uuid)
        if gone is not None and not gone.deleted:  # its ports go first: once the server is 404, they are free
            self.compute.network_api.deallocate(gone)
        with self.db.session() as session:
            done = session.execute(
                update(Instance).where(Instance.uuid == uuid, Instance.deleted.is_(False))
                .values(deleted=True, deleted_at=now, terminated_at=now, updated_at=now, vm_state=states.DELETED,
                        task_state=None, power_state=0)
                .execution_options(synchronize_session=False)
            )
            row = session.get(Instance, uuid) if done.rowcount == 1 else None
        if row is not None:
            # again, now that the row says deleted: a port the conductor made in between is
            # either seen here or made late enough that the conductor sees the delete and frees it
            self.compute.network_api.deallocate(row)
            self.compute.scheduler.release(uuid)
            self.compute.scheduler.release(f"resize-{uuid}")
            self.compute.server_groups.remove_member(uuid)
            self.compute.volume_attachments.server_gone(uuid)
        return row

    def is_deleted(self, uuid: str) -> bool:
        with self.db.session() as session:
            row = session.get(Instance, uuid)
            return row is None or bool(row.deleted)

    def list(self, query) -> list[Instance]:
        """Servers matching a server_list.ListQuery, with their extras loaded."""
        from overcast.compute.service import server_list

        for key, version in (("ip", 4), ("ip6", 6)):
            if key in query.filters:
                found = self.compute.network_api.servers_with_ip(query.filters[key], version)
                query.filters["uuids"] = found & query.filters["uuids"] if "uuids" in query.filters else found
        with self.db.session() as session:
            rows = server_list.run(session, query)
            return self.load_extras(session, rows)

    def groups_of(self, uuid: str) -> list[str]:
        group = self.compute.server_groups.group_of(uuid)
        return [group] if group else []
