"""Long lists of values sent to the database in ``IN (...)`` lists of a bounded length."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

_T = TypeVar("_T")
IN_CHUNK = 500
"""At most this many values in one ``IN (...)`` list."""


def in_chunks(values: Sequence[_T]) -> Iterable[Sequence[_T]]:
    """Yield `values` in slices of at most `IN_CHUNK`."""
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]
