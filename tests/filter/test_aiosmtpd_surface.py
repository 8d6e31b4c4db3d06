"""The private members of aiosmtpd's SMTP class that FilterSMTP and LMTP rely on.

setup.cfg pins aiosmtpd below the next minor release; this test says what to check
before moving the bound: each member still exists with the same shape and meaning.
"""

from __future__ import annotations

import asyncio
import inspect

from aiosmtpd.smtp import MISSING, SMTP

from webcrypt.lmtp import LMTP
from webcrypt.smtpserver import FilterSMTP


def test_the_private_members_we_override_or_call_keep_their_signatures() -> None:
    shapes = {
        "_getaddr": (["self", "arg"], False),
        "_set_post_data_state": (["self"], False),
        "_call_handler_hook": (["self", "command", "args"], True),
        "check_helo_needed": (["self", "helo"], True),
        "check_auth_needed": (["self", "caller_method"], True),
        "push": (["self", "status"], True),
    }
    for name, (parameters, coroutine) in shapes.items():
        member = getattr(SMTP, name)
        assert list(inspect.signature(member).parameters) == parameters, name
        assert inspect.iscoroutinefunction(member) is coroutine, name
    source = inspect.getsource(SMTP)
    assert "self._reader =" in source and "self._writer =" in source
    assert MISSING is not None
    assert issubclass(FilterSMTP, SMTP) and issubclass(LMTP, SMTP)


def test_getaddr_still_splits_the_path_from_its_parameters() -> None:
    loop = asyncio.new_event_loop()
    try:
        server = SMTP(object(), loop=loop)
        assert server._getaddr("<kunde@example.com> SIZE=10") == ("kunde@example.com", "SIZE=10")
        assert server._getaddr("<>") == ("<>", "")
    finally:
        loop.close()
