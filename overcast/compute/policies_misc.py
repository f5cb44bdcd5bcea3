"""Default policy rules for usage reports and console tokens (Nova's names and defaults) and the
image proxy.

Nova never had enforced rules for its image proxy (only ``:discoverable`` ones, gone with
the proxy's policy clean-up); it passed the caller's token to Glance, whose rules decided.
These rules keep Nova's naming and default to a project reader; a write also has to pass
the image service's own ``delete_image`` or ``modify_image`` rule on the image's owner.
"""

from overcast.common.policy import Rule

P = "os_compute_api:"
ADMIN = "role:admin"
PROJECT_READER = "role:admin or (role:reader and project_id:%(project_id)s)"
IMAGE = "/images/{image_id}"


def _rule(name: str, check: str, text: str, method: str, path: str) -> Rule:
    return Rule(P + name, check, text, [(method, path)])


RULES = [
    _rule("os-simple-tenant-usage:list", ADMIN, "List per tenant usage statistics for all tenants",
          "GET", "/os-simple-tenant-usage"),
    _rule("os-simple-tenant-usage:show", PROJECT_READER, "Show usage statistics for a specific tenant",
          "GET", "/os-simple-tenant-usage/{tenant_id}"),
    _rule("os-console-auth-tokens", ADMIN, "Show the connection a console token opens.", "GET",
          "/os-console-auth-tokens/{console_token}"),
    _rule("images:index", PROJECT_READER, "List images (microversions below 2.36).", "GET", "/images"),
    _rule("images:detail", PROJECT_READER, "List images with details (microversions below 2.36).",
          "GET", "/images/detail"),
    _rule("images:show", PROJECT_READER, "Show an image (microversions below 2.36).", "GET", IMAGE),
    _rule("images:delete", PROJECT_READER, "Delete an image (microversions below 2.36); the image service's "
          "delete_image rule applies too.", "DELETE", IMAGE),
    _rule("image-metadata:index", PROJECT_READER, "List an image's metadata (microversions below 2.39).",
          "GET", IMAGE + "/metadata"),
    _rule("image-metadata:show", PROJECT_READER, "Show an image metadata item (microversions below 2.39).",
          "GET", IMAGE + "/metadata/{key}"),
    _rule("image-metadata:create", PROJECT_READER, "Add image metadata (microversions below 2.39); the image "
          "service's modify_image rule applies too.", "POST", IMAGE + "/metadata"),
    _rule("image-metadata:update_all", PROJECT_READER, "Replace image metadata (microversions below 2.39); the "
          "image service's modify_image rule applies too.", "PUT", IMAGE + "/metadata"),
    _rule("image-metadata:update", PROJECT_READER, "Set an image metadata item (microversions below 2.39); the "
          "image service's modify_image rule applies too.", "PUT", IMAGE + "/metadata/{key}"),
    _rule("image-metadata:delete", PROJECT_READER, "Delete an image metadata item (microversions below 2.39); "
          "the image service's modify_image rule applies too.", "DELETE", IMAGE + "/metadata/{key}"),
]
