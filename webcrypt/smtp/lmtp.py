"""LMTP with one DATA reply per recipient (RFC 2033 section 4.2) for aiosmtpd.

aiosmtpd's LMTP class answers DATA once, like SMTP; an MTA then applies that single reply to
every recipient. `PerRecipientReplies` fixes that with two small overrides:

* a ``handle_DATA`` hook may return a list with one reply per accepted recipient (in RCPT
  order); a plain string reply is repeated for each recipient;
* any final reply the server itself sends after ``354`` (message too big, an
  error turned into a reply) is likewise repeated once per recipient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, AnyStr

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP


class PerRecipientReplies(SMTP):
    """Mixin for an LMTP server class: one DATA reply per accepted recipient."""

    _replies_due = 0

    async def push(self, status: AnyStr) -> None:
        """Send a reply; during DATA a final reply goes out once per recipient."""
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else str(status)
        if text.startswith("354"):
            assert self.envelope is not None
            self._replies_due = len(self.envelope.rcpt_tos)
            await super().push(status)
            return
        due, self._replies_due = self._replies_due, 0
        for _ in range(max(1, due)):
            await super().push(status)

    async def _call_handler_hook(self, command: str, *args: Any) -> Any:
        status = await super()._call_handler_hook(command, *args)
        if command != "DATA" or isinstance(status, str) or not isinstance(status, Sequence):
            return status
        replies = per_recipient(status, self._replies_due)
        self._replies_due = 0
        for reply in replies[:-1]:
            await super().push(reply)
        # aiosmtpd's smtp_DATA pushes the hook's return value: the last recipient's reply.
        return replies[-1]


def per_recipient(replies: Sequence[str], count: int) -> list[str]:
    """Return exactly `count` replies: extra ones dropped, missing ones as a 451."""
    result = list(replies[:count])
    while len(result) < count:
        result.append("451 4.3.0 No status for this recipient; try again later")
    return result or ["451 4.3.0 No recipients; try again later"]


class PerRecipientLMTP(PerRecipientReplies, LMTP):
    """aiosmtpd's LMTP server with per-recipient DATA replies."""
