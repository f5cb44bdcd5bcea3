"""Image service errors (Glance v2 semantics), subclassing the common families."""

from __future__ import annotations

from overcast.common.errors import BadRequest, Conflict, Forbidden, NotFound, OverLimit


class ImageDataNotFound(NotFound):
    """The store has nothing at the location the image record points to."""

    message = "Image data could not be found."


class ImageTooLarge(OverLimit):
    """An upload passed the configured size cap (Glance ``image_size_cap``); 413."""

    status = 413
    message = "The provided image is too large."

    def __init__(self, limit: int | None = None):
        super().__init__(None if limit is None else f"The provided image is too large (limit is {limit} bytes).")
        self.limit = limit


class ImageSizeMismatch(BadRequest):
    """The bytes received do not match the size the client declared."""

    message = "The uploaded data does not match the expected image size."

    def __init__(self, expected: int | None = None, received: int | None = None):
        text = None
        if expected is not None and received is not None:
            text = f"Expected {expected} bytes of image data but received {received}."
        elif expected is not None:
            text = f"Received more than the expected {expected} bytes of image data."
        super().__init__(text)
        self.expected, self.received = expected, received


class ImageNotFound(NotFound):
    def __init__(self, image_id: str):
        super().__init__(f"No image found with ID {image_id}")


class MemberNotFound(NotFound):
    def __init__(self, member: str):
        super().__init__(f"No member {member} found for this image.")


class TagNotFound(NotFound):
    def __init__(self, tag: str):
        super().__init__(f"Tag {tag} not found.")


class ImageInvalid(BadRequest):
    pass


class ReservedProperty(Forbidden):
    def __init__(self, name: str):
        super().__init__(f"Attribute '{name}' is reserved.")


class ImageForbidden(Forbidden):
    pass


class ImageConflict(Conflict):
    pass


class ImageOverLimit(OverLimit):
    status = 413
    title = "Request Entity Too Large"


class UnsupportedMediaType(BadRequest):
    status = 415
    title = "Unsupported Media Type"


class RangeNotSatisfiable(BadRequest):
    status = 416
    title = "Requested Range Not Satisfiable"

    def __init__(self, size: int):
        super().__init__(f"Requested range not satisfiable: the image has {size} bytes.")
        self.headers["Content-Range"] = f"bytes */{size}"


class SchemaNotFound(NotFound):
    def __init__(self, name: str):
        super().__init__(f"No schema named {name}.")
