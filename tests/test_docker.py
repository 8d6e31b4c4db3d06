"""The Dockerfile and compose.yaml, checked without a Docker engine.

The files are parsed and held to the rules of the image (multi-stage, non-root,
runtime dependencies only, HEALTHCHECK on /healthz, no secrets), and the
image's entry commands run here as plain processes with the environment the
compose file gives them, so a broken command or variable shows up in the suite.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.processes import (
    WebcryptProcess,
    fresh_database,
    http_status,
    new_secret,
)
from tests.support.cli import clean_environment
from tests.support.components import free_port, need, port_open
from tests.support.postfix import doc_snippets

ROOT = Path(__file__).resolve().parents[1]
SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD|TOKEN)$", re.I)
URL_PASSWORD = re.compile(r"://[^/@:]+:([^@]+)@")


# -- Dockerfile ----------------------------------------------------------------------------


def dockerfile_instructions(path: Path = ROOT / "Dockerfile") -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending = f"{pending} {line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        keyword, _, rest = pending.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def stages() -> list[list[tuple[str, str]]]:
    """Split the instructions into build stages (each starting with FROM)."""
    found: list[list[tuple[str, str]]] = []
    for instruction in dockerfile_instructions():
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def exec_form(arguments: str) -> list[str]:
    """Parse a JSON exec-form argument list (the only form the image uses)."""
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(item, str) for item in value)
    return value


def runtime_stage() -> list[tuple[str, str]]:
    """The last stage: what the image really is."""
    return stages()[-1]


def single(stage: list[tuple[str, str]], keyword: str) -> str:
    """Return the arguments of the one `keyword` instruction of `stage`."""
    found = [rest for name, rest in stage if name == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {found}"
    return found[0]


def image_environment() -> dict[str, str]:
    """The ENV of the runtime stage."""
    env: dict[str, str] = {}
    for name, rest in runtime_stage():
        if name == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def test_build_is_multi_stage_and_the_runtime_gets_only_wheels() -> None:
    all_stages = stages()
    assert len(all_stages) >= 2
    build, runtime = all_stages[0], all_stages[-1]
    assert re.search(r"\bAS build$", build[0][1])
    assert "slim" in runtime[0][1]
    runs = " ".join(rest for name, rest in runtime if name == "RUN")
    assert "from=build" in runs and "--no-index" in runs
    assert not re.search(r"apt-get install|gcc|build-essential", runs)
    # The runtime stage copies nothing from the build context: sources stay in the build stage.
    assert not [rest for name, rest in runtime if name in {"COPY", "ADD"}]
    for name, rest in build:
        if name == "COPY":
            *sources, _target = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source not in {".", "var", ".venv", ".git"}


def test_runs_as_an_unprivileged_user() -> None:
    runtime = runtime_stage()
    user = single(runtime, "USER")
    assert user not in {"root", "0"} and not user.startswith("0:")
    names = [name for name, _ in runtime]
    assert names.index("USER") < names.index("ENTRYPOINT")


def test_healthcheck_asks_the_portal() -> None:
    check = single(runtime_stage(), "HEALTHCHECK")
    options, _, command = check.partition("CMD")
    assert "--interval" in options and "--timeout" in options
    assert "http://127.0.0.1:8080/healthz" in " ".join(exec_form(command.strip()))


def test_no_secret_is_baked_into_the_image() -> None:
    for name, rest in dockerfile_instructions():
        if name in {"ENV", "ARG"}:
            for item in shlex.split(rest):
                assert not SECRET_NAME.search(item.partition("=")[0]), item
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    # Everything is excluded first; only the packages and packaging files come back in.
    assert ignored[[line.strip() for line in ignored].index("**")] == "**"
    allowed = {line[1:].rstrip("/") for line in ignored if line.startswith("!")}
    assert allowed == {"setup.cfg", "pyproject.toml", "README.md", "keystore", "webcrypt", "portal"}
    assert "**/*.key" in ignored and "**/var/" in ignored


def test_entry_point_is_the_webcrypt_command() -> None:
    runtime = runtime_stage()
    assert exec_form(single(runtime, "ENTRYPOINT")) == ["webcrypt"]
    assert exec_form(single(runtime, "CMD")) in (["serve"], ["portal"])
    env = image_environment()
    assert env["WEBCRYPT_PORTAL_LISTEN"].endswith(":8080")
    assert all(key.startswith(("WEBCRYPT_", "PYTHON")) for key in env)


# -- compose.yaml --------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    """Load compose.yaml (anchors and merge keys resolved)."""
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


_VARIABLE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Expand ${NAME}, ${NAME:-default} and ${NAME:?error} as Compose does."""

    def expand(match: re.Match[str]) -> str:
        name, kind, extra = match.groups()
        if variables.get(name):
            return variables[name]
        if kind == "?":
            raise AssertionError(f"compose needs {name}: {extra}")
        return extra if kind == "-" else ""

    return _VARIABLE.sub(expand, value).replace("$$", "$")


