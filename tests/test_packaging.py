"""The package builds quietly, and its wheel carries templates, translations and migrations."""

from __future__ import annotations

import compileall
import os
import shutil
import subprocess
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from build import ProjectBuilder
from build.env import DefaultIsolatedEnv

from tests.support.components import need

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("webcrypt", "portal", "keystore", "setup.cfg", "pyproject.toml", "README.md")


def _copy_source(target: Path) -> Path:
    """Copy what the build reads into `target`, compiled as a used worktree is."""
    ignore = shutil.ignore_patterns("*.egg-info")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, target / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, target / name)
    compileall.compile_dir(target, quiet=1)  # __pycache__ folders, as after a test run
    return target


def _build(source: Path, distribution: str, out: Path) -> tuple[Path, str]:
    """Build `distribution` ("wheel" or "editable") the way pip does; return it and its output."""
    output: list[str] = []

    def runner(
        cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        done = subprocess.run(
            cmd,
            cwd=cwd,
            env={**os.environ, **(extra_environ or {})},
            capture_output=True,
            text=True,
            timeout=600,
        )
        output.append(done.stdout + done.stderr)
        if done.returncode:
            raise subprocess.CalledProcessError(done.returncode, cmd, done.stdout, done.stderr)

    with DefaultIsolatedEnv() as env:
        builder = ProjectBuilder.from_isolated_env(env, source, runner=runner)
        try:
            env.install(builder.build_system_requires)
            env.install(builder.get_requires_for_build(distribution))
        except Exception as exc:  # no index to install setuptools from, for instance
            need(False, f"cannot install the build requirements here: {str(exc)[:300]}")
        # A warning of the backend can come back as the build's failure: that fails the test.
        built = Path(builder.build(distribution, out))
    return built, "\n".join(output)


@pytest.mark.slow
@pytest.mark.parametrize("distribution", ["wheel", "editable"])
def test_the_build_gives_no_warning(tmp_path: Path, distribution: str) -> None:
    source = _copy_source(tmp_path / "src")
    _built, output = _build(source, distribution, tmp_path / "dist")
    assert "BuildBackendWarning" not in output, output[-3000:]
    assert "absent from the `packages` configuration" not in output


@pytest.mark.slow
def test_the_wheel_carries_templates_translations_and_migrations(tmp_path: Path) -> None:
    source = _copy_source(tmp_path / "src")
    wheel, _output = _build(source, "wheel", tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        *(p.relative_to(ROOT).as_posix() for p in (ROOT / "webcrypt/templates").rglob("*.*")),
        *(p.relative_to(ROOT).as_posix() for p in (ROOT / "portal/templates").rglob("*.html")),
        *(p.relative_to(ROOT).as_posix() for p in (ROOT / "portal/static").rglob("*.*")),
        *(p.relative_to(ROOT).as_posix() for p in (ROOT / "portal/admin/templates").rglob("*.*")),
        *(p.relative_to(ROOT).as_posix() for p in (ROOT / "portal/translations").rglob("*.mo")),
        *(
            p.relative_to(ROOT).as_posix()
            for p in (ROOT / "keystore/migrations").rglob("*.py")
            if "__pycache__" not in p.parts
        ),
        "keystore/migrations/script.py.mako",
        "keystore/common-passwords.txt",
    }
    expected = {name for name in expected if "__pycache__" not in name}
    assert "portal/translations/de/LC_MESSAGES/messages.mo" in expected
    assert expected <= names, sorted(expected - names)
    assert not any(name.startswith(("tests/", "bench/")) for name in names)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
