"""Console tokens: only a hash is stored, a token opens one connection, and it expires."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from overcast.common.bus import RemoteError
from overcast.common.config import load
from overcast.common.db import Base, Database
from overcast.compute import errors
from overcast.compute.models import ConsoleToken
from overcast.compute.service.consoles import Consoles

UUID = "6f0c1a52-8d0e-4a53-9d55-2f7d8c9f1b11"
WHERE = {"kind": "vnc", "host": "h1", "port": None, "internal_access_path": None, "path": "/run/x/a.vnc"}


class FakeBus:
    def __init__(self, answer=WHERE, error: Exception | None = None):
        self.answer, self.error, self.calls = answer, error, []

    async def call(self, topic, kind, payload, timeout):
        self.calls.append((topic, kind, payload))
        if self.error:
            raise self.error
        return self.answer


@pytest.fixture
def db(tmp_path):
    """A file database: create() stores its token from a worker thread."""
    database = Database(f"sqlite:///{tmp_path / 'compute.db'}")
    Base.metadata.create_all(database.engine)
    yield database
    database.close()


def consoles(db, bus=None, vm_state="active", host="h1", **options) -> Consoles:
    config = load(environ={}, **{f"compute__{k}": v for k, v in options.items()})
    row = SimpleNamespace(uuid=UUID, host=host, vm_state=vm_state)
    servers = SimpleNamespace(get=lambda ctx, uuid: row)
    return Consoles(SimpleNamespace(db=db, config=config, bus=bus or FakeBus(), servers=servers))


def rows(db) -> list[ConsoleToken]:
    with db.session() as session:
        found = list(session.scalars(select(ConsoleToken)))
        session.expunge_all()
        return found


def test_only_the_hash_of_a_token_is_stored(db):
    token = consoles(db).issue(UUID, "h1", "novnc", WHERE)
    (row,) = rows(db)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [getattr(row, c.name) for c in ConsoleToken.__table__.columns]
    assert not any(token in str(value) for value in stored)
    assert (row.instance_uuid, row.host, row.path, row.console_type) == (UUID, "h1", WHERE["path"], "novnc")


def test_a_token_opens_one_connection_only(db):
    store = consoles(db)
    token = store.issue(UUID, "h1", "novnc", WHERE)
    grant = store.take(token)
    assert (grant.instance_uuid, grant.host, grant.path) == (UUID, "h1", WHERE["path"])
    assert store.take(token) is None
    assert rows(db) == []


def test_unknown_and_empty_tokens_are_refused(db):
    store = consoles(db)
    store.issue(UUID, "h1", "novnc", WHERE)
    assert store.take("not-a-token") is None and store.take("") is None
    assert len(rows(db)) == 1


def test_an_expired_token_is_refused_and_dropped(db):
    store = consoles(db, console_token_ttl=600)
    token = store.issue(UUID, "h1", "novnc", WHERE)
    (row,) = rows(db)
    assert 590 <= (row.expires - datetime.datetime.now(datetime.UTC).replace(tzinfo=None)).total_seconds() <= 600
    with db.session() as session:
        session.execute(update(ConsoleToken).values(expires=row.expires - datetime.timedelta(seconds=601)))
    assert store.take(token) is None
    assert rows(db) == []


def test_issuing_drops_expired_tokens(db):
    store = consoles(db)
    store.issue(UUID, "h1", "novnc", WHERE)
    with db.session() as session:
        session.execute(update(ConsoleToken).values(expires=datetime.datetime(2000, 1, 1)))
    fresh = store.issue(UUID, "h1", "novnc", WHERE)
    assert len(rows(db)) == 1 and store.take(fresh) is not None


def test_create_answers_a_novnc_url_with_the_token_in_path(db):
    bus = FakeBus()
    store = consoles(db, bus, novncproxy_base_url="https://cloud.example/vnc/vnc_lite.html")
    console = asyncio.run(store.create(None, UUID, "vnc", "novnc"))
    assert console["protocol"] == "vnc" and console["type"] == "novnc"
    url = urlsplit(console["url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://cloud.example/vnc/vnc_lite.html"
    assert url.query.startswith("path=%3Ftoken%3D")
    token = parse_qs(url.query)["path"][0].removeprefix("?token=")
    assert bus.calls == [("compute.h1", "get_remote_console", {"uuid": UUID, "kind": "vnc"})]
    assert store.take(token).path == WHERE["path"]


def test_the_default_url_is_under_the_public_url(db):
    console = asyncio.run(consoles(db).create(None, UUID, "vnc", "novnc"))
    assert console["url"].startswith("http://127.0.0.1:8600/vnc/vnc_lite.html?path=%3Ftoken%3D")


@pytest.mark.parametrize("protocol, kind, message", [
    ("vnc", "xvpvnc", "Unavailable console type xvpvnc."),
    ("vnc", "spice-html5", "Invalid console type spice-html5"),
    ("spice", "spice-html5", "Unavailable console type spice-html5."),
    ("serial", "serial", "Unavailable console type serial."),
    ("rdp", "rdp-html5", "Unavailable console type rdp-html5."),
    ("mks", "webmks", "Unavailable console type webmks."),
])
def test_other_console_types_are_400(db, protocol, kind, message):
    bus = FakeBus()
    with pytest.raises(errors.ComputeInvalid) as raised:
        asyncio.run(consoles(db, bus).create(None, UUID, protocol, kind))
    assert message in str(raised.value)
    assert bus.calls == [] and rows(db) == []


def test_a_guest_that_is_not_running_gets_409_and_no_token(db):
    bus = FakeBus(error=RemoteError("InstanceInvalidState", "instance is SHUTDOWN"))
    with pytest.raises(errors.ComputeConflict, match="not ready"):
        asyncio.run(consoles(db, bus).create(None, UUID, "vnc", "novnc"))
    with pytest.raises(errors.ComputeConflict, match="not ready"):
        asyncio.run(consoles(db, FakeBus(), vm_state="building", host=None).create(None, UUID, "vnc", "novnc"))
    assert rows(db) == []
