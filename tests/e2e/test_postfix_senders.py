"""The guide's sender restrictions in a real Postfix: outsiders cannot claim internal senders.

The filter takes MAIL FROM as the adviser who gets the PIN; these blocks of docs/postfix.md
make Postfix refuse an internal envelope sender from any client that is neither on
``mynetworks`` nor logged in. Here ``mynetworks`` is 127.0.0.1 alone, the outsider connects
from 127.0.0.2, and Postfix takes mail for bank.example from anyone, as an inbound MX does
(an alias there could expand to an external address before the filter).
"""

from __future__ import annotations

import smtplib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.components import need_program
from tests.support.postfix import PostfixInstance, doc_snippets
from tests.support.smtp import RecordingSink

pytestmark = pytest.mark.postfix

ADVISER = "adviser@bank.example"
CUSTOMER = "customer@example.com"
ALIAS = "partners@bank.example"
MESSAGE = f"From: {ADVISER}\r\nTo: {ALIAS}\r\nSubject: WebCrypt\r\n\r\nHello.\r\n"


@pytest.fixture
def mta() -> Iterator[PostfixInstance]:
    postmap = need_program("/usr/sbin/postmap")
    snippets = doc_snippets()
    maps = Path(tempfile.mkdtemp(prefix="webcrypt-postfix-maps-"))
    maps.chmod(0o755)
    (maps / "internal_senders").write_text(snippets["internal_senders"], encoding="utf-8")
    (maps / "sender_logins").write_text(f"{ADVISER}  adviser\n", encoding="utf-8")
    # postmap reads a main.cf: give it one here, so /etc/postfix need not have any.
    (maps / "main.cf").write_text("compatibility_level = 3.6\n", encoding="utf-8")
    for name in ("internal_senders", "sender_logins"):
        subprocess.run([postmap, "-c", str(maps), f"hash:{maps / name}"], check=True)
    senders = snippets["main.cf-senders"].replace("/etc/postfix/", f"{maps}/")
    with RecordingSink() as sink:
        instance = PostfixInstance(
            relay_port=sink.port,
            main_override=f"\n{senders}\nmynetworks = 127.0.0.1/32\nrelay_domains = bank.example\n",
        )
        with instance:
            yield instance
    subprocess.run(["rm", "-rf", str(maps)], check=True)


def send_from(source: str, port: int, mail_from: str, to: str = ALIAS) -> tuple[int, str]:
    """Send one message from the loopback address `source`; return the refusal, if any."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(source, 0)) as client:
        try:
            client.sendmail(mail_from, [to], MESSAGE)
        except smtplib.SMTPRecipientsRefused as refused:
            code, text = refused.recipients[to]
            return code, text.decode()
    return 250, ""


def test_an_outsider_cannot_use_an_internal_envelope_sender(mta: PostfixInstance) -> None:
    code, text = send_from("127.0.0.2", mta.smtp_port, ADVISER)
    assert code == 554, text
    assert "Mail from bank.example is only accepted from the company network or after login" in text
    # A subdomain is refused alike (parent_domain_matches_subdomains).
    code, text = send_from("127.0.0.2", mta.smtp_port, "x@mail.bank.example")
    assert code == 554 and "only accepted from the company network" in text


def test_inbound_mail_from_outside_still_arrives(mta: PostfixInstance) -> None:
    assert send_from("127.0.0.2", mta.smtp_port, "someone@other.example") == (250, "")


def test_the_company_network_may_send_as_the_adviser(mta: PostfixInstance) -> None:
    assert send_from("127.0.0.1", mta.smtp_port, ADVISER, to=CUSTOMER) == (250, "")
