"""The metadata service's errors: a request it cannot trust, an instance it cannot find."""

from overcast.common.errors import Forbidden, NotFound


class MetadataForbidden(Forbidden):
    message = "The request is not signed by a metadata proxy of this cloud."


class MetadataNotFound(NotFound):
    message = "The resource could not be found."


class InstanceNotFound(NotFound):
    message = "No instance has the address {address} on network {network_id}."
