"""First checks: the app starts, pages render, a message can be read."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.portal.conftest import first_login
from tests.portal.helpers import build_mail, seal


def test_start_page_renders(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b"secure.htm" in response.data


def test_open_login_with_pin_and_read(client: FlaskClient, runtime) -> None:
    sealed = seal(runtime, build_mail(body="Hallo Welt, geheim"))
    response = client.post("/open", data={"envelope": sealed.armored}, headers={"Origin": "null"})
    assert response.status_code == 200
    assert b'name="email"' in response.data
    response = first_login(client, sealed.pin, envelope=sealed.armored)
    assert response.status_code == 200, response.data[:3000]
    assert "Hallo Welt, geheim" in response.get_data(as_text=True)
