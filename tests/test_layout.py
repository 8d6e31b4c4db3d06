"""The layout reads like the architecture: documented packages, no module name used twice."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("webcrypt", "portal", "keystore")

# One per package by design: each package's own errors, forms and metrics.
SHARED_NAMES = {"__init__", "errors", "forms", "metrics"}


def _modules() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or "translations" in parts:
                continue
            found.append(path)
    return found


def test_no_two_modules_share_a_name() -> None:
    places: dict[str, list[str]] = defaultdict(list)
    for path in _modules():
        places[path.stem].append(str(path.relative_to(ROOT)))
    shared = {
        name: paths for name, paths in places.items() if len(paths) > 1 and name not in SHARED_NAMES
    }
    assert not shared, f"module names used in more than one place: {shared}"


def test_every_package_says_what_it_owns() -> None:
    undocumented = []
    for path in _modules():
        if path.name != "__init__.py":
            continue
        docstring = ast.get_docstring(ast.parse(path.read_text("utf-8")))
        if not docstring or len(docstring.split()) < 6:
            undocumented.append(str(path.relative_to(ROOT)))
    assert not undocumented, f"packages without a docstring saying what they own: {undocumented}"
