"""Small valid images for logo and branding tests."""

from __future__ import annotations

import struct
import zlib


def png(width: int, height: int, row: bytes, *, rgb: bool = False) -> bytes:
    """A valid 8-bit PNG of `height` equal rows of pixels `row` (greyscale, or RGB when `rgb`)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2 if rgb else 0, 0, 0, 0)
    pixels = (b"\x00" + row) * height  # filter type 0 before each row
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )
