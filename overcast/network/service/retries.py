"""Retrying a whole transaction the database gave up on.

MariaDB (InnoDB gap and next-key locks, above all after duplicate-key errors) and
PostgreSQL may pick a transaction as a deadlock victim when ports are created side by
side; the work is then simply done again, as Neutron does with oslo.db's retries."""

from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

from sqlalchemy.exc import DBAPIError

T = TypeVar("T")
ATTEMPTS = 6
MYSQL_CODES = (1213, 1205)  # deadlock found; lock wait timeout
SQLSTATES = ("40P01", "40001")  # deadlock detected; serialization failure


def deadlocked(error: DBAPIError) -> bool:
    original = getattr(error, "orig", None)
    code = (getattr(original, "args", None) or [None])[0]
    return code in MYSQL_CODES or getattr(original, "sqlstate", None) in SQLSTATES


def retrying(work: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """``work()``, run again (after a short random pause) when it lost a deadlock."""
    for attempt in range(attempts):
        try:
            return work()
        except DBAPIError as error:
            if not deadlocked(error) or attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
    raise AssertionError("unreachable")
