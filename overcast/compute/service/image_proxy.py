"""Nova's image proxy (the compute API's /images below microversion 2.36, image metadata
below 2.39), answered by the image service's Python interface as Nova asked Glance.

Nova's names map onto the image service's: ``metadata`` is the image's custom properties;
the filters ``server`` and ``type`` are the ``instance_uuid`` and ``image_type`` properties,
``minRam``/``minDisk`` exact ``min_ram``/``min_disk``, ``changes-since`` an ``updated_at``
lower bound and ``property-<name>`` any property. Writing metadata replaces the whole
property set, as Nova's update with ``purge_props`` did, within the project's
``metadata_items`` quota.
"""

from __future__ import annotations

from overcast.compute import errors
from overcast.image.schemas import is_reserved

PAGE = 1000  # rows per image-service query while listing everything (Glance's api_limit_max)
SORT = [("created_at", "desc"), ("id", "desc")]  # Glance's default order
PROPERTY_FILTERS = {"server": "instance_uuid", "type": "image_type"}
COLUMN_FILTERS = {"minRam": "min_ram", "minDisk": "min_disk"}


def image_filters(query: dict[str, str]) -> dict:
    """The image service's filters for Nova's image list filters (unknown names are ignored)."""
    filters: dict = {"properties": {}, "columns": {}}
    for name, value in query.items():
        if name in ("name", "status"):
            filters[name] = value.lower() if name == "status" else value
        elif name == "changes-since":
            filters["updated_at"] = f"gte:{value}"
        elif name in PROPERTY_FILTERS:
            if name == "server":
                value = value.rsplit("/", 1)[-1]  # a server's link works as well as its id
            filters["properties"][PROPERTY_FILTERS[name]] = value
        elif name.startswith("property-") and len(name) > len("property-"):
            filters["properties"][name.removeprefix("property-")] = value
        elif name in COLUMN_FILTERS:
            try:
                filters["columns"][COLUMN_FILTERS[name]] = int(value)
            except ValueError:
                raise errors.ComputeInvalid(f"Invalid {name} filter: {value!r} is not an integer") from None
    return filters


class ImageProxy:
    def __init__(self, image, quotas):
        self.image = image  # the ImageService
        self.quotas = quotas

    def get(self, ctx, image_id: str):
        """The image with its ``properties``; the image service's ImageNotFound when unseen."""
        return self.image.images.get(ctx, image_id)

    def list(self, ctx, query: dict[str, str], limit: int | None, marker: str | None) -> list:
        """Images the caller sees, newest first; every one of them when ``limit`` is None."""
        filters = image_filters(query)
        found: list = []
        while limit is None or len(found) < limit:
            size = PAGE if limit is None else min(PAGE, limit - len(found))
            page = self.image.images.list(ctx, filters, list(SORT), size, marker)
            found.extend(page)
            if len(page) < size or not page:
                break
            marker = page[-1].id
        return found

    def delete(self, ctx, image_id: str) -> None:
        self.image.data.delete_data(*self.image.images.delete(ctx, image_id))

    def set_metadata(self, ctx, row, metadata: dict[str, str], replace: bool) -> dict[str, str]:
        """Merge ``metadata`` into the image's properties (or make it the whole set); the new set.

        QuotaExceeded (403) past the project's ``metadata_items``.
        """
        wanted = dict(metadata) if replace else {**row.properties, **metadata}
        return self._write(ctx, row, wanted)

    def delete_metadata(self, ctx, row, key: str) -> None:
        if key not in row.properties:
            raise errors.ComputeNotFound("Invalid metadata key")
        self._write(ctx, row, {name: value for name, value in row.properties.items() if name != key})

    def _write(self, ctx, row, wanted: dict[str, str]) -> dict[str, str]:
        limit = self.quotas.limits(ctx.project_id)["metadata_items"]
        if wanted and 0 <= limit < len(wanted):
            raise errors.QuotaExceeded("Image metadata limit exceeded", ["metadata_items"])
        changes = [("remove", name, None) for name in row.properties if name not in wanted and not is_reserved(name)]
        changes += [("add", name, value) for name, value in wanted.items() if row.properties.get(name) != value]
        if not changes:
            return dict(row.properties)
        return dict(self.image.images.update(ctx, row.id, changes).properties)
