"""Image records: create, list with Glance's filters and sorting, show, JSON-patch, delete.

Visibility decides who sees an image: public and community images are seen by all (a
community image is listed only to its owner unless asked for), private ones by their
owner, shared ones by their owner and member projects. Admins see everything. An image
the caller may not see is reported missing (404), never forbidden.
"""

from __future__ import annotations

import datetime
import logging
import re
import uuid

from sqlalchemy import and_, delete, exists, func, or_, select

from overcast.common.db import utcnow
from overcast.common.errors import Forbidden, NotFound
from overcast.image import errors
from overcast.image.models import Image, ImageMember, ImageProperty, ImageTag
from overcast.image.schemas import (
    CONTAINER_FORMATS, CREATE_FORBIDDEN, DISK_FORMATS, MUTABLE_CORE, READ_ONLY, SORT_KEYS, UUID_PATTERN, is_reserved,
)
from overcast.volume.key_manager.base import IMAGE_KEY, IMAGE_KEY_POLICY, ON_IMAGE_DELETION

log = logging.getLogger("overcast.image.images")

VISIBILITIES = ("public", "private", "shared", "community")
INT_FIELDS = ("min_ram", "min_disk")
SETTABLE = set(MUTABLE_CORE)  # core attributes a create or a patch may set
INT_COLUMN_FILTERS = {"size", "min_ram", "min_disk", "virtual_size"}  # exact-match filters on columns
TEXT_COLUMN_FILTERS = {"checksum", "os_hash_value"}
UUID_PROPERTIES = ("kernel_id", "ramdisk_id")  # the AMI trio: an ami names its aki and ari images
MAX_TAGS = 128
MAX_PROPERTIES = 128


def _check_field(name: str, value) -> None:
    if name == "name" and value is not None and (not isinstance(value, str) or len(value) > 255):
        raise errors.ImageInvalid(f"Invalid value for name: {value!r}")
    if name == "visibility" and value not in VISIBILITIES:
        raise errors.ImageInvalid(f"Invalid visibility value: {value}")
    if name in ("protected", "os_hidden") and not isinstance(value, bool):
        raise errors.ImageInvalid(f"Invalid value for {name}: {value!r} is not a boolean")
    if name in INT_FIELDS and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise errors.ImageInvalid(f"Invalid value for {name}: {value!r} is not a non-negative integer")
    if name == "disk_format" and value is not None and value not in DISK_FORMATS:
        raise errors.ImageInvalid(f"Invalid disk format '{value}' for image.")
    if name == "container_format" and value is not None and value not in CONTAINER_FORMATS:
        raise errors.ImageInvalid(f"Invalid container format '{value}' for image.")
    if name == "tags":
        if not isinstance(value, list) or len(value) > MAX_TAGS:
            raise errors.ImageInvalid(f"Invalid tags: at most {MAX_TAGS} strings")
        for tag in value:
            if not isinstance(tag, str) or not 1 <= len(tag) <= 255:
                raise errors.ImageInvalid(f"Invalid tag: {tag!r}")


def _check_property(name: str, value) -> None:
    if is_reserved(name):
        raise errors.ReservedProperty(name)
    if name in READ_ONLY:
        raise errors.ImageForbidden(f"Attribute '{name}' is read-only.")
    if not isinstance(value, str) or len(name) > 255 or len(value) > 65535:
        raise errors.ImageInvalid(f"Invalid value for property {name}: custom properties are strings")
    if name in UUID_PROPERTIES and not re.fullmatch(UUID_PATTERN, value):
        raise errors.ImageInvalid(f"Invalid value for property {name}: {value!r} is not an image id")


