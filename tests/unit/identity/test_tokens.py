import time

from overcast.identity.keys import KeyRepository
from overcast.identity.tokens import TokenData, seal, unseal


def make(tmp_path, max_keys=3):
    keys = KeyRepository(tmp_path / "fernet", max_keys)
    keys.setup()
    return keys


def test_seal_unseal_round_trip_every_scope(tmp_path):
    keys = make(tmp_path)
    base = dict(user_id="a" * 32, user_domain_id="default", methods=["password"], expires_at=int(time.time()) + 60,
                role_ids=["b" * 32, "c" * 32])
    for scope in ({"project_id": "d" * 32, "project_domain_id": "default"}, {"domain_id": "e" * 32},
                  {"system": "all"}, {}):
        data = TokenData(**base, **scope)
        back = unseal(keys, seal(keys, data))
        assert back == data


def test_foreign_tampered_and_garbage_tokens_are_rejected(tmp_path):
    keys = make(tmp_path / "one")
    other = make(tmp_path / "two")
    token = seal(keys, TokenData("u", "default", ["password"], time.time() + 60))
    assert unseal(other, token) is None
    assert unseal(keys, token[:-4] + "AAAA") is None
    assert unseal(keys, "garbage") is None and unseal(keys, "") is None


def test_rotation_keeps_recent_tokens_valid(tmp_path):
    keys = make(tmp_path, max_keys=3)
    data = TokenData("u", "default", ["password"], time.time() + 60)
    old = seal(keys, data)
    keys.rotate()
    assert unseal(keys, old) is not None  # primary became a secondary
    keys.rotate()
    keys.rotate()
    assert unseal(keys, old) is None  # pruned past max_active_keys
    assert len(list((tmp_path / "fernet").iterdir())) == 3


def test_key_files_are_private(tmp_path):
    make(tmp_path)
    for path in (tmp_path / "fernet").iterdir():
        assert path.stat().st_mode & 0o077 == 0


def test_running_repository_sees_a_rotation_by_another_process(tmp_path, monkeypatch):
    import overcast.identity.keys as keys_module

    monkeypatch.setattr(keys_module, "RECHECK", 0.0)
    server = make(tmp_path)
    other = KeyRepository(tmp_path / "fernet", 3)
    token = seal(server, TokenData("u", "default", ["password"], time.time() + 60))
    other.rotate()
    other.rotate()  # the new primary was staged after the server read its keys
    fresh = seal(other, TokenData("u", "default", ["password"], time.time() + 60))
    assert unseal(server, fresh) is not None
    assert unseal(server, token) is None  # its key was pruned (max_active_keys = 3)
