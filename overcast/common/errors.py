"""The error families every service raises; the API layer renders them per fault style.

Services raise these (or their own subclasses in ``<service>/errors.py``); handlers never
catch and translate. ``message`` may use ``{name}`` fields filled from keyword arguments.
"""

from __future__ import annotations


class OvercastError(Exception):
    status = 500
    title = "Internal Server Error"
    message = "An unexpected error prevented the server from fulfilling your request."

    def __init__(self, message: str | None = None, **fields):
        template = message if message is not None else self.message
        self.fields = fields
        self.text = template.format(**fields) if fields else template
        self.headers: dict[str, str] = {}
        super().__init__(self.text)


class BadRequest(OvercastError):
    status = 400
    title = "Bad Request"
    message = "The request you have made requires a valid body."


class Unauthorized(OvercastError):
    status = 401
    title = "Unauthorized"
    message = "The request you have made requires authentication."


class Forbidden(OvercastError):
    status = 403
    title = "Forbidden"
    message = "You are not authorized to perform the requested action."


class NotFound(OvercastError):
    status = 404
    title = "Not Found"
    message = "Could not find the requested resource."


class MethodNotAllowed(OvercastError):
    status = 405
    title = "Method Not Allowed"
    message = "The method is not allowed for the requested URL."


class Conflict(OvercastError):
    status = 409
    title = "Conflict"
    message = "Conflict occurred attempting to store the resource."


class PayloadTooLarge(OvercastError):
    status = 413
    title = "Request Entity Too Large"
    message = "The request is too large."


class OverLimit(OvercastError):
    status = 413
    title = "Over Limit"
    message = "Quota exceeded."


class Unimplemented(OvercastError):
    status = 501
    title = "Not Implemented"
    message = "The action you have requested has not been implemented."


class ServiceUnavailable(OvercastError):
    status = 503
    title = "Service Unavailable"
    message = "The service is temporarily unavailable."
