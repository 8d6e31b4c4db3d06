"""Adding a row that a unique constraint may already hold (another instance was first)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keystore.models import Base


def add_once(session: Session, row: Base) -> bool:
    """Add `row` in a savepoint; False, with nothing added, when its key exists already."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True
