"""aiosmtpd's SMTP server class, made fit for a content filter that sees every outbound mail.

`FilterSMTP` changes four things about aiosmtpd's `SMTP`:

* DATA is read in large pieces (`read_data`) instead of one line at a time. aiosmtpd's loop
  costs a few microseconds of Python per line, which for a 20 KB mail is as much as the
  filter's own work and for a 2 MB attachment (27,000 lines) tens of milliseconds;
* MAIL FROM and RCPT TO with a plain ``<local@domain>`` path skip the RFC 5322 header parser
  (`plain_path`); anything else still goes through aiosmtpd's parser;
* each DATA transaction waits for a slot (the server holds whole messages in memory), and an
  unexpected error during it becomes a 451, never aiosmtpd's 500, which makes an MTA bounce;
* the size refusal says, in words, how big a message may be.

`FilterLMTP` adds LMTP's one DATA reply per recipient (RFC 2033 section 4.2): aiosmtpd's
LMTP class answers DATA once, like SMTP, and an MTA then applies that single reply to every
recipient.

This is the one module that touches aiosmtpd below its public API: the members named in
`AIOSMTPD_PRIVATE`, which ``tests/filter/test_aiosmtpd_surface.py`` checks one by one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from typing import Any, AnyStr, Protocol

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from webcrypt.mail.message import DOT_ATOM

AIOSMTPD_PRIVATE = ("_getaddr", "_set_post_data_state", "_reader")
"""aiosmtpd's private members used here: `FilterSMTP` overrides ``SMTP._getaddr`` (and calls
it), calls ``SMTP._set_post_data_state`` after DATA and reads DATA from ``SMTP._reader``."""

LINE_LIMIT = 1024 * 1024
"""Longest command line, and the piece size while reading DATA (which has no line limit)."""

END_OF_DATA = b"\r\n.\r\n"
FINAL_LINE = b".\r\n"

# A dot-atom at a dot-atom domain in angle brackets, then blanks and the ESMTP parameters, if
# any (a comment or other white space after the path is left to the full parser).
_PLAIN_PATH = re.compile(rf"[ \t]*<({DOT_ATOM}@{DOT_ATOM})>(?:[ \t]+(?=[^\s(])|\Z)")


def size_reply(limit: int) -> str:
    """The 552 reply for a message over the size limit."""
    unit, scale = ("MB", 1024 * 1024) if limit >= 1024 * 1024 else ("KB", 1024)
    shown = f"{limit / scale:.3g} {unit}"
    return (
        f"552 5.3.4 Message too big: this gateway accepts at most {shown} "
        f"({limit} bytes) including attachments; send large files another way"
    )


def plain_path(arg: str) -> tuple[str, str] | None:
    """Split ``<local@domain> PARAMS`` into the address and the rest, as aiosmtpd's parser does.

    None when the path is anything but a plain dot-atom address (a quoted local part,
    comments, a domain literal, no brackets, the null path): those take the full parser.
    """
    match = _PLAIN_PATH.match(arg)
    if match is None:
        return None
    return match.group(1), arg[match.end() :]


def unstuff(data: bytes) -> bytes:
    """Undo dot-stuffing (RFC 5321 section 4.5.2): drop the first dot of every line."""
    if data.startswith(b"."):
        data = data[1:]
    if b"\r\n." in data:
        data = data.replace(b"\r\n.", b"\r\n")
    return data


def _pending_end(tail: bytes) -> int:
    """How many bytes would complete an end of data that `tail` ends with the start of."""
    for begun in range(len(END_OF_DATA) - 1, 0, -1):
        if tail.endswith(END_OF_DATA[:begun]):
            return len(END_OF_DATA) - begun
    return 0


async def read_data(reader: asyncio.StreamReader, limit: int | None) -> bytes | None:
    """Read the message of one DATA command; return it unstuffed, or None if over `limit`.

    The reader's buffer is searched for CRLF "." CRLF, so a message costs a few calls
    whatever its number of lines. An end that may have begun in the bytes already read
    (an empty message, a one-character last line, a piece cut after a line end) is
    finished with exact reads of the few bytes it still needs, which are always on their
    way, instead of a search that would wait for an end already half consumed.

    The size is counted the way aiosmtpd counts it: every byte sent before the final
    ``.`` line, dot-stuffing included. A message over the limit is still read to its end
    (RFC 5321 section 4.2.5), without keeping it, so that the connection stays usable.
    Raises `asyncio.IncompleteReadError` when the client goes away before the end.
    """
    pieces: list[bytes] = []
    size = 0
    tail = b"\r\n"  # the last bytes read; the DATA command line ended with CRLF
    while not tail.endswith(END_OF_DATA):
        pending = _pending_end(tail)
        try:
            if pending:
                piece = await reader.readexactly(pending)
            else:
                piece = await reader.readuntil(END_OF_DATA)
        except asyncio.LimitOverrunError as overrun:  # a long stretch without the end
            piece = await reader.readexactly(overrun.consumed)
        size += len(piece)
        if limit and size > limit + len(FINAL_LINE):
            pieces.clear()  # over the limit whatever follows: keep nothing
        else:
            pieces.append(piece)
        tail = (tail + piece[-len(END_OF_DATA) :])[-len(END_OF_DATA) :]
    size -= len(FINAL_LINE)
    if limit and size > limit:
        return None
    # Drop the final line from the last pieces (at most the reader's limit long), so that
    # the message is copied once, by the join.
    cut = len(FINAL_LINE)
    while cut:
        last = pieces.pop()
        if len(last) > cut:
            pieces.append(last[:-cut])
            cut = 0
        else:
            cut -= len(last)
    return unstuff(b"".join(pieces))


class TransactionHandler(Protocol):
    """What the server classes need of their handler besides aiosmtpd's hooks."""

    gate: asyncio.Semaphore | None
    gate_wait: float
    busy: int

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str | list[str]:
        """Deliver a message; one reply, or one per recipient (LMTP)."""

    async def handle_exception(self, error: Exception) -> str:
        """Turn an unexpected error into a reply."""


