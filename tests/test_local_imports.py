"""Imports sit at the top of a module; one inside a function says why it is there.

A function-level import is kept only to break an import cycle ("cycle: ...") or to
load a heavy or optional dependency only where it is needed; its reason is a comment
on the import's line or on the line above it (one comment serves a run of imports
that follow each other). Module-level ``if TYPE_CHECKING:`` blocks are not inside a
function and need nothing.
"""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import textwrap
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("keystore", "webcrypt", "portal")

Import = ast.Import | ast.ImportFrom


def function_imports(tree: ast.Module) -> Iterator[list[Import]]:
    """Yield each run of consecutive import statements found inside a function body."""
    seen: set[int] = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            for field in ("body", "orelse", "finalbody", "handlers"):
                statements = getattr(node, field, None)
                if not isinstance(statements, list):
                    continue
                run: list[Import] = []
                for statement in [*statements, None]:
                    if isinstance(statement, Import) and id(statement) not in seen:
                        seen.add(id(statement))
                        run.append(statement)
                        continue
                    if run:
                        yield run
                    run = []


def comment_lines(source: str) -> tuple[set[int], set[int]]:
    """Return (lines with a comment, lines that are only a comment)."""
    anywhere: set[int] = set()
    alone: set[int] = set()
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            line = token.start[0]
            anywhere.add(line)
            if lines[line - 1].lstrip().startswith("#"):
                alone.add(line)
    return anywhere, alone


def unexplained_imports(source: str, filename: str) -> list[str]:
    """Return `file:line: import` for every function-level import without a reason."""
    tree = ast.parse(source, filename=filename)
    anywhere, alone = comment_lines(source)
    found = []
    for run in function_imports(tree):
        if run[0].lineno - 1 in alone:
            continue
        for statement in run:
            if statement.lineno not in anywhere:
                found.append(f"{filename}:{statement.lineno}: {ast.unparse(statement)}")
    return found


def test_imports_inside_functions_say_why() -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            found += unexplained_imports(source, str(path.relative_to(ROOT)))
    assert not found, "move these imports to the top, or say why they stay:\n" + "\n".join(found)


def test_the_check_finds_a_silent_import_and_accepts_a_reason() -> None:
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from os import PathLike

        def silent():
            import json
            return json

        def explained():
            # cycle: b imports this module.
            import b
            import c
            from d import e  # heavy, loaded on purpose
            return b, c, e

        class K:
            def method(self):
                try:
                    import f
                except ImportError:
                    return None
        """
    )
    assert unexplained_imports(source, "m.py") == ["m.py:8: import json", "m.py:21: import f"]


def test_help_loads_neither_flask_nor_aiosmtpd() -> None:
    """What the kept imports in `webcrypt.cli.main` are for: `--help` stays light."""
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom webcrypt.cli.main import main\n"
        "assert CliRunner().invoke(main, ['--help']).exit_code == 0\n"
        "print(sorted(name for name in ('flask', 'aiosmtpd', 'alembic') if name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"
