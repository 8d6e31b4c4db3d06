"""Which mails the relay already took for a received transaction: no mail twice after a crash.

The filter answers an MTA only after relaying; a crash between the relay's acceptance and
the MTA reading the filter's 250 makes the MTA retry a transaction whose mails went out.
Each mail the relay took is recorded here (a digest of the transaction as received, and a
name for the mail within it) before the filter goes on, and a retry leaves out what is
recorded. Nothing of the content or the addresses is kept. Records expire after the MTA's
longest queue lifetime (`purge_relayed`, from housekeeping): no retry comes later.

The statements run in a `Keystore.driver_transaction`, on the filter's hot path.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from keystore.clock import as_utc
from keystore.driver import DriverTransaction
from keystore.models import RelayedMail

_table = RelayedMail.__table__
_SELECT = select(_table.c.part).where(_table.c.message == bindparam("message"))
_DELETE = delete(RelayedMail).where(RelayedMail.message == bindparam("message"))
_INSERT = insert(RelayedMail).values(
    message=bindparam("message", type_=_table.c.message.type),
    part=bindparam("part", type_=_table.c.part.type),
    relayed_at=bindparam("at", type_=_table.c.relayed_at.type),
)


def relayed_parts(transaction: DriverTransaction, message: str) -> set[str]:
    """Return the parts of `message` that the relay took on an earlier attempt."""
    cursor = transaction.execute(_SELECT, {"message": message})
    return {str(row[0]) for row in cursor.fetchall()}


def record_relayed(
    transaction: DriverTransaction, message: str, parts: list[str], at: datetime
) -> None:
    """Record that the relay took `parts` of `message` (a new record for each part)."""
    moment = as_utc(at)
    for part in parts:
        transaction.execute(_INSERT, {"message": message, "part": part, "at": moment})


def forget_relayed(transaction: DriverTransaction, messages: list[str]) -> None:
    """Delete every record of `messages` (transactions that were answered)."""
    for message in messages:
        transaction.execute(_DELETE, {"message": message})


def purge_relayed(session: Session, *, before: datetime) -> int:
    """Delete the records of mails relayed before `before`; return how many went."""
    result = session.execute(
        delete(RelayedMail)
        .where(RelayedMail.relayed_at < as_utc(before))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
