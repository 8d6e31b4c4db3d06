"""Errors of the mail side whose messages are written for the operator who reads them."""


class WebcryptError(Exception):
    """Something the operator must fix; the message says what happened and what to do."""
