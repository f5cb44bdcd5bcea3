"""Bring a database to the newest schema with Alembic, cheaply when it already is.

Starting the cloud must stay fast, so the common case (schema already current) costs
one SELECT and never imports Alembic.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from overcast.common.db.engine import Database

HEAD = "0021"  # newest revision in migrations/versions; tests check it matches Alembic's head
SCRIPTS = Path(__file__).parent / "migrations"


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(db: Database) -> None:
    """Run every pending migration; does nothing when the schema is at HEAD.

    An empty database gets the models' tables directly and is stamped HEAD, which skips
    importing Alembic on first start; a test checks the migrations build the same schema.
    """
    revision = current_revision(db)
    if revision == HEAD:
        return
    if revision is None and _is_empty(db):
        _create_fresh(db)
        return
    run_alembic(db)


def _is_empty(db: Database) -> bool:
    with db.engine.connect() as connection:
        return not inspect(connection).get_table_names()


def _create_fresh(db: Database) -> None:
    from overcast.common.db.base import Base
    from overcast.common.db.models import load_all

    load_all()
    with db.engine.begin() as connection:
        Base.metadata.create_all(connection)
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": HEAD})


def run_alembic(db: Database) -> None:
    """Apply the migration scripts whatever the state (tests use it on empty databases)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(SCRIPTS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def alembic_head() -> str:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    config = AlembicConfig()
    config.set_main_option("script_location", str(SCRIPTS))
    return ScriptDirectory.from_config(config).get_current_head()
