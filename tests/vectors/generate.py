"""Regenerate the envelope test vectors in tests/vectors/v1/ (deterministic).

    python -m tests.vectors.generate          write the files
    python -m tests.vectors.generate --check  exit 1 if a file differs

Every case is built with a fixed clock and a seeded random source, so running
this again reproduces the files byte for byte.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from webcrypt.envelope import RecipientKey, SealedMessage, parse, seal
from webcrypt.envelope.armor import assemble, decode_lines, encode_block, locate

DIRECTORY = Path(__file__).resolve().parent / "v1"
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=30)
PORTAL = "https://secure.bank.example"
SENDER = "adviser@bank.example"
SMALL_CHUNKS = 64

MESSAGE = (
    b"From: Anna Adviser <adviser@bank.example>\r\n"
    b"To: kunde@mail.example\r\n"
    b"Subject: Ihr Kreditvertrag\r\n"
    b"Message-ID: <vector-1@bank.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Guten Tag,\r\n\r\nanbei wie besprochen Ihr Vertrag.\r\n\r\n"
    b"Mit freundlichen Gr\xc3\xbc\xc3\x9fen\r\n"
)


class SeededRandom:
    """A deterministic stand-in for os.urandom: SHA-256 in counter mode."""

    def __init__(self, seed: str) -> None:
        self._seed = seed.encode()
        self._counter = 0

    def __call__(self, size: int) -> bytes:
        out = b""
        while len(out) < size:
            out += hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
        return out[:size]


def _key(name: str, version: int) -> RecipientKey:
    material = hashlib.sha256(f"key:{name}:{version}".encode()).digest()
    return RecipientKey(f"{name}@mail.example", f"k-{name}", version, material)


ALICE = _key("alice", 1)
ALICE_V2 = _key("alice", 2)
BOB = _key("bob", 1)


def _seal(
    message: bytes, recipients: list[RecipientKey], seed: str, chunk_size: int = 65536
) -> SealedMessage:
    return seal(
        message,
        recipients,
        sender=SENDER,
        message_id=f"<{seed}@bank.example>",
        portal_url=PORTAL,
        expires=EXPIRES,
        now=NOW,
        rng=SeededRandom(seed),
        chunk_size=chunk_size,
    )


def split(armored: str) -> tuple[bytes, bytes]:
    """Return the raw header and payload bytes of an armored envelope."""
    located = locate(armored)
    payload = b"".join(decode_lines(armored, located.payload_start, located.payload_end))
    return located.header, payload


def rearm(header: bytes, payload: bytes) -> str:
    """Armor raw header and payload bytes again."""
    return assemble(encode_block(header), encode_block(payload))


def flip_bit(data: bytes, offset: int) -> bytes:
    """Return `data` with the lowest bit of byte `offset` flipped."""
    return data[:offset] + bytes([data[offset] ^ 1]) + data[offset + 1 :]


def _chunks(payload: bytes) -> list[bytes]:
    size = SMALL_CHUNKS + 16
    return [payload[i : i + size] for i in range(0, len(payload), size)]


def _header_json(armored: str) -> dict[str, object] | None:
    try:
        header = parse(armored).header
    except Exception:
        return None
    fields = dict(header.__dict__)
    fields["created"] = header.created.isoformat()
    fields["expires"] = header.expires.isoformat()
    return fields


def _case(
    name: str, description: str, armored: str, key: bytes, expect: str, message: bytes | None
) -> tuple[str, str]:
    case: dict[str, object] = {
        "name": name,
        "description": description,
        "armored": armored,
        "key": key.hex(),
        "expect": expect,
    }
    header = _header_json(armored)
    if header is not None:
        case["header"] = header
    if message is not None:
        case["message"] = base64.b64encode(message).decode("ascii")
    return f"{name}.json", json.dumps(case, indent=2, ensure_ascii=True) + "\n"


def build() -> dict[str, str]:
    """Build every vector file: file name -> content."""
    simple = _seal(MESSAGE, [ALICE], "simple").armored(ALICE.address)
    noise = SeededRandom("noise")(200)
    multi = _seal(noise, [ALICE], "multi", SMALL_CHUNKS).armored(ALICE.address)
    other = _seal(noise[::-1], [ALICE], "other", SMALL_CHUNKS).armored(ALICE.address)
    both = _seal(MESSAGE, [ALICE, BOB], "both")
    rotated = _seal(MESSAGE, [ALICE_V2], "rotated").armored(ALICE_V2.address)
    header, payload = split(simple)
    multi_header, multi_payload = split(multi)
    chunks = _chunks(multi_payload)
    sender_offset = header.index(SENDER.encode())
    unknown = header[:8] + b"\x02" + header[9:]

    cases: list[tuple[str, str, str, bytes, str, bytes | None]] = [
        ("ok-simple", "A small mail message.", simple, ALICE.key, "ok", MESSAGE),
        (
            "ok-empty",
            "An empty message.",
            _seal(b"", [ALICE], "empty").armored(ALICE.address),
            ALICE.key,
            "ok",
            b"",
        ),
        (
            "ok-multichunk",
            "An incompressible message in 64-byte chunks.",
            multi,
            ALICE.key,
            "ok",
            noise,
        ),
        (
            "ok-crlf",
            "Line ends changed to CRLF, as an HTML form posts them.",
            simple.replace("\n", "\r\n"),
            ALICE.key,
            "ok",
            MESSAGE,
        ),
        (
            "ok-second-recipient",
            "The same message opened by its second recipient.",
            both.armored(BOB.address),
            BOB.key,
            "ok",
            MESSAGE,
        ),
        (
            "header-bitflip",
            "One bit of the sender address in the header flipped.",
            rearm(flip_bit(header, sender_offset), payload),
            ALICE.key,
            "DecryptionError",
            None,
        ),
        (
            "chunk-bitflip",
            "One bit of the second payload chunk flipped.",
            rearm(multi_header, flip_bit(multi_payload, SMALL_CHUNKS + 16 + 5)),
            ALICE.key,
            "DecryptionError",
            None,
        ),
        (
            "truncated",
            "The last payload chunk dropped.",
            rearm(multi_header, b"".join(chunks[:-1])),
            ALICE.key,
            "DecryptionError",
            None,
        ),
        (
            "chunks-swapped",
            "The first two payload chunks swapped.",
            rearm(multi_header, b"".join([chunks[1], chunks[0], *chunks[2:]])),
            ALICE.key,
            "DecryptionError",
            None,
        ),
        (
            "payload-spliced",
            "The payload of another message under this message's header.",
            rearm(multi_header, split(other)[1]),
            ALICE.key,
            "DecryptionError",
            None,
        ),
        (
            "wrong-key-version",
            "Sealed for key version 2, opened with version 1.",
            rotated,
            ALICE.key,
            "DecryptionError",
            None,
        ),
        (
            "other-recipient-key",
            "Alice's envelope opened with Bob's key.",
            both.armored(ALICE.address),
            BOB.key,
            "DecryptionError",
            None,
        ),
        (
            "unknown-version",
            "The format version byte set to 2.",
            rearm(unknown, payload),
            ALICE.key,
            "EnvelopeFormatError",
            None,
        ),
        (
            "not-an-envelope",
            "Plain text without armor.",
            "Hello, this is not an envelope.\n",
            ALICE.key,
            "EnvelopeFormatError",
            None,
        ),
        (
            "armor-cut-off",
            "The armored text cut off in the middle of the payload.",
            simple[: len(simple) * 2 // 3],
            ALICE.key,
            "EnvelopeFormatError",
            None,
        ),
    ]
    return dict(_case(*case) for case in cases)


def main(argv: list[str] | None = None, write: Callable[[Path, str], None] | None = None) -> int:
    """Write the vector files, or with --check report whether they are current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    files = build()
    if args.check:
        stale = [
            name
            for name, text in files.items()
            if not (DIRECTORY / name).exists()
            or (DIRECTORY / name).read_bytes() != text.encode("ascii")
        ]
        for name in stale:
            print(f"stale: {name}", file=sys.stderr)
        return 1 if stale else 0
    DIRECTORY.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (DIRECTORY / name).write_bytes(text.encode("ascii"))
    print(f"wrote {len(files)} vectors to {DIRECTORY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
