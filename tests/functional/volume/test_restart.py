"""A volume agent that restarts with work in flight finishes or fails it (its own cloud)."""

from __future__ import annotations

import signal
import uuid

from sqlalchemy import update

from cloudproc import CloudProcess
from conftest import FAST_HASH, connect
from overcast.common.db import Database
from overcast.volume.models import Volume


def test_restart_settles_volumes_left_in_flight(tmp_path, api):
    first = CloudProcess(tmp_path / "data", env=FAST_HASH).start()
    try:
        root = api(connect(first), target=first)
        kept = root.create()
        root.wait(kept["id"], "available")
        doomed = root.create()
        root.wait(doomed["id"], "available")
    finally:
        assert first.stop(signal.SIGINT) == 0
    db = Database(f"sqlite:///{tmp_path / 'data' / 'overcast.db'}")
    with db.session() as session:  # as if the agent died mid-create and mid-delete
        session.execute(update(Volume).where(Volume.id == kept["id"]).values(status="creating"))
        session.execute(update(Volume).where(Volume.id == doomed["id"]).values(status="deleting"))
        model = session.get(Volume, kept["id"])
        ghost = Volume(id=str(uuid.uuid4()), project_id=model.project_id, user_id=model.user_id, size=1,
                       status="creating", host=model.host, volume_type_id=model.volume_type_id, meta={})
        session.add(ghost)
        ghost_id = ghost.id
    db.close()
    second = CloudProcess(tmp_path / "data", env=FAST_HASH).start()
    try:
        root = api(connect(second), target=second)
        root.wait(kept["id"], "available")  # the driver has it: the create had finished
        root.wait(doomed["id"], "deleted")  # the delete is done again
        failed = root.wait(ghost_id, "error")  # never made: an error, and deletable
        assert failed["id"] == ghost_id
        assert root.delete(f"/volumes/{ghost_id}").status_code == 202
        root.wait(ghost_id, "deleted")
        assert not [p for p in (tmp_path / "data" / "volumes").iterdir() if doomed["id"] in p.name]
    finally:
        assert second.stop() == 0
