"""Image members: projects a shared image is offered to, and their answer."""

from __future__ import annotations

from sqlalchemy import select

from overcast.common.db import utcnow
from overcast.image import errors
from overcast.image.models import ImageMember

STATUSES = ("pending", "accepted", "rejected")
MAX_MEMBERS = 128


class Members:
    def __init__(self, service):
        self.service = service
        self.db = service.db

    def add(self, ctx, image_id: str, member: str) -> ImageMember:
        """Offer the image to ``member`` (owner or admin; the image must be shared)."""
        if not isinstance(member, str) or not member:
            raise errors.ImageInvalid("Invalid member: a project id is required")
        with self.db.session() as session:
            image = self.service.images.owned_for_update(ctx, image_id, session)
            if image.visibility != "shared":
                raise errors.ImageForbidden(f"Only shared images have members; image {image_id} is {image.visibility}.")
            if session.get(ImageMember, (image_id, member)) is not None:
                raise errors.ImageConflict(f"Member {member} already exists on image {image_id}.")
            count = len(session.scalars(select(ImageMember.member).where(ImageMember.image_id == image_id)).all())
            if count >= MAX_MEMBERS:
                raise errors.ImageOverLimit(f"Maximum number of members ({MAX_MEMBERS}) exceeded")
            row = ImageMember(image_id=image_id, member=member, status="pending")
            session.add(row)
            session.flush()
            return row

    def list(self, ctx, image_id: str) -> list[ImageMember]:
        """All members for the owner; only the caller's own membership for a member."""
        with self.db.session() as session:
            image = self.service.images.get(ctx, image_id, session)
            if image.visibility != "shared":
                raise errors.ImageForbidden(f"Only shared images have members; image {image_id} is {image.visibility}.")
            query = select(ImageMember).where(ImageMember.image_id == image_id).order_by(ImageMember.created_at)
            if not ctx.is_admin and image.owner != ctx.project_id:
                query = query.where(ImageMember.member == ctx.project_id)
            return list(session.scalars(query))

    def get(self, ctx, image_id: str, member: str) -> ImageMember:
        for row in self.list(ctx, image_id):
            if row.member == member:
                return row
        raise errors.MemberNotFound(member)

    def set_status(self, ctx, image_id: str, member: str, status: str) -> ImageMember:
        """Accept or reject: only the member project itself may answer."""
        if status not in STATUSES:
            raise errors.ImageInvalid(f"Invalid status: {status}; must be one of {', '.join(STATUSES)}")
        with self.db.session() as session:
            self.service.images.get(ctx, image_id, session)
            row = session.get(ImageMember, (image_id, member))
            if row is None:
                raise errors.MemberNotFound(member)
            if member != ctx.project_id:
                raise errors.ImageForbidden("Only the member project can change its membership status.")
            row.status, row.updated_at = status, utcnow()
            return row

    def delete(self, ctx, image_id: str, member: str) -> None:
        with self.db.session() as session:
            self.service.images.owned_for_update(ctx, image_id, session)
            row = session.get(ImageMember, (image_id, member))
            if row is None:
                raise errors.MemberNotFound(member)
            session.delete(row)
