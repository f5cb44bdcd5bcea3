"""Engine and session factory for SQLite (WAL), PostgreSQL and MariaDB/MySQL URLs."""

from __future__ import annotations

import contextlib
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``.

    SQLite gets WAL journaling, a 30 s busy timeout and foreign keys on, so the API's
    thread pool can read while one writer commits. MySQL URLs without a driver use
    PyMySQL and utf8mb4; PostgreSQL URLs without a driver use psycopg 3.
    """
    if url.startswith("mysql://") or url.startswith("mariadb://"):
        url = "mysql+pymysql://" + url.split("://", 1)[1]
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("mysql") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    if url.startswith("sqlite"):
        # keep a connection per API worker thread: opening one costs three PRAGMAs
        pool = {} if url in ("sqlite://", "sqlite:///:memory:") else {"pool_size": 16, "max_overflow": 48}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_recycle=3600)


class Database:
    """One engine and its session factory; services get this injected at startup."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on any error."""
        with self._sessions() as session:
            with session.begin():
                yield session

    def first(self, query, session: Session | None = None):
        """The first row of ``query``, read in ``session`` or in a short one of its own."""
        if session is not None:
            return session.scalars(query).first()
        with self.session() as own:
            return own.scalars(query).first()

    def close(self) -> None:
        self.engine.dispose()
