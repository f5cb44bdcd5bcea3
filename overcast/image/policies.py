"""Image default policy rules, with Glance's rule names so its policy.yaml files work.

Targets carry ``project_id`` (the image owner), ``member_id`` (the member project in
question) and ``visibility``. Which images a project may see at all is decided in the
service's queries; these rules decide what it may do.
"""

from overcast.common.policy import Rule
from overcast.image.metadefs.api import RULES as METADEF_RULES

OWNER_MEMBER = "role:admin or (role:member and project_id:%(project_id)s)"
VISIBLE = ("project_id:%(project_id)s or project_id:%(member_id)s or 'community':%(visibility)s"
           " or 'public':%(visibility)s or 'shared':%(visibility)s")

RULES = [
    Rule("context_is_admin", "role:admin", "Who counts as an image administrator."),
    Rule("add_image", OWNER_MEMBER, "Create an image.", [("POST", "/v2/images")]),
    Rule("get_image", f"role:admin or (role:reader and ({VISIBLE}))", "Show an image.",
         [("GET", "/v2/images/{image_id}")]),
    Rule("get_images", "role:admin or (role:reader and project_id:%(project_id)s)", "List images.",
         [("GET", "/v2/images")]),
    Rule("modify_image", OWNER_MEMBER, "Update an image or its tags.", [("PATCH", "/v2/images/{image_id}")]),
    Rule("publicize_image", "role:admin", "Make an image public.", [("PATCH", "/v2/images/{image_id}")]),
    Rule("communitize_image", OWNER_MEMBER, "Make an image community.", [("PATCH", "/v2/images/{image_id}")]),
    Rule("delete_image", OWNER_MEMBER, "Delete an image.", [("DELETE", "/v2/images/{image_id}")]),
    Rule("upload_image", OWNER_MEMBER, "Upload image data.", [("PUT", "/v2/images/{image_id}/file")]),
    Rule("download_image", f"role:admin or (role:member and ({VISIBLE}))", "Download image data.",
         [("GET", "/v2/images/{image_id}/file")]),
    Rule("stage_image", OWNER_MEMBER, "Stage image data for an import.", [("PUT", "/v2/images/{image_id}/stage")]),
    Rule("import_image", OWNER_MEMBER, "Import staged or remote data.", [("POST", "/v2/images/{image_id}/import")]),
    Rule("deactivate", OWNER_MEMBER, "Deactivate an image.", [("POST", "/v2/images/{image_id}/actions/deactivate")]),
    Rule("reactivate", OWNER_MEMBER, "Reactivate an image.", [("POST", "/v2/images/{image_id}/actions/reactivate")]),
    Rule("add_member", OWNER_MEMBER, "Share an image with a project.", [("POST", "/v2/images/{image_id}/members")]),
    Rule("delete_member", OWNER_MEMBER, "Stop sharing an image with a project.",
         [("DELETE", "/v2/images/{image_id}/members/{member_id}")]),
    Rule("get_member", "role:admin or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s))",
         "Show a member.", [("GET", "/v2/images/{image_id}/members/{member_id}")]),
    Rule("get_members", "role:admin or (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s))",
         "List members.", [("GET", "/v2/images/{image_id}/members")]),
    Rule("modify_member", "role:admin or (role:member and project_id:%(member_id)s)",
         "Accept or reject a shared image.", [("PUT", "/v2/images/{image_id}/members/{member_id}")]),
    Rule("get_info", "role:reader", "Import methods and stores.", [("GET", "/v2/info/import")]),
    *METADEF_RULES,
]
