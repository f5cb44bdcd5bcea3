"""Per-project limits on image count and stored bytes (413 when exceeded)."""

from __future__ import annotations

from sqlalchemy import func, select

from overcast.image import errors
from overcast.image.models import Image


class Quotas:
    def __init__(self, config):
        self.max_images = config.image.max_images_per_project
        self.max_bytes = config.image.max_bytes_per_project
        self.max_image = config.image.max_image_size

    def check_count(self, session, owner: str) -> None:
        if self.max_images < 0:
            return
        count = session.scalar(select(func.count()).select_from(Image).where(Image.owner == owner))
        if count >= self.max_images:
            raise errors.ImageOverLimit(f"Maximum number of images ({self.max_images}) reached for project {owner}.")

    def bytes_left(self, session, owner: str) -> int:
        """How many more bytes of data ``owner`` may store (for one upload)."""
        if self.max_bytes < 0:
            return self.max_image
        used = session.scalar(select(func.coalesce(func.sum(Image.size), 0)).where(Image.owner == owner)) or 0
        return min(self.max_image, self.max_bytes - used)
