"""The WebCrypt envelope: seal a message once for many recipients, parse and open it.

Pure functions on bytes and text, with injectable time and randomness; the
format is specified in docs/envelope-format.md. Imports nothing of ours.
"""

from .errors import DecryptionError, EnvelopeError, EnvelopeFormatError, MessageTooLarge
from .header import DEFAULT_CHUNK_SIZE, VERSION, Header
from .opening import DEFAULT_MAX_SIZE, Envelope, is_expired, open, parse
from .sealing import RecipientKey, SealedMessage, seal

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MAX_SIZE",
    "VERSION",
    "DecryptionError",
    "Envelope",
    "EnvelopeError",
    "EnvelopeFormatError",
    "Header",
    "MessageTooLarge",
    "RecipientKey",
    "SealedMessage",
    "is_expired",
    "open",
    "parse",
    "seal",
]
