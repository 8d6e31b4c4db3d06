"""Errors of the envelope format, with messages written for the person who reads them."""

from __future__ import annotations


class EnvelopeError(Exception):
    """Base class of every envelope error."""


class EnvelopeFormatError(EnvelopeError):
    """The text is not an envelope, has an unknown version, or cannot be parsed."""


class DecryptionError(EnvelopeError):
    """The envelope cannot be opened with this key; deliberately says nothing more."""

    def __init__(self) -> None:
        super().__init__(
            "The message cannot be decrypted: it was changed or damaged, "
            "or it is not meant for this key."
        )


class MessageTooLarge(DecryptionError):
    """The message is larger than this installation opens (declared, or once decompressed)."""

    def __init__(self) -> None:
        EnvelopeError.__init__(
            self,
            "The secure message is larger than this portal can open. "
            "Please ask the sender to send it in smaller parts.",
        )


NOT_AN_ENVELOPE = "This is not a WebCrypt secure message."
INCOMPLETE = (
    "The secure message is incomplete; the file was probably cut off. "
    "Please ask the sender to send it again."
)
MALFORMED = (
    "The secure message is damaged and cannot be read. Please ask the sender to send it again."
)


def unknown_version(version: int) -> str:
    """Describe an envelope made by a format version this code does not implement."""
    return (
        f"This secure message uses format version {version}, which this WebCrypt "
        "installation cannot read. It was probably made by a newer version."
    )
