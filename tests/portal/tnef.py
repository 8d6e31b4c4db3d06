"""Build a small winmail.dat (TNEF) with attachments, as Outlook sends them."""

from __future__ import annotations

import struct

SIGNATURE = 0x223E9F78
LVL_MESSAGE, LVL_ATTACHMENT = 1, 2
ATT_TNEF_VERSION = 0x00089006
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010
ATT_ATTACH_DATA = 0x0006800F


def _attribute(level: int, attribute: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BII", level, attribute, len(data)) + data + struct.pack("<H", checksum)


def build_tnef(files: list[tuple[str, bytes]]) -> bytes:
    """Return TNEF bytes carrying `files` (name, content)."""
    out = struct.pack("<IH", SIGNATURE, 0x0001)
    out += _attribute(LVL_MESSAGE, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000))
    for name, content in files:
        out += _attribute(LVL_ATTACHMENT, ATT_ATTACH_REND_DATA, b"\x01\x00" + b"\x00" * 12)
        out += _attribute(LVL_ATTACHMENT, ATT_ATTACH_TITLE, name.encode("latin-1") + b"\x00")
        out += _attribute(LVL_ATTACHMENT, ATT_ATTACH_DATA, content)
    return out
