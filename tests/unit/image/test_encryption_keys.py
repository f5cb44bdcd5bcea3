"""Glance's ``_delete_encryption_key``: deleting an image deletes the key its
``cinder_encryption_key_id`` names when ``cinder_encryption_key_deletion_policy`` is
``on_image_deletion``, as the caller; otherwise (or for a key gone already or another
project's) the key stays and the image is deleted all the same."""

from __future__ import annotations

import pytest

from overcast.common.api.context import RequestContext
from overcast.common.config import load
from overcast.common.db import Base, Database
from overcast.common.db.models import load_all
from overcast.image.service import ImageService
from overcast.volume.key_manager import KeyNotFound, LocalKeyManager
from overcast.volume.key_manager.base import KeyForbidden

OWNER = RequestContext(user_id="u", project_id="p1", roles=["member"])
OTHER = RequestContext(user_id="v", project_id="p2", roles=["member"])


@pytest.fixture
def service(tmp_path):
    load_all()
    config = load(environ={}, server__data_dir=str(tmp_path))
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(db.engine)
    yield ImageService(config, db, key_manager=LocalKeyManager.for_config(config, db))
    db.close()


def _image(service, ctx, **properties):
    return service.images.create(ctx, {"name": "enc", "disk_format": "raw", "container_format": "bare",
                                       **properties})


@pytest.mark.parametrize("policy, kept", [("on_image_deletion", False), ("do_not_delete", True), (None, True)])
def test_the_key_goes_with_the_image_only_on_image_deletion(service, policy, kept):
    keys = service.key_manager
    key_id = keys.create_key(OWNER)
    extra = {"cinder_encryption_key_deletion_policy": policy} if policy else {}
    image = _image(service, OWNER, cinder_encryption_key_id=key_id, **extra)
    service.images.delete(OWNER, image.id)
    if kept:
        assert len(keys.get(OWNER, key_id)) == 32
    else:
        with pytest.raises(KeyNotFound):
            keys.get(OWNER, key_id)


def test_a_key_missing_or_not_the_callers_only_is_logged(service, caplog):
    keys = service.key_manager
    theirs = keys.create_key(OTHER)
    for key_id in (theirs, "00000000-0000-0000-0000-00000000dead"):
        image = _image(service, OWNER, cinder_encryption_key_id=key_id,
                       cinder_encryption_key_deletion_policy="on_image_deletion")
        service.images.delete(OWNER, image.id)
    assert len(keys.get(OTHER, theirs)) == 32
    with pytest.raises(KeyForbidden):
        keys.get(OWNER, theirs)
    assert caplog.text.count("not deleted") == 2
