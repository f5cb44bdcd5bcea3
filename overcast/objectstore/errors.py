"""Object storage errors: Swift answers with short HTML/text bodies and these statuses."""

from overcast.common.errors import BadRequest, Conflict, Forbidden, NotFound, OvercastError, Unauthorized


class SwiftNotFound(NotFound):
    message = "The resource could not be found."


class SwiftConflict(Conflict):
    message = "There was a conflict when trying to complete your request."


class SwiftBadRequest(BadRequest):
    pass


class SwiftForbidden(Forbidden):
    message = "Access was denied to this resource."


class SwiftUnauthorized(Unauthorized):
    message = "This server could not verify that you are authorized to access the document you requested."


class Unprocessable(OvercastError):
    status = 422
    title = "Unprocessable Entity"
    message = "Unable to process the contained instructions"


class PreconditionFailed(OvercastError):
    status = 412
    title = "Precondition Failed"
    message = "A precondition for this request was not met."


class NotModified(OvercastError):
    status = 304
    title = "Not Modified"
    message = ""


class EntityTooLarge(OvercastError):
    status = 413
    title = "Request Entity Too Large"
    message = "Your request is too large."


class LengthRequired(OvercastError):
    status = 411
    title = "Length Required"
    message = "Missing Content-Length or Transfer-Encoding: chunked."


class RangeNotSatisfiable(OvercastError):
    status = 416
    title = "Requested Range Not Satisfiable"
    message = "The Range requested is not available."


class TempURLInvalid(SwiftUnauthorized):
    message = "Temp URL invalid"


class NotAcceptable(OvercastError):
    status = 406
    title = "Not Acceptable"
    message = "The server has no information matching the request."


class OlderThanCurrent(OvercastError):
    """A synced upload older than what the container has: accepted, nothing stored (Swift's
    proxy answers 202 when its object servers refuse an older X-Timestamp)."""

    status = 202
    title = "Accepted"
    message = "The request is accepted for processing."
