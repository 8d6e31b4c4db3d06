"""The customer's choice of delivery method in the profile, when the operator allows it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.portal.conftest import TEST_CONFIG, first_login, guarded_runtime
from tests.portal.helpers import CUSTOMER, FakeClock, build_mail, csrf_token, seal
from webcrypt.runtime import Runtime


def _method(runtime: Runtime) -> str | None:
    with runtime.keystore.session() as session:
        recipient = runtime.keystore.recipients(session).get(CUSTOMER)
        return recipient.delivery_method


def _checked(page: str) -> str:
    """The checked choice of the delivery method (the security question is radios too)."""
    tags = re.findall(r"<input[^>]*>", page)
    found = [tag for tag in tags if 'name="delivery-method"' in tag and "checked" in tag]
    assert len(found) == 1, found
    match = re.search(r'value="([^"]+)"', found[0])
    assert match
    return match.group(1)


def _choose(client: FlaskClient, method: str):  # type: ignore[no-untyped-def]
    page = client.get("/profile")
    return client.post(
        "/profile/delivery",
        data={"delivery-csrf_token": csrf_token(page.data), "delivery-method": method},
    )


@pytest.fixture
def choosing(tmp_path: Path) -> Iterator[tuple[Runtime, FlaskClient]]:
    from portal import create_app

    environ = {"WEBCRYPT_PORTAL_DELIVERY_CHOICE": "true"}
    with guarded_runtime(tmp_path, FakeClock(), **environ) as built:
        client = create_app(built, dict(TEST_CONFIG)).test_client()
        sealed = seal(built, build_mail())
        first_login(client, str(sealed.pin))
        yield built, client


def test_customer_chooses_the_mailbox_and_back(choosing) -> None:  # type: ignore[no-untyped-def]
    runtime, client = choosing
    page = client.get("/profile").get_data(as_text=True)
    assert "Receiving secure messages" in page
    assert _checked(page) == "default"
    response = _choose(client, "mailbox")
    assert response.status_code == 302
    assert _method(runtime) == "mailbox"
    assert _checked(client.get("/profile").get_data(as_text=True)) == "mailbox"
    assert _choose(client, "both").status_code == 302 and _method(runtime) == "both"
    assert _choose(client, "default").status_code == 302 and _method(runtime) is None
    with runtime.keystore.session() as session:
        actions = [row.action for row in runtime.keystore.audit(session).search()]
    assert actions.count("portal.delivery_changed") == 3


def test_unknown_method_is_refused(choosing) -> None:  # type: ignore[no-untyped-def]
    runtime, client = choosing
    response = _choose(client, "carrier-pigeon")
    assert response.status_code == 400
    assert _method(runtime) is None


def test_without_csrf_nothing_changes(choosing) -> None:  # type: ignore[no-untyped-def]
    runtime, client = choosing
    response = client.post("/profile/delivery", data={"delivery-method": "mailbox"})
    assert response.status_code == 400
    assert _method(runtime) is None


def test_not_offered_unless_the_operator_allows(logged_in: FlaskClient, runtime) -> None:
    assert "Receiving secure messages" not in logged_in.get("/profile").get_data(as_text=True)
    response = _choose(logged_in, "mailbox")
    assert response.status_code == 302
    assert _method(runtime) is None
