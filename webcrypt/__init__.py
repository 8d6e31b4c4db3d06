"""WebCrypt: a secure-mail gateway that seals outbound mail into secure.htm."""

__version__ = "0.1.0"
