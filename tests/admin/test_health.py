"""/healthz, /readyz and /metrics: what they check and who may read them."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import text

from keystore.masterkey import MasterKey
from portal import create_app
from tests.admin.conftest import password_step
from tests.portal.conftest import TEST_CONFIG, login, make_runtime
from tests.portal.helpers import FakeClock, build_mail, seal
from tests.support.components import free_port
from webcrypt.config.loader import load_config
from webcrypt.runtime import Runtime

REMOTE = {"REMOTE_ADDR": "192.0.2.10"}


def test_healthz_needs_nothing(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_when_ready(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["migrations"] == "current"


def assert_not_ready(runtime: Runtime, check: str, state: str) -> None:
    """/readyz answers 503 with `check` in `state`, while /healthz still answers 200."""
    client = create_app(runtime, dict(TEST_CONFIG)).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json[check] == state
    assert client.get("/healthz").status_code == 200


def test_readyz_with_pending_migrations(tmp_path: Path, clock: FakeClock) -> None:
    runtime = make_runtime(tmp_path, clock)
    try:
        # Pretend a newer release added a migration this database has not had yet.
        with runtime.keystore.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        assert_not_ready(runtime, "migrations", "outdated")
    finally:
        runtime.close()


def test_readyz_without_a_database(tmp_path: Path, clock: FakeClock) -> None:
    config = load_config(
        environ={
            "WEBCRYPT_KEYSTORE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none",
            "WEBCRYPT_KEYSTORE_MASTER_KEY_FILE": str(tmp_path / "master.key"),
            "WEBCRYPT_FILTER_RELAY": f"outbox:{tmp_path / 'outbox'}",
        }
    )
    runtime = Runtime(config, clock=clock, master_key=MasterKey.generate(), settings_ttl=0)
    try:
        assert_not_ready(runtime, "database", "unreachable")
    finally:
        runtime.close()


def test_metrics_from_loopback(client: FlaskClient, runtime: Runtime) -> None:
    sealed = seal(runtime, build_mail())
    assert sealed.pin
    login(client, password="wrong password for the metrics")
    password_step(client, "nobody@bank.example", "wrong")
    response = client.get("/metrics")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'webcrypt_portal_logins_total{outcome="failed"}' in body
    assert 'webcrypt_admin_logins_total{outcome="failed"}' in body
    assert "webcrypt_admin_actions_total" in body


def test_metrics_refused_from_elsewhere(client: FlaskClient) -> None:
    assert client.get("/metrics", environ_base=REMOTE).status_code == 403
    # A reverse proxy on the same host does not make a visitor local.
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.10"})
    assert proxied.status_code == 403
    bearer = client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer x"})
    assert bearer.status_code == 403


def test_metrics_with_a_token(tmp_path: Path, clock: FakeClock) -> None:
    runtime = make_runtime(tmp_path, clock, WEBCRYPT_PORTAL_METRICS_TOKEN="s3cret-token")
    try:
        client = create_app(runtime, dict(TEST_CONFIG)).test_client()
        good = {"Authorization": "Bearer s3cret-token"}
        assert client.get("/metrics", environ_base=REMOTE, headers=good).status_code == 200
        bad = {"Authorization": "Bearer wrong-token"}
        assert client.get("/metrics", environ_base=REMOTE, headers=bad).status_code == 403
        assert client.get("/metrics", environ_base=REMOTE).status_code == 403
    finally:
        runtime.close()


def sample(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_count_logins_opens_and_admin_actions(
    client: FlaskClient, runtime: Runtime
) -> None:
    from tests.portal.conftest import first_login

    before = {
        "login_ok": sample("webcrypt_portal_logins_total", outcome="ok"),
        "login_failed": sample("webcrypt_portal_logins_total", outcome="failed"),
        "open_ok": sample("webcrypt_portal_opens_total", outcome="ok"),
    }
    sealed = seal(runtime, build_mail())
    assert sealed.pin
    first_login(client, sealed.pin, envelope=sealed.armored)
    login(client, password="not the password at all")
    assert sample("webcrypt_portal_logins_total", outcome="ok") == before["login_ok"] + 1
    assert sample("webcrypt_portal_logins_total", outcome="failed") == before["login_failed"] + 1
    assert sample("webcrypt_portal_opens_total", outcome="ok") == before["open_ok"] + 1
