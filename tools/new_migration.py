"""Write the next Alembic migration from the difference between the models and the
schema the existing migrations build (on a scratch SQLite database).

    .venv/bin/python tools/new_migration.py "network service tables"

Prints the new file's path. Review it, then set HEAD in overcast/common/db/migrate.py
to its revision (tests/contract/test_identity_db.py checks both).
"""

from __future__ import annotations

import sys
import tempfile

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

from overcast.common.db import Base, Database
from overcast.common.db.models import load_all
from overcast.common.db.migrate import SCRIPTS, run_alembic


def main(message: str) -> None:
    load_all()
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{scratch}/scratch.db")
        run_alembic(db)
        config = AlembicConfig()
        config.set_main_option("script_location", str(SCRIPTS))
        head = ScriptDirectory.from_config(config).get_current_head()
        revision = f"{int(head) + 1:04d}"
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            config.attributes["target_metadata"] = Base.metadata
            script = command.revision(config, message=message, autogenerate=True, rev_id=revision)
        print(script.path)


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "new tables")
