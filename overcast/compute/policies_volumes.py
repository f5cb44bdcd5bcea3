"""Default policy rules for attaching volumes to servers, with Nova's rule names."""

from overcast.common.policy import Rule

P = "os_compute_api:os-volumes-attachments:"
MEMBER = "role:admin or (role:member and project_id:%(project_id)s)"
READER = "role:admin or (role:reader and project_id:%(project_id)s)"
S = "/servers/{server_id}/os-volume_attachments"

RULES = [
    Rule(P + "index", READER, "List the volumes attached to a server.", [("GET", S)]),
    Rule(P + "show", READER, "Show a volume attachment.", [("GET", S + "/{volume_id}")]),
    Rule(P + "create", MEMBER, "Attach a volume to a server.", [("POST", S)]),
    Rule(P + "update", MEMBER, "Update a volume attachment (delete_on_termination).", [("PUT", S + "/{volume_id}")]),
    Rule(P + "swap", "role:admin", "Swap one attached volume for another.", [("PUT", S + "/{volume_id}")]),
    Rule(P + "delete", MEMBER, "Detach a volume from a server.", [("DELETE", S + "/{volume_id}")]),
]
