"""The local key manager on every database: create, get, copy, delete; another project's
key refused; material sealed at rest with the credential keys (not in the table in clear)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from overcast.common.api.context import RequestContext
from overcast.common.config import load
from overcast.common.db import Database
from overcast.common.db.migrate import upgrade
from overcast.volume.key_manager import KeyNotFound, LocalKeyManager
from overcast.volume.key_manager.base import KeyForbidden, passphrase
from overcast.volume.key_manager.models import VolumeKey

ALICE = RequestContext(user_id="alice", project_id="p-alice", roles=["member"])
BOB = RequestContext(user_id="bob", project_id="p-bob", roles=["member"])
ADMIN = RequestContext(user_id="root", project_id="p-admin", roles=["admin"])


@pytest.fixture
def keys(database_url, tmp_path):
    config = load(environ={}, server__data_dir=str(tmp_path / "data"), database__url=database_url)
    config.data_path.mkdir(parents=True)
    db = Database(config.database_url)
    upgrade(db)
    yield LocalKeyManager.for_config(config, db)
    db.close()


def test_create_get_and_delete(keys):
    key_id = keys.create_key(ALICE, "AES", 256)
    material = keys.get(ALICE, key_id)
    assert len(material) == 32
    assert keys.get(ADMIN, key_id) == material
    keys.delete(ALICE, key_id)
    with pytest.raises(KeyNotFound):
        keys.get(ALICE, key_id)
    with pytest.raises(KeyNotFound):
        keys.delete(ALICE, key_id)


def test_another_projects_key_is_refused(keys):
    key_id = keys.create_key(ALICE)
    with pytest.raises(KeyForbidden):
        keys.get(BOB, key_id)
    with pytest.raises(KeyForbidden):
        keys.delete(BOB, key_id)
    assert len(keys.get(ALICE, key_id)) == 32


def test_copy_is_a_new_key_with_the_same_material(keys):
    key_id = keys.create_key(ALICE)
    copied = keys.copy(ALICE, key_id)
    assert copied != key_id and keys.get(ALICE, copied) == keys.get(ALICE, key_id)
    keys.delete(ALICE, key_id)
    assert len(keys.get(ALICE, copied)) == 32


def test_material_is_sealed_at_rest(keys):
    key_id = keys.create_key(ALICE)
    material = keys.get(ALICE, key_id)
    with keys.db.session() as session:
        sealed = session.scalar(select(VolumeKey.sealed).where(VolumeKey.id == key_id))
    assert material.hex() not in sealed and passphrase(material).decode() not in sealed
    assert keys.keys.decrypt(sealed) == material
