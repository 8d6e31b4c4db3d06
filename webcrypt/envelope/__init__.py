"""The WebCrypt envelope: seal a message once for many recipients, parse and open it.

Pure functions on bytes and text, with injectable time and randomness; the
format is specified in docs/envelope-format.md.
"""

from .errors import DecryptionError, EnvelopeError, EnvelopeFormatError
from .header import DEFAULT_CHUNK_SIZE, VERSION, Header
from .opening import Envelope, is_expired, open, parse
from .sealing import RecipientKey, SealedMessage, seal

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "VERSION",
    "DecryptionError",
    "Envelope",
    "EnvelopeError",
    "EnvelopeFormatError",
    "Header",
    "RecipientKey",
    "SealedMessage",
    "is_expired",
    "open",
    "parse",
    "seal",
]
