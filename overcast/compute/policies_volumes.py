"""Default policy rules for attaching volumes to servers, with Nova's rule names."""

from overcast.common.policy import Rule

P = "os_compute_api:os-volumes-attachments:"
MEMBER = "role:admin or (role:member and project_id:%(project_id)s)"
READER = "role:admin or (role:reader and project_id:%(project_id)s)"
S = "/servers/{server_id}/os-volume_attachments"

V = "os_compute_api:os-volumes:"
A = "os_compute_api:os-assisted-volume-snapshots:"
SERVICE = "role:admin or role:service"


def _proxy(name: str, check: str, text: str, method: str, path: str) -> Rule:
    return Rule(V + name, check, text, [(method, path)])


RULES = [
    _proxy("list", READER, "List volumes (proxy to block storage, below 2.36).", "GET", "/os-volumes"),
    _proxy("detail", READER, "List volumes with details (proxy).", "GET", "/os-volumes/detail"),
    _proxy("create", MEMBER, "Create a volume (proxy).", "POST", "/os-volumes"),
    _proxy("show", READER, "Show a volume (proxy).", "GET", "/os-volumes/{volume_id}"),
    _proxy("delete", MEMBER, "Delete a volume (proxy).", "DELETE", "/os-volumes/{volume_id}"),
    _proxy("snapshots:list", READER, "List snapshots (proxy).", "GET", "/os-snapshots"),
    _proxy("snapshots:detail", READER, "List snapshots with details (proxy).", "GET", "/os-snapshots/detail"),
    _proxy("snapshots:create", MEMBER, "Create a snapshot (proxy).", "POST", "/os-snapshots"),
    _proxy("snapshots:show", READER, "Show a snapshot (proxy).", "GET", "/os-snapshots/{snapshot_id}"),
    _proxy("snapshots:delete", MEMBER, "Delete a snapshot (proxy).", "DELETE", "/os-snapshots/{snapshot_id}"),
    Rule(P + "index", READER, "List the volumes attached to a server.", [("GET", S)]),
    Rule(P + "show", READER, "Show a volume attachment.", [("GET", S + "/{volume_id}")]),
    Rule(P + "create", MEMBER, "Attach a volume to a server.", [("POST", S)]),
    Rule(P + "update", MEMBER, "Update a volume attachment (delete_on_termination).", [("PUT", S + "/{volume_id}")]),
    Rule(P + "swap", "role:admin", "Swap one attached volume for another.", [("PUT", S + "/{volume_id}")]),
    Rule(P + "delete", MEMBER, "Detach a volume from a server.", [("DELETE", S + "/{volume_id}")]),
    Rule(A + "create", SERVICE, "Create an assisted volume snapshot (the block storage service calls it).",
         [("POST", "/os-assisted-volume-snapshots")]),
    Rule(A + "delete", SERVICE, "Delete an assisted volume snapshot (the block storage service calls it).",
         [("DELETE", "/os-assisted-volume-snapshots/{snapshot_id}")]),
]
