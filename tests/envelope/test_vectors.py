"""The JSON test vectors: each case behaves as recorded, and regeneration reproduces them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.vectors import generate
from webcrypt.envelope import DecryptionError, EnvelopeFormatError, open, parse

VECTORS = sorted(generate.DIRECTORY.glob("*.json"))
REQUIRED = {
    "ok-simple",
    "header-bitflip",
    "chunk-bitflip",
    "truncated",
    "chunks-swapped",
    "wrong-key-version",
    "other-recipient-key",
    "unknown-version",
    "not-an-envelope",
}


def test_every_required_case_is_present() -> None:
    assert {path.stem for path in VECTORS} >= REQUIRED


@pytest.mark.parametrize("path", VECTORS, ids=lambda path: path.stem)
def test_vector(path: Path) -> None:
    case = json.loads(path.read_text("ascii"))
    key = bytes.fromhex(case["key"])
    if case["expect"] == "EnvelopeFormatError":
        with pytest.raises(EnvelopeFormatError):
            parse(case["armored"])
        return
    envelope = parse(case["armored"])
    header = case["header"]
    assert envelope.header.recipient == header["recipient"]
    assert envelope.header.key_version == header["key_version"]
    assert envelope.header.created.isoformat() == header["created"]
    if case["expect"] == "ok":
        assert open(envelope, key) == base64.b64decode(case["message"])
    else:
        assert case["expect"] == "DecryptionError"
        with pytest.raises(DecryptionError) as caught:
            open(envelope, key)
        assert caught.value.__cause__ is None


def test_wrong_key_version_is_visible_in_the_header() -> None:
    case = json.loads((generate.DIRECTORY / "wrong-key-version.json").read_text("ascii"))
    assert parse(case["armored"]).header.key_version == 2


def test_regeneration_reproduces_the_files_byte_for_byte() -> None:
    files = generate.build()
    assert set(files) == {path.name for path in VECTORS}
    for name, text in files.items():
        assert (generate.DIRECTORY / name).read_bytes() == text.encode("ascii"), name


def test_check_mode_reports_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "DIRECTORY", tmp_path)
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0
    (tmp_path / "ok-simple.json").write_text("{}\n")
    assert generate.main(["--check"]) == 1
