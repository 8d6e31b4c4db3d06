"""Errors of the mail side whose messages are written for a person: the operator who reads
them (`WebcryptError`) or the sender a refusal goes back to (`ContentError`)."""

from __future__ import annotations


class WebcryptError(Exception):
    """Something the operator must fix; the message says what happened and what to do."""


class ContentError(Exception):
    """The gateway cannot handle a message because of what it contains: a retry cannot help.

    The text is the reason for the sender; the filter answers with a 5xx that carries it.
    """

    cause = "content"

    @classmethod
    def from_exception(cls, error: BaseException) -> ContentError:
        """The refusal for an unexpected error while working on a message's content."""
        return cls(
            "The gateway cannot encrypt this message: part of its content could not be "
            f"processed ({type(error).__name__}). It was not sent; please tell your "
            "administrator."
        )
