"""The route rows for usage reports and the image proxy (images below 2.36, metadata below 2.39)."""

from __future__ import annotations

from overcast.common.api import Route
from overcast.compute.api import console_tokens, images, usage

P = "os_compute_api:"
IMG = "/v2.1/images/{image_id}"
M = P + "image-metadata:"

ROUTES = [
    Route("GET", "/v2.1/os-simple-tenant-usage", usage.list_usage, P + "os-simple-tenant-usage:list"),
    Route("GET", "/v2.1/os-simple-tenant-usage/{tenant_id}", usage.show_usage, P + "os-simple-tenant-usage:show"),
    Route("GET", "/v2.1/os-console-auth-tokens/{console_token}", console_tokens.show, P + "os-console-auth-tokens"),
    Route("GET", "/v2.1/images", images.list_images, P + "images:index"),
    Route("GET", "/v2.1/images/detail", images.list_detail, P + "images:detail"),
    Route("GET", IMG, images.show, P + "images:show"),
    Route("DELETE", IMG, images.delete, P + "images:delete"),
    Route("GET", IMG + "/metadata", images.list_metadata, M + "index"),
    Route("PUT", IMG + "/metadata", images.replace_metadata, M + "update_all"),
    Route("POST", IMG + "/metadata", images.update_metadata, M + "create"),
    Route("GET", IMG + "/metadata/{key}", images.show_item, M + "show"),
    Route("PUT", IMG + "/metadata/{key}", images.set_item, M + "update"),
    Route("DELETE", IMG + "/metadata/{key}", images.delete_item, M + "delete"),
]
