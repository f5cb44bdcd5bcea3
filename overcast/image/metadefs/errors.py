"""Metadata definition errors, with Glance's messages, subclassing the common families."""

from __future__ import annotations

from overcast.common.errors import BadRequest, Conflict, Forbidden, NotFound


class MetadefInvalid(BadRequest):
    """A request body or query parameter Glance's schemas would reject."""


class ReadOnlyAttribute(Forbidden):
    def __init__(self, name: str):
        super().__init__(f"Attribute '{name}' is read-only.")


class NamespaceNotFound(NotFound):
    def __init__(self, namespace: str):
        super().__init__(f"Metadata definition namespace={namespace} was not found.")


class ObjectNotFound(NotFound):
    def __init__(self, name: str, namespace: str):
        super().__init__(f"The metadata definition object with name={name} was not found in "
                         f"namespace={namespace}.")


class PropertyNotFound(NotFound):
    def __init__(self, name: str, namespace: str):
        super().__init__(f"The metadata definition property with name={name} was not found in "
                         f"namespace={namespace}.")


class TagNotFound(NotFound):
    def __init__(self, name: str, namespace: str):
        super().__init__(f"The metadata definition tag with name={name} was not found in "
                         f"namespace={namespace}.")


class AssociationNotFound(NotFound):
    def __init__(self, resource_type: str):
        super().__init__(f"Failed to find resource type {resource_type} to delete")


class DuplicateNamespace(Conflict):
    def __init__(self, namespace: str):
        super().__init__(f"The metadata definition namespace={namespace} already exists.")


class DuplicateObject(Conflict):
    def __init__(self, name: str, namespace: str):
        super().__init__(f"A metadata definition object with name={name} already exists in "
                         f"namespace={namespace}.")


class DuplicateProperty(Conflict):
    def __init__(self, name: str, namespace: str):
        super().__init__(f"A metadata definition property with name={name} already exists in "
                         f"namespace={namespace}.")


class DuplicateTag(Conflict):
    def __init__(self, name: str, namespace: str):
        super().__init__(f"A metadata tag with name={name} already exists in namespace={namespace}. "
                         "(Please note that metadata tag names are case insensitive).")


class DuplicateAssociation(Conflict):
    def __init__(self, resource_type: str, namespace: str):
        super().__init__(f"The metadata definition resource-type association of resource-type={resource_type} "
                         f"to namespace={namespace} already exists.")


class Protected(Forbidden):
    """Deleting a protected namespace, or anything in one (Glance's Protected*Delete).

    ``what`` names the record: ``namespace OS::Compute::Libvirt``, ``tag ssd``, ...
    """

    def __init__(self, what: str):
        super().__init__(f"Metadata definition {what} is protected and cannot be deleted.")