def service_environment(name: str, variables: dict[str, str]) -> dict[str, str]:
    """The interpolated environment of service `name`."""
    environment = compose()["services"][name]["environment"]
    return {key: interpolate(str(value), variables) for key, value in environment.items()}


def test_compose_has_the_whole_gateway() -> None:
    services = compose()["services"]
    assert {"postfix", "filter", "portal", "postgres", "redis"} <= set(services)
    for name in ("filter", "portal", "init"):
        assert services[name]["build"] == "."
    # The filter sits beside the MTA on loopback, as docs/postfix.md assumes.
    assert services["filter"]["network_mode"] == "service:postfix"
    assert services["filter"]["healthcheck"]["test"][0] == "CMD"


def test_compose_takes_every_secret_from_the_environment() -> None:
    text = (ROOT / "compose.yaml").read_text()
    for name in ("WEBCRYPT_KEYSTORE_MASTER_KEY", "WEBCRYPT_PORTAL_SECRET_KEY", "POSTGRES_PASSWORD"):
        assert re.search(rf"\$\{{{name}:\?", text), name
    for service in ("filter", "portal"):
        environment = compose()["services"][service]["environment"]
        for key, value in environment.items():
            if SECRET_NAME.search(key):
                assert str(value).startswith("${"), key
            password = URL_PASSWORD.search(str(value))
            assert password is None or password[1].startswith("${"), key


def test_compose_postfix_uses_the_guides_blocks() -> None:
    configs = compose()["configs"]
    snippets = doc_snippets()

    def settings(text: str) -> list[str]:
        return [
            line.rstrip()
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]

    assert settings(configs["postfix-main"]["content"]) == settings(snippets["main.cf"])
    assert settings(configs["postfix-master"]["content"]) == settings(snippets["master.cf"])
    toml = snippets["webcrypt.toml"]
    filter_env = compose()["services"]["filter"]["environment"]
    assert f'"{filter_env["WEBCRYPT_FILTER_LISTEN"]}"' in toml
    assert f'"{filter_env["WEBCRYPT_FILTER_RELAY"]}"' in toml


# -- the entry commands, run outside Docker ------------------------------------------------


def local_environment(service: str, tmp_path: Path, database_url: str) -> dict[str, str]:
    """The compose environment of `service`, pointed at this machine's servers."""
    variables = {
        "POSTGRES_PASSWORD": "unused-here",
        "WEBCRYPT_KEYSTORE_MASTER_KEY": new_secret(),
        "WEBCRYPT_PORTAL_SECRET_KEY": new_secret(),
    }
    env = {**image_environment(), **service_environment(service, variables)}
    assert env["WEBCRYPT_KEYSTORE_URL"].startswith("postgresql+psycopg://webcrypt:unused-here@")
    env["WEBCRYPT_KEYSTORE_URL"] = database_url
    env["WEBCRYPT_PORTAL_RATELIMIT_STORAGE"] = env["WEBCRYPT_PORTAL_RATELIMIT_STORAGE"].replace(
        "redis://redis:", "redis://127.0.0.1:"
    )
    env["WEBCRYPT_GENERAL_DATA_DIR"] = str(tmp_path)
    return clean_environment(**env)


@pytest.fixture
def compose_database() -> Iterator[str]:
    """A fresh PostgreSQL database, as the compose file's `postgres` service would be."""
    need(port_open("127.0.0.1", 5432), "PostgreSQL is not running on 127.0.0.1:5432")
    with fresh_database("postgresql") as url:
        yield url


def run_healthcheck(command: list[str], env: dict[str, str]) -> int:
    """Run a container health check command here; python means the suite's interpreter."""
    if command[0] == "python":
        command = [sys.executable, *command[1:]]
    return subprocess.run(command, env=env, timeout=30, check=False).returncode


@pytest.mark.slow
def test_portal_service_starts_and_is_healthy(tmp_path: Path, compose_database: str) -> None:
    need(port_open("127.0.0.1", 6379), "Redis is not running on 127.0.0.1:6379")
    init_env = local_environment("init", tmp_path, compose_database)
    command = compose()["services"]["init"]["command"]
    init = WebcryptProcess(command, init_env, tmp_path / "init.log").start()
    assert init.wait(60) == 0, init.log()

    port = free_port()
    env = local_environment("portal", tmp_path, compose_database)
    env["WEBCRYPT_KEYSTORE_MASTER_KEY"] = init_env["WEBCRYPT_KEYSTORE_MASTER_KEY"]
    assert env["WEBCRYPT_PORTAL_LISTEN"] == "0.0.0.0:8080"
    env["WEBCRYPT_PORTAL_LISTEN"] = f"127.0.0.1:{port}"
    portal = WebcryptProcess(compose()["services"]["portal"]["command"], env, tmp_path / "p.log")
    portal.start()
    try:
        portal.wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        healthcheck = exec_form(single(runtime_stage(), "HEALTHCHECK").partition("CMD")[2])
        healthcheck = [part.replace(":8080/", f":{port}/") for part in healthcheck]
        assert run_healthcheck(healthcheck, env) == 0
    finally:
        assert portal.stop() == 0, portal.log()


