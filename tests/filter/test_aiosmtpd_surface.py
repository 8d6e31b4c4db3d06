"""The parts of aiosmtpd below its public API that the filter's server classes rely on.

`webcrypt.smtp.server` and `webcrypt.smtp.lmtp` override `_getaddr` and `_call_handler_hook`, call
`_set_post_data_state`, and read DATA from `_reader` / write to `_writer`. setup.cfg pins
aiosmtpd below its next minor release; when that pin is raised, these tests say at once
which of those names moved, instead of a filter that answers 500 or hangs in production.
"""

from __future__ import annotations

import asyncio
import inspect
import smtplib
from importlib.metadata import version

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import MISSING, SMTP, Envelope

from tests.filter.conftest import Harness
from webcrypt.smtp.lmtp import PerRecipientReplies
from webcrypt.smtp.server import FilterLMTP, FilterSMTP


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_installed_aiosmtpd_is_the_pinned_minor_release() -> None:
    major, minor, *_ = (int(part) for part in version("aiosmtpd").split(".")[:3])
    assert (major, minor) == (1, 4), "re-check webcrypt/smtp/server.py before raising the pin"


def test_the_private_methods_we_override_or_call_keep_their_signatures() -> None:
    assert parameters(SMTP._getaddr) == ["self", "arg"]
    assert parameters(SMTP._set_post_data_state) == ["self"]
    assert parameters(SMTP._call_handler_hook) == ["self", "command", "args"]
    assert inspect.iscoroutinefunction(SMTP._call_handler_hook)
    assert parameters(SMTP.smtp_DATA) == ["self", "arg"]
    assert parameters(SMTP.check_auth_needed) == ["self", "caller_method"]
    assert MISSING is not None


def test_getaddr_still_returns_address_and_parameters() -> None:
    """Our fast path must answer like the method it stands in for."""
    server = SMTP(object())
    assert server._getaddr("<a@bank.example> SIZE=10") == ("a@bank.example", "SIZE=10")
    assert server._getaddr("<a@bank.example>") == ("a@bank.example", "")
    assert FilterSMTP._getaddr is not SMTP._getaddr


def test_our_own_names_do_not_shadow_anything_of_aiosmtpd() -> None:
    for name in ("_data", "filter", "_replies_due", "read_data"):
        assert not hasattr(SMTP, name), name
        assert not hasattr(LMTP, name), name


def test_the_method_resolution_order_puts_our_overrides_first() -> None:
    order = FilterLMTP.__mro__
    assert order.index(PerRecipientReplies) < order.index(LMTP) < order.index(FilterSMTP)
    assert FilterLMTP._call_handler_hook is PerRecipientReplies._call_handler_hook
    assert FilterLMTP.smtp_DATA is FilterSMTP.smtp_DATA


def test_a_connection_has_the_reader_writer_and_session_we_use(harness: Harness) -> None:
    with smtplib.SMTP("127.0.0.1", harness.server.port, timeout=30) as client:
        client.ehlo()
        (connection,) = harness.server._connections
        assert isinstance(connection._reader, asyncio.StreamReader)
        assert isinstance(connection._writer, asyncio.StreamWriter)
        assert connection.session is not None
        host, port = connection.session.peer[:2]
        assert host == "127.0.0.1" and port == client.sock.getsockname()[1]
        assert isinstance(connection.envelope, Envelope)
        assert {"original_content", "mail_from", "rcpt_tos", "rcpt_options"} <= set(
            vars(connection.envelope)
        )
