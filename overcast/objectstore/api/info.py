"""GET /info: the capabilities this Swift API serves, as clients discover them."""

from __future__ import annotations

from starlette.responses import Response

from overcast.common.api import reply
from overcast.objectstore.api import (bulk, container_sync, formpost, object_versioning, staticweb, symlink, tempurl,
                                      versioning)
from overcast.objectstore.api.common import (MAX_CONTAINER_NAME, MAX_META_COUNT, MAX_META_NAME, MAX_META_SIZE,
                                             MAX_META_VALUE, MAX_OBJECT_NAME)
from overcast.objectstore.service import MAX_LISTING, MAX_OBJECT_SIZE


def show(req):
    return reply({
        "swift": {"version": "2.38.0", "max_file_size": MAX_OBJECT_SIZE, "max_meta_name_length": MAX_META_NAME,
                  "max_meta_value_length": MAX_META_VALUE, "max_meta_count": MAX_META_COUNT,
                  "max_meta_overall_size": MAX_META_SIZE, "max_header_size": 8192,
                  "max_object_name_length": MAX_OBJECT_NAME, "container_listing_limit": MAX_LISTING,
                  "account_listing_limit": MAX_LISTING, "max_account_name_length": 256,
                  "max_container_name_length": MAX_CONTAINER_NAME, "extra_header_count": 0,
                  "policies": [{"name": "Policy-0", "default": True}], "strict_cors_mode": True,
                  "allow_account_management": False, "account_autocreate": True},
        "account_quotas": {}, "container_quotas": {}, "dlo": {"max_get_time": 86400},
        "slo": {"max_manifest_segments": 1000, "max_manifest_size": 2097152, "min_segment_size": 1},
        "tempurl": tempurl.info(), "versioned_writes": versioning.info(),
        "object_versioning": object_versioning.info(), **bulk.info(),
        "staticweb": staticweb.info(), "formpost": formpost.info(), "symlink": symlink.info(),
        "container_sync": container_sync.info(req.state.objectstore),
    })


def healthcheck(req):
    """Swift's healthcheck middleware: a plain OK while the service answers."""
    return Response(b"OK", 200, media_type="text/plain")
