"""Compute errors, with Nova's messages."""

from overcast.common.errors import BadRequest, Conflict, Forbidden, MethodNotAllowed, NotFound


class FlavorNotFound(NotFound):
    def __init__(self, flavor_id: str):
        super().__init__(f"Flavor {flavor_id} could not be found.")


class FlavorExtraSpecNotFound(NotFound):
    def __init__(self, flavor_id: str, key: str):
        super().__init__(f"Flavor {flavor_id} has no extra specs with key {key}.")


class FlavorAccessNotFound(NotFound):
    def __init__(self, flavor_id: str, project_id: str):
        super().__init__(f"Flavor access not found for {flavor_id} / {project_id} combination.")


class KeypairNotFound(NotFound):
    def __init__(self, name: str, user_id: str):
        super().__init__(f"Keypair {name} not found for user {user_id}")


class ComputeInvalid(BadRequest):
    pass


class ComputeConflict(Conflict):
    pass


class QuotaExceeded(Forbidden):
    def __init__(self, message: str, over: list[str] | None = None):
        super().__init__(message)
        self.over = over or []


class ComputeMethodNotAllowed(MethodNotAllowed):
    pass