class Images:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    # visibility

    def visible_clause(self, ctx):
        """SQL condition for images the caller may see by id (members see pending shares too)."""
        if ctx.is_admin:
            return None
        project = ctx.project_id
        member = exists().where(ImageMember.image_id == Image.id, ImageMember.member == project)
        return or_(Image.owner == project, Image.visibility.in_(("public", "community")),
                   and_(Image.visibility == "shared", member))

    def get(self, ctx, image_id: str, session=None) -> Image:
        """The image if the caller may see it; ImageNotFound otherwise."""
        query = select(Image).where(Image.id == image_id)
        clause = self.visible_clause(ctx)
        if clause is not None:
            query = query.where(clause)
        if session is not None:
            row = session.scalars(query).first()
        else:
            with self.db.session() as own:
                row = own.scalars(query).first()
                if row is not None:
                    self.load_extras(own, [row])
        if row is None:
            raise errors.ImageNotFound(image_id)
        return row

    def load_extras(self, session, rows: list[Image]) -> list[Image]:
        """Attach ``tags`` and ``properties`` to each row (two queries for any number of rows)."""
        ids = [row.id for row in rows]
        tags: dict[str, list] = {i: [] for i in ids}
        props: dict[str, dict] = {i: {} for i in ids}
        if ids:
            for image_id, value in session.execute(select(ImageTag.image_id, ImageTag.value)
                                                   .where(ImageTag.image_id.in_(ids))):
                tags[image_id].append(value)
            for image_id, name, value in session.execute(
                select(ImageProperty.image_id, ImageProperty.name, ImageProperty.value)
                .where(ImageProperty.image_id.in_(ids))
            ):
                props[image_id][name] = value
        for row in rows:
            row.tags, row.properties = sorted(tags[row.id]), props[row.id]
        return rows

    def owned_for_update(self, ctx, image_id: str, session) -> Image:
        """The image, visible and writable by the caller (owner or admin); 403 for members."""
        row = self.get(ctx, image_id, session)
        if not ctx.is_admin and row.owner != ctx.project_id:
            raise errors.ImageForbidden("You are not permitted to modify this image.")
        return row

    # create

    def create(self, ctx, fields: dict) -> Image:
        fields = dict(fields)
        image_id = fields.pop("id", None) or str(uuid.uuid4())
        try:
            image_id = str(uuid.UUID(str(image_id)))
        except ValueError:
            raise errors.ImageInvalid(f"Invalid id: {image_id!r} is not a UUID") from None
        owner = fields.pop("owner", None) or ctx.project_id
        if owner != ctx.project_id and not ctx.is_admin:
            raise errors.ImageForbidden("You are not permitted to create images owned by another project.")
        for name in fields:
            if name in CREATE_FORBIDDEN:
                raise errors.ImageForbidden(f"Attribute '{name}' is read-only.")
        tags = fields.pop("tags", [])
        properties = {k: v for k, v in fields.items() if k not in SETTABLE}
        core = {k: v for k, v in fields.items() if k in SETTABLE and k != "tags"}
        for name, value in {**core, "tags": tags}.items():
            _check_field(name, value)
        for name, value in properties.items():
            _check_property(name, value)
        if len(properties) > MAX_PROPERTIES:
            raise errors.ImageOverLimit(f"Maximum number of properties ({MAX_PROPERTIES}) exceeded")
        core.setdefault("visibility", "shared")
        now = utcnow()
        with self.db.session() as session:
            if session.get(Image, image_id) is not None:
                raise errors.ImageConflict(f"Image with identifier {image_id} already exists!")
            self.service.quotas.check_count(session, owner)
            row = Image(id=image_id, owner=owner, status="queued", created_at=now, updated_at=now, **core)
            session.add(row)
            session.flush()
            for tag in dict.fromkeys(tags):
                session.add(ImageTag(image_id=image_id, value=tag))
            for name, value in properties.items():
                session.add(ImageProperty(image_id=image_id, name=name, value=value))
            session.flush()
            self.load_extras(session, [row])
            return row

    # list

    def list(self, ctx, filters: dict, sort: list[tuple[str, str]], limit: int, marker: str | None) -> list[Image]:
        """One page of images, Glance's default visibility rules and filters applied."""
        query = select(Image).where(Image.status != "killed")
        project = ctx.project_id
        visibility = filters.get("visibility")
        member_status = filters.get("member_status", "accepted")
        if visibility not in (None, "all") and visibility not in VISIBILITIES:
            raise errors.ImageInvalid(f"Invalid visibility value: {visibility}")
        if visibility not in (None, "all"):
            query = query.where(Image.visibility == visibility)
        elif visibility is None:  # others' community images only when asked for, even for admins
            query = query.where(or_(Image.visibility != "community", Image.owner == project))
        if not ctx.is_admin:
            members = select(ImageMember.image_id).where(ImageMember.member == project)
            if member_status != "all":
                members = members.where(ImageMember.status == member_status)
            query = query.where(or_(
                Image.owner == project,
                Image.visibility.in_(("public", "community")),
                and_(Image.visibility == "shared", Image.id.in_(members)),
            ))
        if filters.get("os_hidden") is None:
            query = query.where(Image.os_hidden.is_(False))  # hidden images only when asked for
        for key in ("status", "owner", "disk_format", "container_format", "name", "id"):
            value = filters.get(key)
            if value is None:
                continue
            if isinstance(value, str) and value.startswith("in:"):
                query = query.where(getattr(Image, key).in_([v for v in value[3:].split(",") if v]))
            else:
                query = query.where(getattr(Image, key) == value)
        if filters.get("protected") is not None:
            query = query.where(Image.protected.is_(filters["protected"]))
        if filters.get("os_hidden") is not None:
            query = query.where(Image.os_hidden.is_(filters["os_hidden"]))
        if filters.get("size_min") is not None:
            query = query.where(Image.size >= filters["size_min"])
        if filters.get("size_max") is not None:
            query = query.where(Image.size <= filters["size_max"])
        for column in ("created_at", "updated_at"):
            if filters.get(column):
                query = query.where(_time_filter(getattr(Image, column), filters[column]))
        for tag in filters.get("tags", []):
            query = query.where(exists().where(ImageTag.image_id == Image.id, ImageTag.value == tag))
        for name, value in filters.get("columns", {}).items():
            query = query.where(getattr(Image, name) == value)
        for name, value in filters.get("properties", {}).items():
            query = query.where(exists().where(ImageProperty.image_id == Image.id, ImageProperty.name == name,
                                               ImageProperty.value == value))
        with self.db.session() as session:
            if marker:
                try:
                    anchor = self.get(ctx, marker, session)
                except errors.ImageNotFound:
                    raise errors.ImageInvalid(f"Invalid marker: image {marker} could not be found.") from None
                query = query.where(_after(anchor, sort))
            for key, direction in sort:  # NULLs first going up, last going down, on every backend
                column = getattr(Image, key)
                if direction == "asc":
                    query = query.order_by(column.is_(None).desc(), column.asc())
                else:
                    query = query.order_by(column.is_(None).asc(), column.desc())
            rows = list(session.scalars(query.limit(limit)))
            return self.load_extras(session, rows)

    # update (JSON patch)

    def update(self, ctx, image_id: str, changes: list[tuple[str, str, object]]) -> Image:
        """Apply (op, attribute, value) changes from a JSON patch, all or nothing.

        Ops are add, replace, remove, and ``add-new`` (the v2.0 patch's add, which fails
        with 409 when the attribute exists).
        """
        with self.db.session() as session:
            row = self.owned_for_update(ctx, image_id, session)
            self.load_extras(session, [row])
            tags, properties = list(row.tags), dict(row.properties)
            for op, name, value in changes:
                if name in READ_ONLY:
                    raise errors.ImageForbidden(f"Attribute '{name}' is read-only.")
                if is_reserved(name):
                    raise errors.ReservedProperty(name)
                if op == "add-new" and (name in SETTABLE or name in properties):
                    raise errors.ImageConflict(f"Property {name} already present.")
                op = "add" if op == "add-new" else op
                if name == "owner":
                    if op == "remove" or not ctx.is_admin:
                        raise errors.ImageForbidden("Only an administrator may change the owner of an image.")
                    if not isinstance(value, str) or not value:
                        raise errors.ImageInvalid("Invalid owner: a project id is required")
                    row.owner = value
                elif name == "tags":
                    if op == "remove":
                        raise errors.ImageForbidden("Attribute 'tags' cannot be removed, replace it instead.")
                    _check_field("tags", value)
                    tags = list(dict.fromkeys(value))
                elif name in SETTABLE:
                    if op == "remove":
                        raise errors.ImageForbidden(f"Attribute '{name}' is required and cannot be removed.")
                    _check_field(name, value)
                    if name in ("disk_format", "container_format") and row.status != "queued" \
                            and getattr(row, name) != value:
                        raise errors.ImageForbidden(f"Attribute {name} can be only replaced for a queued image.")
                    setattr(row, name, value)
                elif op == "remove":
                    if name not in properties:
                        raise errors.ImageConflict(f"Property {name} does not exist.")
                    del properties[name]
                else:
                    if op == "replace" and name not in properties:
                        raise errors.ImageConflict(f"Property {name} does not exist.")
                    if op == "add" and name in properties:
                        op = "replace"
                    _check_property(name, value)
                    properties[name] = value
            if len(properties) > MAX_PROPERTIES:
                raise errors.ImageOverLimit(f"Maximum number of properties ({MAX_PROPERTIES}) exceeded")
            row.updated_at = utcnow()
            session.execute(delete(ImageTag).where(ImageTag.image_id == image_id))
            session.execute(delete(ImageProperty).where(ImageProperty.image_id == image_id))
            session.flush()
            for tag in tags:
                session.add(ImageTag(image_id=image_id, value=tag))
            for name, value in properties.items():
                session.add(ImageProperty(image_id=image_id, name=name, value=value))
            session.flush()
            self.load_extras(session, [row])
            return row

    def add_tag(self, ctx, image_id: str, tag: str) -> None:
        _check_field("tags", [tag])
        with self.db.session() as session:
            row = self.owned_for_update(ctx, image_id, session)
            if session.get(ImageTag, (image_id, tag)) is None:
                count = session.scalar(select(func.count()).select_from(ImageTag).where(ImageTag.image_id == image_id))
                if count >= MAX_TAGS:
                    raise errors.ImageOverLimit(f"Maximum number of tags ({MAX_TAGS}) exceeded")
                session.add(ImageTag(image_id=image_id, value=tag))
                row.updated_at = utcnow()

    def remove_tag(self, ctx, image_id: str, tag: str) -> None:
        with self.db.session() as session:
            row = self.owned_for_update(ctx, image_id, session)
            if session.get(ImageTag, (image_id, tag)) is None:
                raise errors.TagNotFound(tag)
            session.execute(delete(ImageTag).where(ImageTag.image_id == image_id, ImageTag.value == tag))
            row.updated_at = utcnow()

    def set_status(self, ctx, image_id: str, allowed: tuple[str, ...], status: str) -> None:
        """Deactivate/reactivate: only from the ``allowed`` states (403 otherwise; a no-op
        when already there)."""
        with self.db.session() as session:
            row = self.get(ctx, image_id, session)
            if row.status == status:
                return
            if row.status not in allowed:
                raise errors.ImageForbidden(f"Not allowed to change image status from {row.status} to {status}.")
            row.status, row.updated_at = status, utcnow()

    def delete(self, ctx, image_id: str) -> tuple[str | None, str | None]:
        """Delete the record; returns the data and staging locations the caller must remove."""
        with self.db.session() as session:
            row = self.owned_for_update(ctx, image_id, session)
            if row.protected:
                raise errors.ImageForbidden(f"Image {image_id} is protected and cannot be deleted.")
            location, staging = row.location, row.staging
            keyed = dict(session.execute(select(ImageProperty.name, ImageProperty.value).where(
                ImageProperty.image_id == image_id, ImageProperty.name.in_((IMAGE_KEY, IMAGE_KEY_POLICY)))).all())
            session.execute(delete(ImageTag).where(ImageTag.image_id == image_id))
            session.execute(delete(ImageProperty).where(ImageProperty.image_id == image_id))
            session.execute(delete(ImageMember).where(ImageMember.image_id == image_id))
            session.delete(row)
        if keyed.get(IMAGE_KEY) and keyed.get(IMAGE_KEY_POLICY) == ON_IMAGE_DELETION:
            self._delete_key(ctx, keyed[IMAGE_KEY])
        return location, staging

    def _delete_key(self, ctx, key_id: str) -> None:
        """Glance's ``_delete_encryption_key``: the key of an encrypted volume's upload goes
        with the image, as the caller; a key missing or not the caller's is only logged."""
        try:
            self.service.key_manager.delete(ctx, key_id)
        except (NotFound, Forbidden) as error:
            log.warning("encryption key %s of a deleted image not deleted: %s", key_id, error)


def _time_filter(column, expression: str):
    operators = {"gt": column.__gt__, "gte": column.__ge__, "lt": column.__lt__, "lte": column.__le__,
                 "eq": column.__eq__, "neq": column.__ne__}
    op, _, moment = expression.partition(":")
    if op not in operators or not moment:
        raise errors.ImageInvalid(f"Invalid time filter: {expression}")
    try:
        value = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        raise errors.ImageInvalid(f"Invalid time filter: {expression}") from None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return operators[op](value)


def _same(column, value):
    return column.is_(None) if value is None else column == value


def _after(anchor: Image, sort: list[tuple[str, str]]):
    """Rows that come after ``anchor`` in the ``sort`` order (keyset pagination)."""
    clauses = []
    for index, (key, direction) in enumerate(sort):
        column, value = getattr(Image, key), getattr(anchor, key)
        equal = [_same(getattr(Image, k), getattr(anchor, k)) for k, _ in sort[:index]]
        if value is None:
            beyond = column.is_not(None) if direction == "asc" else None
        else:
            beyond = column > value if direction == "asc" else or_(column < value, column.is_(None))
        if beyond is not None:
            clauses.append(and_(*equal, beyond))
    return or_(*clauses) if clauses else Image.id != anchor.id
