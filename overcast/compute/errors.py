"""Compute errors, with Nova's messages."""

from overcast.common.errors import BadRequest, Conflict, Forbidden, MethodNotAllowed, NotFound, Unimplemented


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


class ComputeForbidden(Forbidden):
    pass


class ServerNotFound(NotFound):
    def __init__(self, uuid: str):
        super().__init__(f"Instance {uuid} could not be found.")


class InstanceInvalidState(Conflict):
    def __init__(self, uuid: str, action: str, attr: str, state):
        super().__init__(f"Cannot '{action}' instance {uuid} while it is in {attr} {state}")


class InstanceLocked(Conflict):
    def __init__(self, uuid: str):
        super().__init__(f"Instance {uuid} is locked")


class ServerGroupNotFound(NotFound):
    def __init__(self, group_id: str):
        super().__init__(f"Instance group {group_id} could not be found.")


class ServiceNotFound(NotFound):
    def __init__(self, service_id, message: str = "Service {service_id} could not be found."):
        super().__init__(message.format(service_id=service_id))


class HostBinaryNotFound(NotFound):
    def __init__(self, host: str, binary: str):
        super().__init__(f"Could not find binary {binary} on host {host}.")


class HostNotFound(NotFound):
    def __init__(self, host: str):
        super().__init__(f"Host {host} could not be found.")


class ComputeHostNotFound(NotFound):
    def __init__(self, host: str):
        super().__init__(f"Compute host {host} could not be found.")


class HypervisorNotFound(NotFound):
    def __init__(self, hypervisor_id):
        super().__init__(f"Hypervisor with ID '{hypervisor_id}' could not be found.")


class AggregateNotFound(NotFound):
    def __init__(self, aggregate_id):
        super().__init__(f"Aggregate {aggregate_id} could not be found.")


class ComputeNotFound(NotFound):
    pass


class ComputeUnimplemented(Unimplemented):
    pass
