"""The image route table (Glance v2), as data."""

from __future__ import annotations

from overcast.common.api import Route, not_implemented
from overcast.image.api import data, discovery, images, members
from overcast.image.metadefs import api as metadefs

ROUTES = [
    Route("GET", "/", discovery.versions, auth=False),
    Route("GET", "/versions", discovery.versions_200, auth=False),
    Route("GET", "/v2/schemas/{name:path}", discovery.schema, auth=False),
    Route("GET", "/v2/info/import", discovery.info_import, "get_info"),
    Route("GET", "/v2/info/stores", discovery.info_stores, "get_info"),
    Route("GET", "/v2/info/usage", not_implemented),
    Route("GET", "/v2/images", images.list_images, "get_images"),
    Route("POST", "/v2/images", images.create, "add_image"),
    Route("GET", "/v2/images/{image_id}", images.show, "get_image"),
    Route("PATCH", "/v2/images/{image_id}", images.update, "modify_image"),
    Route("DELETE", "/v2/images/{image_id}", images.delete, "delete_image"),
    Route("PUT", "/v2/images/{image_id}/tags/{tag}", images.add_tag, "modify_image"),
    Route("DELETE", "/v2/images/{image_id}/tags/{tag}", images.remove_tag, "modify_image"),
    Route("POST", "/v2/images/{image_id}/actions/deactivate", images.deactivate, "deactivate"),
    Route("POST", "/v2/images/{image_id}/actions/reactivate", images.reactivate, "reactivate"),
    Route("PUT", "/v2/images/{image_id}/file", data.put_file, "upload_image", stream=True),
    Route("GET", "/v2/images/{image_id}/file", data.get_file, "download_image"),
    Route("PUT", "/v2/images/{image_id}/stage", data.stage, "stage_image", stream=True),
    Route("POST", "/v2/images/{image_id}/import", data.start_import, "import_image"),
    Route("GET", "/v2/images/{image_id}/members", members.list_members, "get_members"),
    Route("POST", "/v2/images/{image_id}/members", members.add, "add_member"),
    Route("GET", "/v2/images/{image_id}/members/{member_id}", members.show, "get_member"),
    Route("PUT", "/v2/images/{image_id}/members/{member_id}", members.update, "modify_member"),
    Route("DELETE", "/v2/images/{image_id}/members/{member_id}", members.delete, "delete_member"),
    Route("GET", "/v2/images/{image_id}/tasks", images.list_tasks, "get_image"),
    Route("GET", "/v2/tasks", not_implemented),
    Route("POST", "/v2/tasks", discovery.create_task),
    Route("POST", "/v2/images/{image_id}/locations", not_implemented),
    Route("POST", "/v2/cache/{image_id}", not_implemented),
    *metadefs.ROUTES,
]
