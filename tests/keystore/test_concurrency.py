"""Many filter instances creating the same new recipient at once end with one account."""

import threading

from sqlalchemy import func, select

from keystore.db import Keystore
from keystore.masterkey import MasterKey
from keystore.models import Recipient, RecipientKey
from tests.keystore.conftest import FakeClock, fast_hasher
from tests.support.threads import run_at_once

THREADS = 16


def test_get_or_create_from_many_threads(
    keystore: Keystore, keystore_url: str, master_key: MasterKey, clock: FakeClock
) -> None:
    ks = Keystore(
        keystore_url,
        master_key=master_key,
        clock=clock,
        hasher=fast_hasher(),
        engine_options={"pool_size": THREADS, "max_overflow": 0},
    )
    # Open every pooled connection first, so the threads race on the rows, not on connecting.
    warm = [ks.engine.connect() for _ in range(THREADS)]
    for connection in warm:
        connection.close()
    barrier = threading.Barrier(THREADS)
    results: list[tuple[int, str | None]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            with ks.session() as session:
                service = ks.recipients(session)
                barrier.wait(timeout=30)
                recipient, pin = service.get_or_create("race@example.com", created_by="a@bank")
                outcome = (recipient.id, pin)
            with lock:
                results.append(outcome)
        except BaseException as exc:  # reported below, with the thread's traceback
            with lock:
                errors.append(exc)

    run_at_once([worker] * THREADS, timeout=120)
    ks.dispose()
    assert errors == []
    assert len(results) == THREADS
    assert len({recipient_id for recipient_id, _ in results}) == 1
    assert len([pin for _, pin in results if pin is not None]) == 1
    with keystore.session() as session:
        assert session.scalar(select(func.count()).select_from(Recipient)) == 1
        assert session.scalar(select(func.count()).select_from(RecipientKey)) == 1