def per_recipient(replies: Sequence[str], count: int) -> list[str]:
    """Return exactly `count` replies: extra ones dropped, missing ones as a 451."""
    result = list(replies[:count])
    while len(result) < count:
        result.append("451 4.3.0 No status for this recipient; try again later")
    return result or ["451 4.3.0 No recipients; try again later"]


class FilterSMTP(SMTP):
    """aiosmtpd's SMTP with bulk DATA, fast paths, bounded transactions and no stray 500s."""

    line_length_limit = LINE_LIMIT

    def __init__(self, handler: TransactionHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.filter = handler

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """Parse the path of MAIL FROM / RCPT TO; plain addresses without the header parser."""
        parsed = plain_path(arg)
        if parsed is None:
            return super()._getaddr(arg)
        address, rest = parsed
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, rest

    async def smtp_DATA(self, arg: str) -> None:
        """Receive and process DATA with a transaction slot; never leave a 500 behind."""
        gate = self.filter.gate
        assert gate is not None
        try:
            if gate.locked():  # wait_for costs a task per call: only when a wait is due
                await asyncio.wait_for(gate.acquire(), self.filter.gate_wait)
            else:
                await gate.acquire()
        except TimeoutError:
            await self.push("451 4.3.2 Too busy right now; try again later")
            self._set_post_data_state()
            return
        self.filter.busy += 1
        try:
            await self._data(arg)
        except (asyncio.CancelledError, ConnectionError):
            raise
        except Exception as exc:  # anything unexpected: 451, and a clean transaction state
            await self.push(await self.filter.handle_exception(exc))
            self._set_post_data_state()
        finally:
            self.filter.busy -= 1
            gate.release()

    def _set_post_data_state(self) -> None:
        """Forget the envelope after DATA: aiosmtpd's own reset, here with annotations."""
        reset: Callable[[], None] = super()._set_post_data_state
        reset()

    async def _data(self, arg: str) -> None:
        """aiosmtpd's DATA command, with the message read by `read_data`."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            content = await read_data(self._reader, self.data_size_limit)
        except asyncio.IncompleteReadError:  # the client went away mid-message
            self.hang_up()
            return
        except asyncio.CancelledError:  # aiosmtpd cancels the session when the peer resets
            self.hang_up()
            raise
        if content is None:
            await self.push(size_reply(self.data_size_limit or 0))
            self._set_post_data_state()
            return
        self.envelope.content = self.envelope.original_content = content
        assert self.session is not None
        status = await self.filter.handle_DATA(self, self.session, self.envelope)
        self._set_post_data_state()
        await self.push_data_reply(status)

    def hang_up(self) -> None:
        """Close the connection."""
        if self.transport is not None:
            self.transport.close()

    async def push_data_reply(self, status: str | list[str]) -> None:
        """Send the handler's reply to DATA (over SMTP, one string)."""
        if not isinstance(status, str):
            raise TypeError("over SMTP the DATA hook must answer with one reply")
        await self.push(status)

    async def push(self, status: AnyStr) -> None:
        """Send a reply, replacing aiosmtpd's terse size replies with readable ones."""
        if isinstance(status, str) and status.startswith("552 Error:"):
            status = size_reply(self.data_size_limit or 0)
        await super().push(status)


class FilterLMTP(LMTP, FilterSMTP):
    """The filter over LMTP: one DATA reply per accepted recipient, in RCPT order.

    The handler may answer DATA with a list of replies, one per recipient; a plain string
    reply, and any final reply the server itself sends after ``354`` (message too big, an
    error turned into a reply), is repeated once per recipient.
    """

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

    async def push_data_reply(self, status: str | list[str]) -> None:
        """Send the handler's replies to DATA, exactly one per accepted recipient."""
        if isinstance(status, str):
            await self.push(status)
            return
        replies = per_recipient(status, self._replies_due)
        self._replies_due = 0
        for reply in replies:
            await super().push(reply)
