"""Password hashing with bcrypt. Each check costs ~230 ms of CPU at cost 12 and runs in
the API's thread pool (bcrypt releases the GIL, so checks use every core)."""

from __future__ import annotations

import bcrypt

MAX_BYTES = 72  # bcrypt reads no further (bcrypt 5 raises past it), so both sides cut there


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode()[:MAX_BYTES], bcrypt.gensalt(rounds)).decode()


def check_password(password: str, hashed: str | None) -> bool:
    """True when ``password`` matches ``hashed``; False for a missing hash or bad input."""
    if not hashed or not isinstance(password, str):
        return False
    try:
        return bcrypt.checkpw(password.encode()[:MAX_BYTES], hashed.encode())
    except ValueError:
        return False
