"""Corpus shapes of mail clients (filled in below)."""

from __future__ import annotations

from tests.corpus.build import Spec


def specs() -> list[Spec]:
    """Mail-client shapes."""
    return []
