"""Empty keystores on SQLite, migrated once per test process and copied for each test.

Running the migrations takes a good part of a second; copying the migrated file takes a
millisecond. The template holds no row that depends on a master key or a clock, so every
test may use it with keys and clocks of its own::

    url = migrated_sqlite(tmp_path / "keystore.db")
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from keystore.db import Keystore
from keystore.masterkey import MasterKey

_TEMPLATE: list[Path] = []
_COPIES: set[str] = set()
"""URLs of the copies this process made of the template (at the newest schema when made)."""


def _template() -> Path:
    """Return this process's migrated, empty keystore file (made on first use)."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="webcrypt-keystore-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "keystore.db"
        keystore = Keystore(f"sqlite:///{path}", master_key=MasterKey.generate())
        keystore.upgrade()
        keystore.dispose()
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


def migrated_sqlite(path: Path) -> str:
    """Return the URL of a keystore at `path`: one made earlier, else an empty one (mode 0600).

    The empty one is at the newest schema, as if `Keystore.upgrade` had just run on it.
    """
    url = f"sqlite:///{path}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(_template(), path)
        _COPIES.add(url)
    return url


def is_fresh_copy(url: str) -> bool:
    """Tell whether `url` is a copy of the migrated template made by `migrated_sqlite`.

    Such a keystore needs no `Keystore.upgrade`, which reads every migration script to find
    that there is nothing to do (about 20 ms for each runtime a test builds).
    """
    return url in _COPIES


@contextmanager
def upgraded_from(
    url: str,
    revision: str,
    sql: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    master_key: MasterKey | None = None,
    **options: Any,
) -> Iterator[Keystore]:
    """Yield a keystore on `url` that was at `revision` with `sql` run on it, then upgraded
    to the newest schema; dispose of it afterwards. `options` go to `Keystore`."""
    keystore = Keystore(url, master_key=master_key or MasterKey.generate(), **options)
    try:
        keystore.upgrade(revision)
        with keystore.engine.begin() as connection:
            connection.execute(text(sql), dict(parameters or {}))
        keystore.upgrade()
        yield keystore
    finally:
        keystore.dispose()
