"""Audit log search and CSV export; the dashboard's figures and health checks."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from flask.testing import FlaskClient

from portal.admin.dashboard import relay_check
from tests.admin.conftest import ADMIN, audit_actions, text_of
from tests.portal.conftest import first_login
from tests.portal.helpers import FakeClock, build_mail, seal
from tests.support.components import free_port
from tests.support.smtp import RecordingSink
from webcrypt.runtime import Runtime


def record(runtime: Runtime, action: str, actor: str, target: str = "", detail: str = "") -> None:
    with runtime.keystore.session() as session:
        runtime.keystore.audit(session).record(
            action, actor=actor, target=target, ip="10.1.2.3", detail=detail
        )


def table(response: object) -> str:
    """Return the text of the result table only."""
    html = response.get_data(as_text=True)  # type: ignore[attr-defined]
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def test_audit_search(admin_client: FlaskClient, runtime: Runtime, clock: FakeClock) -> None:
    record(runtime, "recipient.delete", ADMIN, "alt@example.com")
    record(runtime, "settings.update", ADMIN, detail="changed: trigger_word")
    record(runtime, "portal.login", "kunde@example.com")
    text = table(admin_client.get("/admin/audit?q=alt@example"))
    assert "recipient.delete" in text and "portal.login" not in text
    text = table(admin_client.get("/admin/audit?action=settings."))
    assert "trigger_word" in text and "recipient.delete" not in text
    # LIKE wildcards are taken literally.
    assert "No entries match." in table(admin_client.get("/admin/audit?q=%25%25_"))
    today = clock.now.date().isoformat()
    tomorrow = (clock.now + timedelta(days=1)).date().isoformat()
    assert "recipient.delete" in table(
        admin_client.get(f"/admin/audit?since={today}&until={today}")
    )
    assert "No entries match." in table(admin_client.get(f"/admin/audit?since={tomorrow}"))


def test_audit_date_errors(admin_client: FlaskClient) -> None:
    response = admin_client.get("/admin/audit?since=yesterday")
    assert response.status_code == 400
    assert "Use the form YYYY-MM-DD." in text_of(response)


def test_audit_csv_export(admin_client: FlaskClient, runtime: Runtime) -> None:
    record(runtime, "recipient.unlock", ADMIN, '=HYPERLINK("http://evil")', detail="+cmd")
    response = admin_client.get("/admin/audit.csv?q=evil")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["time (UTC)", "action", "actor", "target", "ip", "detail"]
    assert len(rows) == 2
    assert rows[1][1:] == [
        "recipient.unlock",
        ADMIN,
        '\'=HYPERLINK("http://evil")',
        "10.1.2.3",
        "'+cmd",
    ]
    assert ("audit.export", ADMIN, "") in audit_actions(runtime)


def test_audit_log_cannot_be_changed_from_the_frontend(admin_client: FlaskClient) -> None:
    for method in ("post", "put", "delete", "patch"):
        assert getattr(admin_client, method)("/admin/audit").status_code in (400, 405)
        assert getattr(admin_client, method)("/admin/audit.csv").status_code in (400, 405)


def test_dashboard_figures(
    admin_client: FlaskClient, runtime: Runtime, client: FlaskClient
) -> None:
    sealed = seal(runtime, build_mail())
    seal(runtime, build_mail())
    first_login(client, sealed.pin)
    with runtime.keystore.session() as session:
        runtime.keystore.ledger(session).mark_opened(sealed.message_id, 1)
        runtime.keystore.recipients(session).get_or_create("zweiter@example.com", created_by=ADMIN)
        third, _pin = runtime.keystore.recipients(session).get_or_create(
            "dritter@example.com", created_by=ADMIN
        )
        runtime.keystore.recipients(session).set_status(third, "deactivated")
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert 'id="sealed-today">2<' in html and 'id="sealed-month">2<' in html
    assert 'id="opened-today">1<' in html
    assert 'id="accounts-active">2<' in html and 'id="accounts-deactivated">1<' in html
    assert 'id="accounts-locked">0<' in html
    text = text_of(admin_client.get("/admin/"))
    assert "Keystore database: OK" in text
    assert "Mail relay: OK" in text
    assert "Version 0." in text


def test_relay_checks() -> None:
    with RecordingSink() as sink:
        assert relay_check(sink.url, "relay").ok
    closed = relay_check(f"smtp://127.0.0.1:{free_port()}", "relay")
    assert not closed.ok and "does not answer" in closed.detail
    assert not relay_check("outbox:/proc/no-such-dir/outbox", "relay").ok
