"""A fresh in-memory SQLite with every table, for the compute service unit tests."""

from __future__ import annotations

import pytest

from overcast.common.db import Base, Database
from overcast.common.db.models import load_all


@pytest.fixture
def db():
    load_all()
    database = Database("sqlite://")
    Base.metadata.create_all(database.engine)
    yield database
    database.close()
