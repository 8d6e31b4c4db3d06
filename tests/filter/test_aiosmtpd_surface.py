"""The parts of aiosmtpd below its public API that the filter's server classes rely on.

Only `webcrypt.smtp.server` uses them, and it names them in `AIOSMTPD_PRIVATE`: it overrides
`_getaddr`, calls `_set_post_data_state`, and reads DATA from `_reader`. setup.cfg pins
aiosmtpd below its next minor release; when that pin is raised, these tests say at once
which of those names moved, instead of a filter that answers 500 or hangs in production.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import smtplib
from importlib.metadata import version
from pathlib import Path

import pytest
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope

import webcrypt
from tests.filter.conftest import Harness
from webcrypt.smtp import server as server_module
from webcrypt.smtp.server import AIOSMTPD_PRIVATE, FilterLMTP, FilterSMTP

PRIVATE_SIGNATURES = {
    "_getaddr": ["self", "arg"],
    "_set_post_data_state": ["self"],
}


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_the_installed_aiosmtpd_is_the_pinned_minor_release() -> None:
    major, minor, *_ = (int(part) for part in version("aiosmtpd").split(".")[:3])
    assert (major, minor) == (1, 4), "re-check webcrypt/smtp/server.py before raising the pin"


@pytest.mark.parametrize("name", sorted(PRIVATE_SIGNATURES))
def test_a_private_method_we_override_or_call_keeps_its_signature(name: str) -> None:
    method = getattr(SMTP, name, None)
    assert method is not None, f"aiosmtpd's SMTP has no {name} any more"
    assert parameters(method) == PRIVATE_SIGNATURES[name], f"aiosmtpd changed SMTP.{name}"


def test_the_public_methods_we_override_or_call_keep_their_signatures() -> None:
    assert parameters(SMTP.smtp_DATA) == ["self", "arg"]
    assert parameters(SMTP.check_auth_needed) == ["self", "caller_method"]
    assert parameters(SMTP.check_helo_needed) == ["self", "helo"]
    assert inspect.iscoroutinefunction(SMTP.push)


def test_every_private_member_used_is_listed_and_checked() -> None:
    """A new use of a private aiosmtpd member must be added to `AIOSMTPD_PRIVATE` and here."""
    assert set(AIOSMTPD_PRIVATE) == {*PRIVATE_SIGNATURES, "_reader"}
    source = Path(inspect.getfile(server_module)).read_text()
    for name in AIOSMTPD_PRIVATE:
        assert f".{name}" in source, f"{name} is no longer used: drop it from AIOSMTPD_PRIVATE"
    smtp_private = {name for name in vars(SMTP) if name.startswith("_") and not name.endswith("__")}
    used = {name for name in smtp_private if f".{name}(" in source or f".{name}," in source}
    assert used <= set(AIOSMTPD_PRIVATE), f"unlisted private aiosmtpd members: {used}"


def test_no_other_module_uses_aiosmtpd() -> None:
    """Only `webcrypt.smtp.server` and the handler it serves import aiosmtpd."""
    root = Path(webcrypt.__file__).parent

    def imports_aiosmtpd(path: Path) -> bool:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            if any(name.split(".")[0] == "aiosmtpd" for name in names):
                return True
        return False

    users = {str(path.relative_to(root)) for path in root.rglob("*.py") if imports_aiosmtpd(path)}
    assert users == {"smtp/server.py", "smtp/handler.py"}


def test_getaddr_still_returns_address_and_parameters() -> None:
    """Our fast path must answer like the method it stands in for."""
    server = SMTP(object())
    assert server._getaddr("<a@bank.example> SIZE=10") == ("a@bank.example", "SIZE=10")
    assert server._getaddr("<a@bank.example>") == ("a@bank.example", "")
    assert FilterSMTP._getaddr is not SMTP._getaddr


def test_our_own_names_do_not_shadow_anything_of_aiosmtpd() -> None:
    for name in ("_data", "filter", "_replies_due", "read_data", "hang_up", "push_data_reply"):
        assert not hasattr(SMTP, name), name
        assert not hasattr(LMTP, name), name


def test_the_method_resolution_order_puts_our_overrides_first() -> None:
    order = FilterLMTP.__mro__
    assert order.index(LMTP) < order.index(FilterSMTP) < order.index(SMTP)
    assert FilterLMTP.smtp_DATA is FilterSMTP.smtp_DATA
    assert FilterLMTP.smtp_LHLO is LMTP.smtp_LHLO


def test_a_connection_has_the_reader_writer_and_session_we_use(harness: Harness) -> None:
    with smtplib.SMTP("127.0.0.1", harness.server.port, timeout=30) as client:
        client.ehlo()
        (connection,) = harness.server._connections
        assert isinstance(connection._reader, asyncio.StreamReader), "SMTP._reader moved"
        assert isinstance(connection.transport, asyncio.Transport)
        assert connection.session is not None
        host, port = connection.session.peer[:2]
        assert host == "127.0.0.1" and port == client.sock.getsockname()[1]
        assert isinstance(connection.envelope, Envelope)
        assert {"original_content", "mail_from", "rcpt_tos", "rcpt_options"} <= set(
            vars(connection.envelope)
        )
