"""Start-up repair of uploads a crash cut off, without touching live ones."""

from __future__ import annotations

import datetime
import os

from overcast.common.config import load
from overcast.common.db import Base, Database, utcnow
from overcast.common.db.models import load_all
from overcast.image.models import Image
from overcast.image.service import ImageService
from overcast.image.service.data import STALE_AFTER


def test_recover_resets_only_stale_uploads(tmp_path):
    load_all()
    config = load(environ={}, server__data_dir=str(tmp_path))
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(db.engine)
    service = ImageService(config, db)
    old = utcnow() - datetime.timedelta(seconds=STALE_AFTER + 5)
    with db.session() as session:
        session.add(Image(id="00000000-0000-0000-0000-000000000001", status="saving", updated_at=old))
        session.add(Image(id="00000000-0000-0000-0000-000000000002", status="saving", updated_at=utcnow()))
        session.add(Image(id="00000000-0000-0000-0000-000000000003", status="importing", updated_at=old))
    leftover = service.store.root / ".00000000-0000-0000-0000-000000000001.0123456789abcdef.tmp"
    leftover.write_bytes(b"partial")
    stale = old.replace(tzinfo=datetime.UTC).timestamp()
    os.utime(leftover, (stale, stale))
    service.start()
    with db.session() as session:
        statuses = {row.id[-1]: row.status for row in session.query(Image)}
    assert statuses == {"1": "queued", "2": "saving", "3": "queued"}
    assert not leftover.exists()
    db.close()
