"""Identity errors, with Keystone's messages."""

from overcast.common.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized


class IdentityNotFound(NotFound):
    kind = "resource"

    def __init__(self, ident: str):
        super().__init__(f"Could not find {self.kind}: {ident}.")


class DomainNotFound(IdentityNotFound):
    kind = "domain"


class ProjectNotFound(IdentityNotFound):
    kind = "project"


class UserNotFound(IdentityNotFound):
    kind = "user"


class GroupNotFound(IdentityNotFound):
    kind = "group"


class RoleNotFound(IdentityNotFound):
    kind = "role"


class RegionNotFound(IdentityNotFound):
    kind = "region"


class ServiceNotFound(IdentityNotFound):
    kind = "service"


class EndpointNotFound(IdentityNotFound):
    kind = "endpoint"


class CredentialNotFound(IdentityNotFound):
    kind = "credential"


class PolicyNotFound(IdentityNotFound):
    kind = "policy"


class ApplicationCredentialNotFound(IdentityNotFound):
    kind = "application credential"


class EndpointGroupNotFound(IdentityNotFound):
    kind = "endpoint group"


class ConsumerNotFound(IdentityNotFound):
    kind = "consumer"


class TokenNotFound(IdentityNotFound):
    kind = "token"


class RoleAssignmentNotFound(NotFound):
    message = "Could not find role assignment with role: {role_id}, user or group: {actor_id}, project, domain, or system: {target_id}."


class ImpliedRoleNotFound(NotFound):
    message = "{prior_role_id} does not imply {implied_role_id}."


class DuplicateName(Conflict):
    message = "Conflict occurred attempting to store {kind} - Duplicate entry found with name {name}."


class AuthFailed(Unauthorized):
    """Every failed login gets this one message, so callers learn nothing about which part failed."""

    message = "The request you have made requires authentication."


class InvalidToken(Unauthorized):
    message = "The request you have made requires authentication."


class ValidationError(BadRequest):
    pass


class ForbiddenAction(Forbidden):
    pass