@pytest.mark.slow
def test_filter_service_starts_and_is_healthy(tmp_path: Path, compose_database: str) -> None:
    master_key = new_secret()
    env = local_environment("filter", tmp_path, compose_database)
    env["WEBCRYPT_KEYSTORE_MASTER_KEY"] = master_key
    init = WebcryptProcess(["init"], env, tmp_path / "init.log").start()
    assert init.wait(60) == 0, init.log()
    port = free_port()
    env["WEBCRYPT_FILTER_LISTEN"] = f"127.0.0.1:{port}"
    command = compose()["services"]["filter"]["command"]
    filter_process = WebcryptProcess(command, env, tmp_path / "filter.log").start()
    try:
        filter_process.wait_smtp(port, timeout=60)
        test = compose()["services"]["filter"]["healthcheck"]["test"][1:]
        assert run_healthcheck([part.replace("10025", str(port)) for part in test], env) == 0
    finally:
        assert filter_process.stop() == 0, filter_process.log()


def serving_environment(tmp_path: Path) -> tuple[dict[str, str], int]:
    """The image's environment for `webcrypt serve` with its data under `tmp_path` and free
    loopback ports; return it and the portal's port."""
    port = free_port()
    env = clean_environment(**image_environment())
    env["WEBCRYPT_GENERAL_DATA_DIR"] = str(tmp_path / "data")
    env["WEBCRYPT_PORTAL_LISTEN"] = f"127.0.0.1:{port}"
    env["WEBCRYPT_FILTER_LISTEN"] = f"127.0.0.1:{free_port()}"
    return env, port


@pytest.mark.slow
def test_default_command_serves_with_the_image_environment(tmp_path: Path) -> None:
    env, port = serving_environment(tmp_path)
    command = exec_form(single(runtime_stage(), "CMD"))
    serve = WebcryptProcess(command, env, tmp_path / "serve.log").start()
    try:
        serve.wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        assert http_status(f"http://127.0.0.1:{port}/healthz") == 200
    finally:
        assert serve.stop() == 0, serve.log()


@pytest.mark.slow
def test_runtime_stage_runs_from_the_wheels_alone(tmp_path: Path) -> None:
    """Replay both stages without Docker: wheels built, installed offline, the image's command."""
    wheels, venv, source = tmp_path / "wheels", tmp_path / "venv", tmp_path / "src"
    # The build context as the build stage's COPY instructions lay it out (WORKDIR = source).
    for name, rest in stages()[0]:
        if name != "COPY":
            continue
        *items, target = rest.split()
        base = source / target.removeprefix("./").rstrip("/")
        for item in items:
            if (ROOT / item).is_dir():
                ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
                shutil.copytree(ROOT / item, base, ignore=ignore)
            else:
                base.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / item, base / Path(item).name if target.endswith("/") else base)
    build = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheels)),
            f"{source}[postgresql,mariadb,redis]",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    need(build.returncode == 0, f"pip cannot build the wheels here: {build.stderr[-500:]}")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = [str(venv / "bin" / "pip"), "install", "--quiet", "--no-index"]
    install += ["--find-links", str(wheels), "webcrypt[postgresql,mariadb,redis]"]
    subprocess.run(install, check=True, timeout=600)

    env, port = serving_environment(tmp_path)
    entry = exec_form(single(runtime_stage(), "ENTRYPOINT"))
    command = [str(venv / "bin" / entry[0]), *exec_form(single(runtime_stage(), "CMD"))]
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while http_status(f"http://127.0.0.1:{port}/healthz") != 200:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        # Templates, translations and migrations came along in the wheel.
        assert http_status(f"http://127.0.0.1:{port}/") == 200
        assert http_status(f"http://127.0.0.1:{port}/readyz") == 200
    finally:
        process.terminate()
        assert process.wait(30) == 0, (tmp_path / "serve.log").read_text()
        log.close()


@pytest.mark.slow
def test_housekeeping_service_runs_once_cleanly(tmp_path: Path, compose_database: str) -> None:
    service = compose()["services"]["housekeeping"]
    assert service["entrypoint"] == ["sh", "-c"]
    loop = service["command"][0]
    assert "webcrypt housekeeping --quiet" in loop and "sleep" in loop
    env = local_environment("housekeeping", tmp_path, compose_database)
    init = WebcryptProcess(["init"], env, tmp_path / "init.log").start()
    assert init.wait(60) == 0, init.log()
    once = WebcryptProcess(["housekeeping", "--quiet"], env, tmp_path / "hk.log").start()
    assert once.wait(120) == 0, once.log()
