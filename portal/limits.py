"""Request size limits derived from the largest message the gateway accepts."""

from __future__ import annotations

MEGABYTE = 1024 * 1024
DEFAULT_MAX_MESSAGE_SIZE = 10 * MEGABYTE


def size_limits(max_message_size: int) -> tuple[int, int]:
    """Return (max request body, max text field) in bytes for `max_message_size`.

    A sealed message travels as wrapped base64 text: about 1.4x the message as a
    multipart field and 1.6x when a browser urlencodes it. The request body must also hold
    a reply carrying that envelope plus attachments up to the message limit, or a saved
    .eml whose secure.htm was base64-encoded once more by a mail program.
    """
    text_field = int(max_message_size * 1.75) + MEGABYTE
    body = int(max_message_size * 2.6) + MEGABYTE
    return body, text_field
