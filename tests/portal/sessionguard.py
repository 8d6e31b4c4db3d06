"""A test guard: one keystore session at a time per thread, and no page rendered inside one.

On SQLite every session takes the write lock (BEGIN IMMEDIATE), so a second session opened
by the same thread waits out the busy timeout behind the first one. Rendering a page can
read the settings or pick a language, so pages are rendered only after the session closed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import before_render_template

from webcrypt.runtime import Runtime


class NestedSession(AssertionError):
    """A keystore session was opened (or a page rendered) while another session was open."""


class SessionGuard:
    """Wrap a runtime's keystore so nesting raises NestedSession instead of waiting."""

    def __init__(self, runtime: Runtime) -> None:
        self.local = threading.local()
        keystore = runtime.keystore
        original = keystore.session

        @contextmanager
        def guarded() -> Iterator[Any]:
            if self.is_open():
                raise NestedSession("a keystore session was opened inside another one")
            self.local.open = True
            try:
                with original() as session:
                    yield session
            finally:
                self.local.open = False

        keystore.session = guarded  # type: ignore[method-assign]
        before_render_template.connect(self._on_render, weak=False)
        self.runtime = runtime

    def is_open(self) -> bool:
        """Tell whether this thread holds a keystore session."""
        return bool(getattr(self.local, "open", False))

    def _on_render(self, sender: Any, template: Any, context: Any, **extra: Any) -> None:
        if self.is_open():
            raise NestedSession(f"{template.name} was rendered inside a keystore session")

    def close(self) -> None:
        """Stop watching page renders."""
        before_render_template.disconnect(self._on_render)
