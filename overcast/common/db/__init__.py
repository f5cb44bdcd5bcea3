"""Database access shared by every service: engine, sessions, base columns, migrations."""

from overcast.common.db.engine import Database, make_engine
from overcast.common.db.base import Base, new_id, utcnow

__all__ = ["Base", "Database", "make_engine", "new_id", "utcnow"]
